package dev.tulip.internal.loop;

import java.util.Arrays;

/**
 * The loop's timers: a binary min-heap ordered by (due time, scheduling sequence).
 *
 * <p>Cancelled timers stay in the heap until they reach the top or until a compaction: {@link #compactIfMostlyCancelled}
 * rebuilds the heap without them once more than half of it is cancelled (and at least {@value #MIN_COMPACT}), so
 * scheduling and cancelling any number of timers keeps the heap within twice the live timers. Compaction is O(n)
 * and happens at most once per n/2 cancellations: amortized O(1) per cancel. Timers cancelled through their scope
 * are not counted one by one; a scope cancellation requests a purge, done once the heap has changed by half its
 * size since the last compaction (again amortized O(1) per timer).
 *
 * <p>Loop thread only.
 */
final class TimerHeap {
    static final int MIN_COMPACT = 256;
    private TimerCallback[] heap = new TimerCallback[64];
    private int size;
    /** Cancelled timers still in the heap (an upper bound once scopes are cancelled, see purgeRequested). */
    private int cancelled;
    /**
     * Set when a scope was cancelled: its timers are cancelled without being counted. The purge waits until the heap
     * changed by at least half its size since the last compaction, so that frequent scope cancellations (a timeout
     * scope per request) cost amortized O(1) per timer instead of O(heap) each.
     */
    boolean purgeRequested;
    /** Adds and removals since the last compaction. */
    private int changes;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(TimerCallback h) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        h.inHeap = true;
        changes++;
        siftUp(size++, h);
    }

    /** Head of the heap, dropping cancelled timers found there; null if none. */
    TimerCallback peekLive() {
        while (size > 0) {
            TimerCallback top = heap[0];
            if (!top.isCancelled()) {
                return top;
            }
            if (top.cancelled) {
                cancelled--;
            }
            removeTop();
        }
        return null;
    }

    TimerCallback removeTop() {
        TimerCallback top = heap[0];
        top.inHeap = false;
        changes++;
        TimerCallback last = heap[--size];
        heap[size] = null;
        if (size > 0) {
            siftDown(0, last);
        }
        return top;
    }

    void onCancel() {
        cancelled++;
        compactIfMostlyCancelled();
    }

    void compactIfMostlyCancelled() {
        if ((purgeRequested && changes >= size >>> 1) || (cancelled >= MIN_COMPACT && cancelled * 2 > size)) {
            compact();
        }
    }

    private void compact() {
        int j = 0;
        for (int i = 0; i < size; i++) {
            TimerCallback h = heap[i];
            if (h.isCancelled()) {
                h.inHeap = false;
            } else {
                heap[j++] = h;
            }
        }
        Arrays.fill(heap, j, size, null);
        size = j;
        cancelled = 0;
        changes = 0;
        purgeRequested = false;
        for (int i = (size >>> 1) - 1; i >= 0; i--) {
            siftDown(i, heap[i]);
        }
        if (heap.length > 64 && size < heap.length / 4) {
            heap = Arrays.copyOf(heap, Math.max(64, size * 2));
        }
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            heap[i].inHeap = false;
            heap[i] = null;
        }
        size = 0;
        cancelled = 0;
        changes = 0;
        purgeRequested = false;
    }

    private static boolean less(TimerCallback a, TimerCallback b) {
        return a.when < b.when || (a.when == b.when && a.seq < b.seq);
    }

    private void siftUp(int k, TimerCallback h) {
        while (k > 0) {
            int p = (k - 1) >>> 1;
            TimerCallback e = heap[p];
            if (!less(h, e)) {
                break;
            }
            heap[k] = e;
            k = p;
        }
        heap[k] = h;
    }

    private void siftDown(int k, TimerCallback h) {
        int half = size >>> 1;
        while (k < half) {
            int c = 2 * k + 1;
            TimerCallback cv = heap[c];
            int r = c + 1;
            if (r < size && less(heap[r], cv)) {
                c = r;
                cv = heap[c];
            }
            if (!less(cv, h)) {
                break;
            }
            heap[k] = cv;
            k = c;
        }
        heap[k] = h;
    }
}
