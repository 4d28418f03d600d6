package dev.tulip.sync;

import dev.tulip.Task;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.task.TaskCore;
import dev.tulip.internal.sync.LoopBinding;
import dev.tulip.internal.sync.WaitQueue;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * A mutual-exclusion lock for the tasks of one event loop: asyncio's {@code Lock}, with owner checks and strict
 * FIFO fairness.
 *
 * <pre>{@code
 * try (var held = lock.acquired()) {
 *     ... // one task at a time
 * }
 * }</pre>
 *
 * <p>Behaviour:
 * <ul>
 *   <li>Fair: tasks get the lock in the order they called {@link #acquire()}. {@link #release()} hands the lock
 *       directly to the first waiter, so a task arriving later cannot barge in between.</li>
 *   <li>Owned: the lock belongs to the task that acquired it (or, if acquired outside any task, to the loop's
 *       callbacks). Only the owner may release it: a release by another task, or of an unlocked lock, throws
 *       {@link IllegalStateException} (asyncio lets any code release; that hides bugs).</li>
 *   <li>Not reentrant: a task that holds the lock and calls {@link #acquire()} again gets an
 *       {@link IllegalStateException} at once instead of the silent deadlock asyncio gives.</li>
 *   <li>Cancellation-safe: a task cancelled while waiting in {@link #acquire()} leaves the queue and never takes the
 *       lock later; if the lock had already been handed to it when the cancellation arrived, it is passed on to the
 *       next waiter (or unlocked), never leaked.</li>
 * </ul>
 *
 * <p>Threading: loop thread only. The lock binds to the loop that first uses it; in debug mode, use from another
 * thread throws {@link IllegalStateException}. It coordinates tasks, not threads: it is not a
 * {@link java.util.concurrent.locks.Lock}.
 */
public final class Lock {
    /** Owner token for a lock acquired outside any task (by a callback on the loop thread). */
    private static final Object CALLBACKS = new Object() {
        @Override
        public String toString() {
            return "event loop callbacks";
        }
    };

    private final LoopBinding binding = new LoopBinding("Lock");
    /** Waiters for the lock; the attachment is the waiting task's owner token. Non-empty implies locked. */
    private final WaitQueue<Void> waiters = new WaitQueue<>();
    private final Held held = this::release;
    private final Consumer<Void> ungrant = granted -> passOn();
    /** The owner token (a task, or {@link #CALLBACKS}); null when unlocked. */
    private Object owner;

    /**
     * Statistics of a lock at one moment.
     *
     * @param locked  whether the lock is held
     * @param owner   the task holding the lock; null when unlocked, or when held by callbacks outside any task
     * @param waiting how many tasks wait in {@link #acquire()}
     */
    public record Statistics(boolean locked, Task<?> owner, int waiting) {
    }

    /** Creates an unlocked lock. Any thread (it binds to a loop on first use). */
    public Lock() {
    }

    /**
     * Acquires the lock, waiting if it is held. Waiting tasks get the lock in arrival order.
     *
     * <p>A cancellation point when it has to wait (when the lock is free it returns at once without suspending):
     * if the task is cancelled while waiting, this throws {@link CancellationException} and the task does not hold
     * the lock, now or later.
     *
     * @throws CancellationException if the task is cancelled while waiting
     * @throws IllegalStateException if the current task already holds the lock (it is not reentrant), or if it
     *                               must wait outside a task, off the loop thread, or on another loop
     */
    public void acquire() {
        TulipLoop loop = binding.check();
        Object me = ownerToken(loop);
        if (owner == null) {
            owner = me;
            return;
        }
        if (owner == me && me != CALLBACKS) {
            throw new IllegalStateException("Lock is not reentrant: " + me + " already holds it and would wait for "
                    + "itself forever");
        }
        loop = binding.forWaiting("acquire");
        WaitQueue.Waiter<Void> w = waiters.add(loop, ownerToken(loop));
        waiters.await(w, ungrant);
        // Granted: release() already made us the owner.
    }

    /**
     * Acquires the lock if it is free, without waiting. Never suspends.
     *
     * @return true if the current task (or callback) now holds the lock
     */
    public boolean tryAcquire() {
        TulipLoop loop = binding.check();
        if (owner != null) {
            return false;
        }
        owner = ownerToken(loop);
        return true;
    }

    /**
     * Acquires the lock (as {@link #acquire()}) and returns a handle whose {@code close()} releases it, for
     * try-with-resources. The handle is shared and allocation-free.
     *
     * <p>A cancellation point when it has to wait; on cancellation the lock is not held and the try block does not
     * run.
     *
     * @return the held lock
     * @throws CancellationException if the task is cancelled while waiting
     * @throws IllegalStateException as {@link #acquire()}
     */
    public Held acquired() {
        acquire();
        return held;
    }

    /**
     * Releases the lock. If tasks wait, the first one becomes the owner (it resumes later, through the loop).
     * Never suspends.
     *
     * @throws IllegalStateException if the lock is not locked, or is held by another task
     */
    public void release() {
        TulipLoop loop = binding.check();
        Object o = owner;
        if (o == null) {
            throw new IllegalStateException("release() of a Lock that is not locked");
        }
        Object me = ownerToken(loop);
        if (o != me) {
            throw new IllegalStateException("release() of a Lock held by " + o + " from " + me
                    + ": only the holder may release it");
        }
        passOn();
    }

    /**
     * Whether the lock is held. Never suspends.
     *
     * @return true if some task (or callback) holds the lock
     */
    public boolean isLocked() {
        binding.check();
        return owner != null;
    }

    /**
     * Whether the current task (or, outside a task, the loop's callbacks) holds the lock. Never suspends.
     *
     * @return true if the caller holds the lock
     */
    public boolean isHeldByCurrentTask() {
        TulipLoop loop = binding.check();
        return owner != null && owner == ownerToken(loop);
    }

    /**
     * A snapshot of the lock's state.
     *
     * @return the statistics
     */
    public Statistics statistics() {
        binding.check();
        return new Statistics(owner != null, owner instanceof TaskCore<?> t ? t.task() : null, waiters.size());
    }

    @Override
    public String toString() {
        return "Lock[" + (owner == null ? "unlocked" : "locked by " + owner)
                + (waiters.isEmpty() ? "" : ", waiters=" + waiters.size()) + "]";
    }

    /** Hands the lock to the first waiter, or unlocks it. Also used when a granted waiter was cancelled. */
    private void passOn() {
        WaitQueue.Waiter<Void> next = waiters.grantFirst(null);
        owner = next == null ? null : next.attachment();
    }

    /** For {@link Condition}: the lock is held by the caller (checked there), release without re-checking. */
    void releaseHeld() {
        passOn();
    }

    /** Who is calling: the current task, or {@link #CALLBACKS} outside tasks (or before any loop is bound). */
    static Object ownerToken(TulipLoop loop) {
        Object task = loop == null ? null : loop.currentTask();
        return task == null ? CALLBACKS : task;
    }
}
