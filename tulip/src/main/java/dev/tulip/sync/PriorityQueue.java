package dev.tulip.sync;

import dev.tulip.internal.sync.ItemStore;
import java.util.Comparator;
import java.util.Objects;

/**
 * A {@link Queue} that returns the lowest item first (by natural order or a comparator): asyncio's
 * {@code PriorityQueue}. Items that compare equal come out in the order they were put (asyncio leaves that order
 * undefined). An item given back by a cancelled getter is the next out among its equals.
 *
 * <p>Everything else (bounds, fairness, cancellation, join, shutdown) is {@link Queue}'s. Threading: loop thread
 * only.
 *
 * @param <E> the item type
 */
public final class PriorityQueue<E> extends Queue<E> {

    /** Creates an unbounded priority queue of {@link Comparable} items, lowest first. Any thread. */
    public PriorityQueue() {
        this(0);
    }

    /**
     * Creates a priority queue of {@link Comparable} items holding at most {@code maxsize} (0: unbounded). Any
     * thread.
     *
     * @param maxsize the bound, or 0 for none
     * @throws IllegalArgumentException if maxsize is negative
     */
    public PriorityQueue(int maxsize) {
        super(maxsize, ItemStore.priority(null), "PriorityQueue");
    }

    /**
     * Creates a priority queue ordered by {@code comparator}, lowest first, holding at most {@code maxsize}
     * (0: unbounded). Any thread.
     *
     * @param maxsize    the bound, or 0 for none
     * @param comparator the order
     * @throws IllegalArgumentException if maxsize is negative
     * @throws NullPointerException     if comparator is null
     */
    public PriorityQueue(int maxsize, Comparator<? super E> comparator) {
        super(maxsize, ItemStore.priority(Objects.requireNonNull(comparator, "comparator")), "PriorityQueue");
    }
}
