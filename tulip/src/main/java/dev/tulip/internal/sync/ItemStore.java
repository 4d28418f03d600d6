package dev.tulip.internal.sync;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Where a {@link dev.tulip.sync.Queue} keeps its items: the one thing FIFO, LIFO and priority queues do differently.
 *
 * <p>Loop thread only. Items are never null (the queue rejects null).
 *
 * @param <E> the item type
 */
public sealed interface ItemStore<E> {

    /** Number of items stored. */
    int size();

    /** Stores a newly put item. */
    void add(E item);

    /** Stores an item given back by a getter cancelled after it was handed the item: it is the next one out. */
    void addReturned(E item);

    /** Removes and returns the next item; the store is not empty. */
    E remove();

    /** Fails fast on an item this store cannot order (before it is handed to anyone). */
    default void validate(E item) {
    }

    /** First in, first out. */
    static <E> ItemStore<E> fifo() {
        return new Fifo<>();
    }

    /** Last in, first out. */
    static <E> ItemStore<E> lifo() {
        return new Lifo<>();
    }

    /** Lowest first by {@code comparator} (natural order if null); equal items come out in insertion order. */
    static <E> ItemStore<E> priority(Comparator<? super E> comparator) {
        return new Heap<>(comparator);
    }

    /** An {@link ArrayDeque} used as a queue. */
    final class Fifo<E> implements ItemStore<E> {
        private final ArrayDeque<E> items = new ArrayDeque<>();

        @Override
        public int size() {
            return items.size();
        }

        @Override
        public void add(E item) {
            items.addLast(item);
        }

        @Override
        public void addReturned(E item) {
            items.addFirst(item); // it was the oldest when handed out
        }

        @Override
        public E remove() {
            return items.pollFirst();
        }

        @Override
        public String toString() {
            return items.toString();
        }
    }

    /** An {@link ArrayDeque} used as a stack. */
    final class Lifo<E> implements ItemStore<E> {
        private final ArrayDeque<E> items = new ArrayDeque<>();

        @Override
        public int size() {
            return items.size();
        }

        @Override
        public void add(E item) {
            items.addLast(item);
        }

        @Override
        public void addReturned(E item) {
            items.addLast(item); // back on top: the next one out, as a returned item is in every store
        }

        @Override
        public E remove() {
            return items.pollLast();
        }

        @Override
        public String toString() {
            return items.toString();
        }
    }

    /**
     * A binary min-heap ordered by (comparator, sequence number), so equal items keep insertion order (asyncio's
     * heapq-based queue gives no such guarantee). Returned items get decreasing negative sequence numbers: first
     * among their equals. No allocation per item beyond array growth.
     */
    final class Heap<E> implements ItemStore<E> {
        private final Comparator<? super E> comparator;
        private Object[] items = new Object[16];
        private long[] seqs = new long[16];
        private int size;
        private long nextSeq;
        private long nextReturnedSeq = -1;

        Heap(Comparator<? super E> comparator) {
            this.comparator = comparator;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public void validate(E item) {
            if (comparator == null && !(item instanceof Comparable)) {
                throw new ClassCastException("PriorityQueue without a comparator needs Comparable items: "
                        + item.getClass().getName() + " is not Comparable");
            }
        }

        @Override
        public void add(E item) {
            insert(item, nextSeq++);
        }

        @Override
        public void addReturned(E item) {
            insert(item, nextReturnedSeq--);
        }

        @Override
        @SuppressWarnings("unchecked")
        public E remove() {
            E top = (E) items[0];
            int last = --size;
            Object moved = items[last];
            long movedSeq = seqs[last];
            items[last] = null;
            if (last > 0) {
                siftDown(0, moved, movedSeq);
            }
            return top;
        }

        private void insert(E item, long seq) {
            if (size == items.length) {
                int n = size * 2;
                items = Arrays.copyOf(items, n);
                seqs = Arrays.copyOf(seqs, n);
            }
            siftUp(size++, item, seq);
        }

        private void siftUp(int k, Object x, long xs) {
            while (k > 0) {
                int parent = (k - 1) >>> 1;
                if (less(items[parent], seqs[parent], x, xs)) {
                    break;
                }
                items[k] = items[parent];
                seqs[k] = seqs[parent];
                k = parent;
            }
            items[k] = x;
            seqs[k] = xs;
        }

        private void siftDown(int k, Object x, long xs) {
            int half = size >>> 1;
            while (k < half) {
                int child = 2 * k + 1;
                int right = child + 1;
                if (right < size && less(items[right], seqs[right], items[child], seqs[child])) {
                    child = right;
                }
                if (less(x, xs, items[child], seqs[child])) {
                    break;
                }
                items[k] = items[child];
                seqs[k] = seqs[child];
                k = child;
            }
            items[k] = x;
            seqs[k] = xs;
        }

        @SuppressWarnings("unchecked")
        private boolean less(Object a, long as, Object b, long bs) {
            int c = comparator != null ? comparator.compare((E) a, (E) b) : ((Comparable<Object>) a).compareTo(b);
            return c < 0 || (c == 0 && as < bs);
        }

        @Override
        public String toString() {
            return Arrays.toString(Arrays.copyOf(items, size));
        }
    }
}
