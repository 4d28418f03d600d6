package dev.tulip.sync;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.sync.LoopBinding;
import dev.tulip.internal.sync.WaitQueue;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A condition variable for the tasks of one event loop: asyncio's {@code Condition}, named as
 * {@link java.util.concurrent.locks.Condition} is ({@code await}/{@code signal}, because {@code wait} and
 * {@code notify} are taken by {@link Object}).
 *
 * <pre>{@code
 * try (var held = cond.acquired()) {
 *     cond.awaitUntil(() -> !buffer.isEmpty());
 *     use(buffer.poll());
 * }
 * }</pre>
 *
 * <p>A condition owns a {@link Lock} (its own, or one given to share between conditions). {@link #await()} releases
 * the lock, waits to be signalled, and re-acquires the lock before returning, <em>even when cancelled</em>, so the
 * code after it (and its {@code finally} blocks) always runs holding the lock. Signalled tasks wake in the order
 * they started waiting. A signal delivered to a task that is cancelled before it resumes is not lost: it passes to
 * the next waiting task (the bug asyncio fixed in 3.13, cpython gh-112202).
 *
 * <p>Threading: loop thread only; binds to the loop that first uses it (see {@link Lock}).
 */
public final class Condition {
    private final Lock lock;
    private final LoopBinding binding = new LoopBinding("Condition");
    private final WaitQueue<Void> waiters = new WaitQueue<>();
    /** A signalled waiter was cancelled before it resumed: pass its signal on. */
    private final Consumer<Void> passSignal = granted -> waiters.grantFirst(null);

    /**
     * Statistics of a condition at one moment.
     *
     * @param waiting how many tasks wait in {@link #await()} to be signalled (not counting those re-acquiring the
     *                lock)
     * @param lock    the statistics of the underlying lock
     */
    public record Statistics(int waiting, Lock.Statistics lock) {
    }

    /** Creates a condition with its own new lock. Any thread. */
    public Condition() {
        this(new Lock());
    }

    /**
     * Creates a condition over {@code lock} (several conditions may share one lock). Any thread.
     *
     * @param lock the lock
     * @throws NullPointerException if lock is null
     */
    public Condition(Lock lock) {
        this.lock = Objects.requireNonNull(lock, "lock");
    }

    /**
     * The underlying lock.
     *
     * @return the lock
     */
    public Lock lock() {
        return lock;
    }

    /**
     * Acquires the underlying lock ({@link Lock#acquire()}). A cancellation point when it has to wait.
     *
     * @throws CancellationException if the task is cancelled while waiting
     * @throws IllegalStateException as {@link Lock#acquire()}
     */
    public void acquire() {
        lock.acquire();
    }

    /**
     * Acquires the underlying lock if free ({@link Lock#tryAcquire()}). Never suspends.
     *
     * @return true if the lock is now held by the caller
     */
    public boolean tryAcquire() {
        return lock.tryAcquire();
    }

    /**
     * Acquires the underlying lock for try-with-resources ({@link Lock#acquired()}). A cancellation point when it has
     * to wait.
     *
     * @return the held lock
     * @throws CancellationException if the task is cancelled while waiting
     */
    public Held acquired() {
        return lock.acquired();
    }

    /**
     * Releases the underlying lock ({@link Lock#release()}). Never suspends.
     *
     * @throws IllegalStateException if the caller does not hold the lock
     */
    public void release() {
        lock.release();
    }

    /**
     * Whether the underlying lock is held. Never suspends.
     *
     * @return true if locked
     */
    public boolean isLocked() {
        return lock.isLocked();
    }

    /**
     * Releases the lock, waits until signalled, then re-acquires the lock and returns.
     *
     * <p>A cancellation point. If the task is cancelled while waiting, it still re-acquires the lock (waiting for it
     * as long as needed, ignoring further cancellations meanwhile) and then throws {@link CancellationException}; a
     * signal it had already received passes to the next waiter.
     *
     * @throws CancellationException if the task was cancelled while waiting
     * @throws IllegalStateException if the current task does not hold the lock, or is not a task
     */
    public void await() {
        binding.check();
        if (!lock.isHeldByCurrentTask()) {
            throw new IllegalStateException("Condition.await() by a task that does not hold the condition's lock");
        }
        TulipLoop loop = binding.forWaiting("await");
        WaitQueue.Waiter<Void> w = waiters.add(loop, null);
        lock.releaseHeld();
        Throwable failure = null;
        try {
            waiters.await(w, passSignal);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        while (true) {
            try {
                lock.acquire();
                break;
            } catch (CancellationException e) {
                // Keep trying: the caller's code after await() assumes it holds the lock. Report the cancellation.
                if (failure == null) {
                    failure = e;
                }
            } catch (RuntimeException | Error e) {
                if (failure != null) {
                    e.addSuppressed(failure);
                }
                throw e;
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
    }

    /**
     * Waits until {@code predicate} is true: checks it, and {@link #await()}s until a signal makes it true. The lock
     * must be held; it is held whenever the predicate runs and when this returns.
     *
     * <p>A cancellation point if the predicate is false at first (see {@link #await()}).
     *
     * @param predicate the condition to wait for, evaluated with the lock held
     * @throws CancellationException if the task was cancelled while waiting
     * @throws IllegalStateException if the current task does not hold the lock
     */
    public void awaitUntil(BooleanSupplier predicate) {
        Objects.requireNonNull(predicate, "predicate");
        while (!predicate.getAsBoolean()) {
            await();
        }
    }

    /**
     * Wakes the first waiting task, if any. Never suspends.
     *
     * @throws IllegalStateException if the caller does not hold the lock
     */
    public void signal() {
        signal(1);
    }

    /**
     * Wakes up to {@code n} waiting tasks, in the order they started waiting. They return from {@link #await()}
     * once each re-acquires the lock, so the caller should release it. Never suspends.
     *
     * @param n how many to wake at most
     * @throws IllegalArgumentException if n is negative
     * @throws IllegalStateException    if the caller does not hold the lock
     */
    public void signal(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("signal count must not be negative: " + n);
        }
        binding.check();
        requireHeld("signal");
        for (int i = 0; i < n && waiters.grantFirst(null) != null; i++) {
            // each grant wakes one waiter
        }
    }

    /**
     * Wakes every waiting task, in the order they started waiting. Never suspends.
     *
     * @throws IllegalStateException if the caller does not hold the lock
     */
    public void signalAll() {
        binding.check();
        requireHeld("signalAll");
        waiters.grantAll(null);
    }

    /**
     * A snapshot of the condition's state.
     *
     * @return the statistics
     */
    public Statistics statistics() {
        binding.check();
        return new Statistics(waiters.size(), lock.statistics());
    }

    @Override
    public String toString() {
        return "Condition[" + lock + (waiters.isEmpty() ? "" : ", waiters=" + waiters.size()) + "]";
    }

    private void requireHeld(String op) {
        if (!lock.isHeldByCurrentTask()) {
            throw new IllegalStateException("Condition." + op + "() by a caller that does not hold the condition's lock");
        }
    }
}
