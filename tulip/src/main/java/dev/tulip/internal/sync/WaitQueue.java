package dev.tulip.internal.sync;

import dev.tulip.Future;
import dev.tulip.internal.loop.TulipLoop;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The one wait-queue mechanism behind every primitive of {@code dev.tulip.sync}: a FIFO of suspended tasks, each
 * waiting on its own {@link Waiter} future.
 *
 * <p>Design note. Wake-ups are <em>hand-offs</em>: the waker decides the outcome and completes the first waiter with
 * it ({@link #grantFirst}): the lock is already the waiter's, the item is already the getter's, the permit is
 * already taken. Nothing is left for a newcomer to steal between the wake-up and the moment the woken task runs, so
 * wake-up order is exactly arrival order (asyncio's primitives instead wake a waiter that then re-checks and may lose
 * the race, which is where their fairness and "lost wake-up" bugs came from).
 *
 * <p>Cancellation leaves no ghost. A waiter cancelled while queued unlinks itself at once ({@link Waiter#cancel}).
 * A waiter that was granted something and whose task is cancelled before it resumes gives the grant back through
 * the primitive's {@code ungrant} action in {@link #await}: the lock passes to the next waiter, the item returns to
 * the front of the queue or to the next getter. So a cancelled operation has no effect: a cancelled acquire never
 * holds the lock, a cancelled get never consumes an item.
 *
 * <p>Loop thread only. The queue is an intrusive doubly-linked list: adding and removing allocate nothing beyond the
 * waiter itself, and removal from the middle (cancellation) is O(1).
 *
 * @param <V> what a waiter is granted (an item, an index; Void for a plain wake-up)
 */
public final class WaitQueue<V> {
    private Waiter<V> head;
    private Waiter<V> tail;
    private int size;

    /** A queued task's wake-up future; its attachment is the primitive's per-waiter data (the owner task, ...). */
    public static final class Waiter<V> extends Future<V> {
        private final Object attachment;
        /** The queue this waiter is linked in; null once granted, failed, cancelled or removed. */
        private WaitQueue<V> queue;
        private Waiter<V> prev;
        private Waiter<V> next;
        /** True once completed by a grant (as opposed to a failure or a cancellation). */
        private boolean granted;

        Waiter(TulipLoop loop, WaitQueue<V> queue, Object attachment) {
            super(loop);
            this.queue = queue;
            this.attachment = attachment;
        }

        /** The primitive's data for this waiter. */
        public Object attachment() {
            return attachment;
        }

        /** Whether this waiter was granted (its value is its result). */
        public boolean isGranted() {
            return granted;
        }

        /** Cancelling a queued waiter (the task engine does it when the task is cancelled) unlinks it at once. */
        @Override
        public boolean cancel(String message) {
            boolean cancelled = super.cancel(message);
            if (cancelled && queue != null) {
                queue.unlink(this);
            }
            return cancelled;
        }
    }

    /** Number of queued waiters (cancelled ones are never counted: they unlink themselves). */
    public int size() {
        return size;
    }

    /** Whether no task waits. */
    public boolean isEmpty() {
        return size == 0;
    }

    /** The first waiter, or null. */
    public Waiter<V> peek() {
        return head;
    }

    /**
     * Appends a waiter for the current task.
     *
     * @param loop       the loop (from {@link LoopBinding#forWaiting})
     * @param attachment per-waiter data for the primitive, or null
     */
    public Waiter<V> add(TulipLoop loop, Object attachment) {
        Waiter<V> w = new Waiter<>(loop, this, attachment);
        Waiter<V> t = tail;
        w.prev = t;
        if (t == null) {
            head = w;
        } else {
            t.next = w;
        }
        tail = w;
        size++;
        return w;
    }

    /** Removes the first waiter and grants it {@code value}; returns it, or null if none waits. */
    public Waiter<V> grantFirst(V value) {
        Waiter<V> w = head;
        if (w != null) {
            unlink(w);
            w.granted = true;
            w.setResult(value);
        }
        return w;
    }

    /** Grants {@code value} to every waiter, in order; returns how many. */
    public int grantAll(V value) {
        int n = 0;
        while (grantFirst(value) != null) {
            n++;
        }
        return n;
    }

    /** Fails every waiter with a fresh exception from {@code failure} (one each: each task gets its own trace). */
    public int failAll(Supplier<? extends Throwable> failure) {
        int n = 0;
        for (Waiter<V> w; (w = head) != null; n++) {
            unlink(w);
            w.setException(failure.get());
        }
        return n;
    }

    /**
     * Suspends the current task on {@code w} (a cancellation point) and returns what it was granted.
     *
     * <p>If the wait ends by an exception (the task was cancelled, the loop is closing): a still-queued waiter is
     * removed, and a waiter that had already been granted hands its grant to {@code ungrant} so the primitive can
     * pass it on. Either way the exception propagates and the operation had no effect.
     *
     * @param w       a waiter returned by {@link #add}
     * @param ungrant gives back a grant the cancelled task will not use (receives the granted value)
     * @return the granted value
     * @throws CancellationException if the task was cancelled while waiting
     */
    public V await(Waiter<V> w, Consumer<? super V> ungrant) {
        try {
            return w.await();
        } catch (Throwable t) {
            if (w.queue == this) {
                // The engine normally cancels the awaited future (which unlinks it); be robust if it did not.
                unlink(w);
                w.cancel("waiting task was cancelled");
            } else if (w.granted) {
                // Granted, but the task was cancelled before it resumed: the grant must not be lost (a lock held
                // by nobody, an item consumed by nobody). Hand it back; the primitive passes it on in FIFO order.
                if (ungrant != null) {
                    ungrant.accept(w.result());
                }
            } else if (w.isDone() && !w.isCancelled() && w.exception() != t) {
                // Failed (shutdown, broken barrier) and then cancelled before it resumed: the failure is superseded
                // by the cancellation; reading it above keeps debug mode from reporting it as never retrieved.
                t.addSuppressed(w.exception());
            }
            throw t;
        }
    }

    private void unlink(Waiter<V> w) {
        Waiter<V> p = w.prev;
        Waiter<V> n = w.next;
        if (p == null) {
            head = n;
        } else {
            p.next = n;
        }
        if (n == null) {
            tail = p;
        } else {
            n.prev = p;
        }
        w.prev = null;
        w.next = null;
        w.queue = null;
        size--;
    }
}
