package dev.tulip.sync;

import dev.tulip.internal.sync.ItemStore;

/**
 * A {@link Queue} that returns the most recently put item first (a stack): asyncio's {@code LifoQueue}. An item
 * given back by a cancelled getter goes back on top.
 *
 * <p>Everything else (bounds, fairness, cancellation, join, shutdown) is {@link Queue}'s. Threading: loop thread
 * only.
 *
 * @param <E> the item type
 */
public final class LifoQueue<E> extends Queue<E> {

    /** Creates an unbounded LIFO queue. Any thread. */
    public LifoQueue() {
        this(0);
    }

    /**
     * Creates a LIFO queue holding at most {@code maxsize} items (0: unbounded). Any thread.
     *
     * @param maxsize the bound, or 0 for none
     * @throws IllegalArgumentException if maxsize is negative
     */
    public LifoQueue(int maxsize) {
        super(maxsize, ItemStore.lifo(), "LifoQueue");
    }
}
