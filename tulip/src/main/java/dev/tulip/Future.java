package dev.tulip;

import dev.tulip.internal.loop.DoneCallback;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TaskContext;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.loop.UnretrievedTracker;
import java.util.ArrayList;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

/**
 * The result of an asynchronous operation, bound to one {@link EventLoop}: asyncio's {@code Future}.
 *
 * <p>A future is <em>pending</em> until it is <em>done</em> with a result, with an exception, or by being
 * <em>cancelled</em>; it changes state once. Done callbacks always run later, through the loop's ready queue, in the
 * order added and in the scope that was current when each was added, never synchronously inside {@code setResult}:
 * code that completes a future never re-enters its listeners (the promise PEP 3156 discussions asked for).
 *
 * <p>{@link #await()} is how code waits: inside a task it suspends the task (a cancellation point); on a thread that
 * runs no loop it blocks the thread; on a loop thread outside a task it throws, because it would deadlock the loop
 * (unless the future is already done). Failures come back as {@link #result()} describes.
 *
 * <p>Compared with {@link CompletableFuture}: single-loop, not thread-safe, callbacks never run inline, and
 * cancellation is a state of its own with a message. Use {@link #toCompletableFuture()} and
 * {@link EventLoop#wrapFuture} to cross over.
 *
 * <p>Threading: loop thread only, except {@link #isDone()}, {@link #isCancelled()}, {@link #await()} (from other
 * threads: blocks) and {@link #toCompletableFuture()}, which any thread may call.
 *
 * @param <T> the result type
 */
public class Future<T> {
    private static final int PENDING = 0;
    private static final int RESULT = 1;
    private static final int FAILED = 2;
    private static final int CANCELLED = 3;

    private final TulipLoop loop;
    /** Written on the loop thread only; volatile so that isDone() is meaningful on other threads. */
    private volatile int state;
    /** The result value, the failure, or the CancellationException (guarded by the loop thread, published by state). */
    private Object outcome;
    /** null, one DoneCallback, or an ArrayList of them. Loop thread only. */
    private Object callbacks;
    /** Debug mode only: logs an exception nobody retrieved when this future is collected. */
    private UnretrievedTracker tracker;

    /**
     * Creates a pending future bound to {@code loop}.
     *
     * @param loop the loop whose thread completes it and runs its callbacks
     * @throws NullPointerException if loop is null
     */
    public Future(EventLoop loop) {
        this.loop = (TulipLoop) Objects.requireNonNull(loop, "loop");
    }

    /**
     * The loop this future belongs to.
     *
     * @return the loop
     */
    public EventLoop loop() {
        return loop;
    }

    /**
     * Whether the future is done (result, exception or cancelled). Any thread.
     *
     * @return true once done
     */
    public boolean isDone() {
        return state != PENDING;
    }

    /**
     * Whether the future was cancelled. Any thread.
     *
     * @return true once cancelled
     */
    public boolean isCancelled() {
        return state == CANCELLED;
    }

    /**
     * Completes the future with a result and schedules its done callbacks.
     *
     * @param result the result (may be null)
     * @throws InvalidStateException if the future is already done
     */
    public void setResult(T result) {
        loop.checkThread();
        if (state != PENDING) {
            throw new InvalidStateException("setResult on a future that is already " + stateName() + ": " + this);
        }
        complete(RESULT, result);
    }

    /**
     * Completes the future with a failure and schedules its done callbacks.
     *
     * @param exception the failure
     * @throws NullPointerException  if exception is null
     * @throws InvalidStateException if the future is already done
     */
    public void setException(Throwable exception) {
        Objects.requireNonNull(exception, "exception");
        loop.checkThread();
        if (state != PENDING) {
            throw new InvalidStateException("setException on a future that is already " + stateName() + ": " + this);
        }
        if (loop.isDebug()) {
            tracker = UnretrievedTracker.track(this, loop, exception);
        }
        complete(FAILED, exception);
    }

    /**
     * Cancels the future if it is pending.
     *
     * @return true if it was pending and is now cancelled
     */
    public boolean cancel() {
        return cancel(null);
    }

    /**
     * Cancels the future if it is pending; {@link #result()} and {@link #await()} will throw a
     * {@link CancellationException} carrying {@code message}.
     *
     * @param message why, or null
     * @return true if it was pending and is now cancelled
     */
    public boolean cancel(String message) {
        loop.checkThread();
        if (state != PENDING) {
            return false;
        }
        complete(CANCELLED, new CancellationException(message));
        return true;
    }

    /**
     * The result. A future that failed with an unchecked exception or an {@link Error} rethrows it; one that failed
     * with a checked exception throws a {@link CompletionException} whose cause is that exception (as
     * {@link CompletableFuture#join()} does).
     *
     * @return the result
     * @throws CancellationException if the future was cancelled
     * @throws InvalidStateException if the future is still pending
     */
    public T result() {
        int s = state;
        if (s == RESULT) {
            @SuppressWarnings("unchecked") T t = (T) outcome;
            return t;
        }
        if (s == PENDING) {
            throw new InvalidStateException("result() of a pending future: " + this);
        }
        markRetrieved();
        throw rethrowable((Throwable) outcome, s);
    }

    /**
     * The failure, or null if the future has a result.
     *
     * @return the exception the future failed with, or null
     * @throws CancellationException if the future was cancelled
     * @throws InvalidStateException if the future is still pending
     */
    public Throwable exception() {
        int s = state;
        if (s == PENDING) {
            throw new InvalidStateException("exception() of a pending future: " + this);
        }
        if (s == CANCELLED) {
            throw copyCancellation((CancellationException) outcome);
        }
        markRetrieved();
        return s == FAILED ? (Throwable) outcome : null;
    }

    /**
     * Adds a callback to run when the future is done (later, through the loop, in the current scope). If the future
     * is already done, the callback is scheduled at once. Callbacks run in the order added. A callback belongs to
     * the scope current when it was added: if that scope is cancelled before the callback runs, it never runs.
     *
     * @param callback receives this future
     * @throws NullPointerException  if callback is null
     * @throws IllegalStateException if the loop is closed or the current scope is cancelled
     */
    public void addDoneCallback(Consumer<? super Future<T>> callback) {
        Objects.requireNonNull(callback, "callback");
        loop.checkThread();
        if (loop.isClosed()) {
            throw new IllegalStateException("addDoneCallback: the future's event loop is closed: " + this);
        }
        if (loop.currentScopeImpl().isCancelled()) {
            throw new IllegalStateException("addDoneCallback: scope '" + loop.currentScopeImpl().name()
                    + "' is cancelled: it accepts no new work");
        }
        DoneCallback dc = loop.newDoneCallback(this, callback);
        if (state != PENDING) {
            loop.enqueue(dc);
            return;
        }
        Object cbs = callbacks;
        if (cbs == null) {
            callbacks = dc;
        } else if (cbs instanceof DoneCallback first) {
            ArrayList<DoneCallback> list = new ArrayList<>(4);
            list.add(first);
            list.add(dc);
            callbacks = list;
        } else {
            @SuppressWarnings("unchecked") ArrayList<DoneCallback> list = (ArrayList<DoneCallback>) cbs;
            list.add(dc);
        }
    }

    /**
     * Removes every registration of {@code callback} that has not been scheduled yet.
     *
     * @param callback the callback given to {@link #addDoneCallback}
     * @return how many registrations were removed
     */
    public int removeDoneCallback(Consumer<? super Future<T>> callback) {
        Objects.requireNonNull(callback, "callback");
        loop.checkThread();
        Object cbs = callbacks;
        if (cbs instanceof DoneCallback one) {
            if (one.callback().equals(callback)) {
                callbacks = null;
                return 1;
            }
            return 0;
        }
        if (cbs instanceof ArrayList<?> list) {
            int before = list.size();
            list.removeIf(d -> ((DoneCallback) d).callback().equals(callback));
            return before - list.size();
        }
        return 0;
    }

    /**
     * Waits for the future and returns its result, as {@link #result()} would.
     *
     * <ul>
     *   <li>Inside a task: suspends the task until done; a cancellation point (cancelling the task makes this throw
     *       {@link CancellationException}; the future itself is cancelled too, as in asyncio, unless shielded).</li>
     *   <li>On a thread that runs no loop: blocks until done.</li>
     *   <li>On a loop thread outside a task: returns at once if done, else throws {@link IllegalStateException}
     *       (waiting would deadlock the loop).</li>
     * </ul>
     *
     * @return the result
     * @throws CancellationException if the future (or the awaiting task) was cancelled
     * @throws IllegalStateException on a loop thread outside a task with the future pending, or if the future's loop
     *                               is closed while a thread blocks on it
     */
    public T await() {
        TulipLoop running = TulipLoop.currentOrNull();
        if (running != null) {
            TaskContext task = running.currentTask();
            if (task != null) {
                task.suspendUntilDone(this);
                return result();
            }
            if (state != PENDING) {
                return result();
            }
            throw new IllegalStateException("await() of a pending future on an event loop thread outside a task would "
                    + (running == loop ? "deadlock the loop" : "block that loop")
                    + ": await inside a task, or use addDoneCallback: " + this);
        }
        if (state == PENDING) {
            blockUntilDone();
        }
        return result();
    }

    /**
     * A {@link CompletableFuture} that completes (from the loop thread) when this future does; cancelling it cancels
     * this future. Any thread.
     *
     * @return a new CompletableFuture following this one
     */
    public CompletableFuture<T> toCompletableFuture() {
        CompletableFuture<T> cf = new CompletableFuture<>();
        if (isDone()) { // any thread: state is volatile and published after outcome
            copyTo(cf);
            return cf;
        }
        // If the loop closes first, the CompletableFuture fails instead of leaving its waiters hanging.
        Runnable onClose = () -> cf.completeExceptionally(
                new IllegalStateException("the event loop was closed before the future completed: " + this));
        loop.addForeignWaiter(onClose);
        cf.whenComplete((v, e) -> loop.removeForeignWaiter(onClose));
        Runnable link = () -> {
            if (isDone()) {
                copyTo(cf);
                return;
            }
            addDoneCallbackSystem(f -> copyTo(cf));
        };
        if (loop.isOwnedByCurrentThread()) {
            link.run();
        } else {
            loop.callSoonThreadsafeSystem(link);
        }
        cf.whenComplete((v, e) -> {
            if (cf.isCancelled() && !isDone()) {
                try {
                    loop.callSoonThreadsafeSystem(() -> cancel("CompletableFuture cancelled"));
                } catch (IllegalStateException closed) {
                    // the loop is closed: nothing can run this future's callbacks any more
                }
            }
        });
        return cf;
    }

    private void copyTo(CompletableFuture<T> cf) {
        int s = state;
        if (s == RESULT) {
            @SuppressWarnings("unchecked") T t = (T) outcome;
            cf.complete(t);
        } else if (s == CANCELLED) {
            cf.completeExceptionally(copyCancellation((CancellationException) outcome));
        } else {
            markRetrieved();
            cf.completeExceptionally((Throwable) outcome);
        }
    }

    /**
     * Adopts a {@link CompletionStage} into {@code loop}: the returned future completes on the loop thread when the
     * stage does. Cancelling the returned future cancels the stage if it is a {@link CompletableFuture}. Any thread.
     *
     * @param loop  the loop
     * @param stage the stage to follow
     * @param <T>   the result type
     * @return a new future of {@code loop}
     */
    public static <T> Future<T> fromStage(EventLoop loop, CompletionStage<T> stage) {
        Objects.requireNonNull(stage, "stage");
        Future<T> f = new Future<>(loop);
        stage.whenComplete((v, e) -> {
            Runnable deliver = () -> {
                if (f.isDone()) {
                    return;
                }
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause == null) {
                    f.setResult(v);
                } else if (cause instanceof CancellationException ce) {
                    f.cancel(ce.getMessage());
                } else {
                    f.setException(cause);
                }
            };
            try {
                f.loop.callSoonThreadsafeSystem(deliver); // system scope: the delivery is never dropped with a scope
            } catch (IllegalStateException closed) {
                // the loop is closed: nothing can observe the future any more
            }
        });
        if (stage instanceof CompletableFuture<T> cf) {
            f.addDoneCallbackAnyThread(() -> {
                if (f.isCancelled()) {
                    cf.cancel(false);
                }
            });
        }
        return f;
    }

    @Override
    public String toString() {
        String s = stateName();
        return getClass().getSimpleName() + "@" + Integer.toHexString(System.identityHashCode(this)) + "[" + s
                + (state == RESULT ? " result=" + outcome : state == FAILED ? " exception=" + outcome : "") + "]";
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals shared with Task (same package) and the loop
    // ------------------------------------------------------------------------------------------------------------

    private void addDoneCallbackAnyThread(Runnable r) {
        if (loop.isOwnedByCurrentThread()) {
            addDoneCallbackSystem(f -> r.run());
        } else {
            try {
                loop.callSoonThreadsafeSystem(() -> addDoneCallbackSystem(f -> r.run()));
            } catch (IllegalStateException closed) {
                // the loop is closed: the future can no longer be cancelled
            }
        }
    }

    /** addDoneCallback in the loop's system scope: plumbing that must run whatever scope is current. */
    private void addDoneCallbackSystem(Consumer<? super Future<T>> callback) {
        ScopeImpl saved = loop.swapScope(loop.systemScope());
        try {
            addDoneCallback(callback);
        } finally {
            loop.swapScope(saved);
        }
    }

    private void complete(int newState, Object value) {
        outcome = value;
        state = newState;
        Object cbs = callbacks;
        callbacks = null;
        if (cbs == null) {
            return;
        }
        if (cbs instanceof DoneCallback one) {
            loop.enqueue(one);
        } else {
            @SuppressWarnings("unchecked") ArrayList<DoneCallback> list = (ArrayList<DoneCallback>) cbs;
            for (int i = 0, n = list.size(); i < n; i++) {
                loop.enqueue(list.get(i));
            }
        }
    }

    private void markRetrieved() {
        UnretrievedTracker t = tracker;
        if (t != null) {
            t.retrieved();
        }
    }

    private String stateName() {
        return switch (state) {
            case PENDING -> "pending";
            case RESULT -> "finished";
            case FAILED -> "failed";
            default -> "cancelled";
        };
    }

    private static RuntimeException rethrowable(Throwable t, int s) {
        if (s == CANCELLED) {
            throw copyCancellation((CancellationException) t);
        }
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new CompletionException(t);
    }

    /** A fresh exception per throw, so each awaiter gets its own stack trace; the message is kept. */
    private static CancellationException copyCancellation(CancellationException original) {
        CancellationException c = new CancellationException(original.getMessage());
        c.initCause(original.getCause());
        return c;
    }

    private void blockUntilDone() {
        CountDownLatch latch = new CountDownLatch(1);
        Runnable register = () -> {
            if (isDone()) {
                latch.countDown();
            } else {
                addDoneCallback(f -> latch.countDown());
            }
        };
        loop.registerForeignWaiter(latch);
        try {
            loop.callSoonThreadsafe(register);
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted while awaiting " + this);
        } finally {
            loop.unregisterForeignWaiter(latch);
        }
        if (!isDone()) {
            throw new IllegalStateException("the event loop was closed while a thread awaited " + this);
        }
    }
}
