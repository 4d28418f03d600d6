package dev.tulip;

import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.task.Combinators;
import dev.tulip.internal.task.Engine;
import dev.tulip.internal.task.TaskCore;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Entry points for programs written as coroutines: {@link #run} (asyncio's {@code asyncio.run}), sleeping, timeouts
 * and the combinators ({@code gather}, {@code wait}, {@code asCompleted}, {@code shield}, {@code waitFor}).
 *
 * <p>Methods that suspend must be called inside a task body and are cancellation points: cancelling the task makes
 * them throw {@link java.util.concurrent.CancellationException}. Threading: as each method says.
 */
public final class Tulip {
    private Tulip() {
    }

    /**
     * Runs {@code main} as a task on a fresh event loop until it is done, then cancels the tasks still pending, lets
     * them unwind and closes the loop (asyncio's {@code asyncio.run}). Under the virtual-thread coroutine engine the
     * loop itself runs on a virtual thread (an await round trip then stays on the virtual-thread scheduler instead of
     * waking OS threads); the calling thread waits.
     *
     * @param main the main coroutine
     * @param <T>  its result type
     * @return what {@code main} returned
     * @throws java.util.concurrent.CancellationException if the main task was cancelled
     * @throws CompletionException                        carrying a checked exception that {@code main} threw;
     *                                                    unchecked exceptions and errors are thrown as they are
     * @throws IllegalStateException                      if an event loop already runs on this thread
     */
    public static <T> T run(Coroutine<T> main) {
        return run(EventLoop.builder(), main);
    }

    /**
     * Like {@link #run(Coroutine)} on a loop made by {@code builder} (for instance a virtual-time loop).
     *
     * @param builder the loop's options
     * @param main    the main coroutine
     * @param <T>     its result type
     * @return what {@code main} returned
     * @throws java.util.concurrent.CancellationException if the main task was cancelled
     * @throws CompletionException                        carrying a checked exception that {@code main} threw
     * @throws IllegalStateException                      if an event loop already runs on this thread
     */
    public static <T> T run(EventLoop.Builder builder, Coroutine<T> main) {
        Objects.requireNonNull(builder, "builder");
        Objects.requireNonNull(main, "main");
        if (TulipLoop.currentOrNull() != null) {
            throw new IllegalStateException("Tulip.run() cannot be called while an event loop runs on this thread");
        }
        if (Engine.current() == Engine.VIRTUAL_THREAD && !Thread.currentThread().isVirtual()) {
            return runOnVirtualThread(builder, main);
        }
        return runHere(builder, main);
    }

    private static <T> T runOnVirtualThread(EventLoop.Builder builder, Coroutine<T> main) {
        Object[] out = new Object[2];
        Thread t = Thread.ofVirtual().name("tulip-main-loop").start(() -> {
            try {
                out[0] = runHere(builder, main);
            } catch (Throwable e) {
                out[1] = e;
            }
        });
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (out[1] instanceof RuntimeException re) {
            throw re;
        }
        if (out[1] instanceof Error err) {
            throw err;
        }
        if (out[1] != null) {
            throw new CompletionException((Throwable) out[1]);
        }
        @SuppressWarnings("unchecked") T r = (T) out[0];
        return r;
    }

    private static <T> T runHere(EventLoop.Builder builder, Coroutine<T> main) {
        try (EventLoop loop = builder.build()) {
            Task<T> task = loop.createTask("main", main);
            try {
                loop.runUntilComplete(task);
            } finally {
                cancelLeftovers(loop);
            }
            return task.result();
        }
    }

    /** asyncio.run's _cancel_all_tasks: cancel, run until they are done, report failures to the handler. */
    private static void cancelLeftovers(EventLoop loop) {
        List<Task<?>> left = loop.allTasks();
        if (left.isEmpty()) {
            return;
        }
        Future<Void> all = new Future<>(loop);
        int[] remaining = {left.size()};
        for (Task<?> t : left) {
            t.cancel("Tulip.run() is finishing: the main task is done");
            t.addDoneCallback(f -> {
                if (!f.isCancelled() && f.exception() != null) {
                    loop.callExceptionHandler(new ExceptionContext("unhandled exception during Tulip.run() shutdown",
                            f.exception(), null, f, null, null));
                }
                if (--remaining[0] == 0) {
                    all.setResult(null);
                }
            });
        }
        loop.runUntilComplete(all);
    }

    /**
     * Suspends the running task for {@code delay} (asyncio's {@code sleep}); a zero or negative delay yields once,
     * letting every callback that is ready run before the task continues. A cancellation point. Outside a task, on
     * a thread that runs no loop, it blocks the thread.
     *
     * @param delay how long
     * @throws java.util.concurrent.CancellationException if the task is cancelled while sleeping
     * @throws IllegalStateException                      on a loop thread outside a task
     */
    public static void sleep(Duration delay) {
        Objects.requireNonNull(delay, "delay");
        TaskCore<?> core = Task.currentCore();
        if (core == null) {
            if (TulipLoop.currentOrNull() != null) {
                throw new IllegalStateException("sleep() on the event loop thread outside a task would block the loop");
            }
            try {
                Thread.sleep(delay.isNegative() ? Duration.ZERO : delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.util.concurrent.CancellationException("interrupted while sleeping");
            }
            return;
        }
        if (delay.isZero() || delay.isNegative()) {
            core.yieldNow();
            return;
        }
        TulipLoop loop = TulipLoop.currentOrThrow();
        Future<Void> f = new Future<>(loop);
        // The timer only wakes this task, so it lives in the system scope: a task whose scope was cancelled (its
        // parent failed) can still sleep while it cleans up. The finally below removes it.
        ScopeImpl saved = loop.swapScope(loop.systemScope());
        TimerHandle h;
        try {
            h = loop.callLater(delay, () -> {
                if (!f.isDone()) {
                    f.setResult(null);
                }
            });
        } finally {
            loop.swapScope(saved);
        }
        try {
            f.await();
        } finally {
            h.cancel();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Timeouts
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Opens a timeout block for the running task: when {@code delay} passes, the await in progress throws
     * {@link TimeoutException} (see {@link Timeout}). Use with try-with-resources.
     *
     * @param delay how long the block may take; null for no deadline (reschedule it later)
     * @return the timeout, to close at the end of the block
     * @throws IllegalStateException if called outside a task
     */
    public static Timeout timeout(Duration delay) {
        if (delay == null) {
            return new Timeout(Long.MAX_VALUE);
        }
        long now = EventLoop.current().time();
        long nanos;
        try {
            nanos = delay.toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        long when = now + nanos < now ? Long.MAX_VALUE : now + nanos;
        return new Timeout(when);
    }

    /**
     * Opens a timeout block for the running task with a deadline in loop time ({@link EventLoop#time()}).
     *
     * @param whenNanos the deadline; {@link Long#MAX_VALUE} for none
     * @return the timeout, to close at the end of the block
     * @throws IllegalStateException if called outside a task
     */
    public static Timeout timeoutAt(long whenNanos) {
        return new Timeout(whenNanos);
    }

    /**
     * Awaits {@code future} for at most {@code timeout} (asyncio's {@code wait_for}): on expiry the future is
     * cancelled, and if it is a task, this waits until that task has finished unwinding. A cancellation of the
     * calling task is never swallowed, even if the future completes at the same moment (cpython #86296). A
     * cancellation point.
     *
     * @param future  what to wait for
     * @param timeout the limit; null waits without one
     * @param <T>     the result type
     * @return the future's result
     * @throws TimeoutException      if the time ran out
     * @throws CancellationException if the calling task (or the future) was cancelled
     * @throws IllegalStateException if called outside a task
     */
    public static <T> T waitFor(Future<T> future, Duration timeout) {
        Objects.requireNonNull(future, "future");
        try (Timeout t = timeout(timeout)) {
            return future.await();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Combinators
    // ------------------------------------------------------------------------------------------------------------

    /**
     * A future of the results of {@code futures}, in their order (asyncio's {@code gather}). If one fails (or is
     * cancelled), the returned future fails with that exception at once and the others keep running. Cancelling
     * the returned future cancels every child that is not done. Loop thread only.
     *
     * @param futures the futures of one loop
     * @param <T>     their result type
     * @return a future of the list of results
     * @throws IllegalArgumentException if the futures belong to different loops
     */
    @SafeVarargs
    public static <T> Future<List<T>> gather(Future<? extends T>... futures) {
        return gather(Arrays.asList(futures));
    }

    /**
     * List form of {@link #gather(Future[])}.
     *
     * @param futures the futures of one loop
     * @param <T>     their result type
     * @return a future of the list of results
     * @throws IllegalArgumentException if the futures belong to different loops
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static <T> Future<List<T>> gather(List<? extends Future<? extends T>> futures) {
        Objects.requireNonNull(futures, "futures");
        return (Future) Combinators.gather(futures.isEmpty() ? EventLoop.current() : null, futures, false);
    }

    /**
     * Like {@link #gather(List)} with asyncio's {@code return_exceptions=True}: waits for every future and
     * returns, in order, each result, or the {@link Throwable} a future failed with (a
     * {@link CancellationException} for a cancelled one). Loop thread only.
     *
     * @param futures the futures of one loop
     * @return a future of the list of results and exceptions
     * @throws IllegalArgumentException if the futures belong to different loops
     */
    public static Future<List<Object>> gatherReturningExceptions(List<? extends Future<?>> futures) {
        Objects.requireNonNull(futures, "futures");
        return Combinators.gather(futures.isEmpty() ? EventLoop.current() : null, futures, true);
    }

    /**
     * Waits until the futures satisfy {@code mode} or {@code timeout} passes (asyncio's {@code wait}). Does not
     * cancel anything, and does not throw on timeout: what is not done is in {@link WaitResult#pending()}. A
     * cancellation point.
     *
     * @param futures the futures of one loop (at least one)
     * @param mode    when to return
     * @param timeout the limit, or null
     * @param <F>     the future type
     * @return the done and pending futures
     * @throws IllegalArgumentException if futures is empty or spans several loops
     * @throws IllegalStateException    if called outside a task
     */
    public static <F extends Future<?>> WaitResult<F> wait(Collection<F> futures, WaitMode mode, Duration timeout) {
        Objects.requireNonNull(futures, "futures");
        Objects.requireNonNull(mode, "mode");
        if (futures.isEmpty()) {
            throw new IllegalArgumentException("wait() needs at least one future");
        }
        if (Task.currentCore() == null) {
            throw new IllegalStateException("wait() must be called inside a task");
        }
        Set<F> fs = new LinkedHashSet<>(futures);
        EventLoop loop = Combinators.loopOf(fs);
        TulipLoop l = (TulipLoop) loop;
        Future<Void> waiter = new Future<>(loop);
        Handle timer = null;
        ScopeImpl saved = l.swapScope(l.systemScope());
        try {
            if (timeout != null) {
                timer = loop.callLater(timeout.isNegative() ? Duration.ZERO : timeout, () -> {
                    if (!waiter.isDone()) {
                        waiter.setResult(null);
                    }
                });
            }
        } finally {
            l.swapScope(saved);
        }
        int[] counter = {fs.size()};
        Handle t = timer;
        java.util.function.Consumer<Future<?>> onCompletion = f -> {
            counter[0]--;
            if (counter[0] <= 0 || mode == WaitMode.FIRST_COMPLETED
                    || (mode == WaitMode.FIRST_EXCEPTION && !f.isCancelled() && f.exception() != null)) {
                if (t != null) {
                    t.cancel();
                }
                if (!waiter.isDone()) {
                    waiter.setResult(null);
                }
            }
        };
        for (F f : fs) {
            Combinators.onDoneAny(f, onCompletion);
        }
        try {
            waiter.await();
        } finally {
            if (timer != null) {
                timer.cancel();
            }
            for (F f : fs) {
                f.removeDoneCallback(onCompletion);
            }
        }
        Set<F> done = new LinkedHashSet<>();
        Set<F> pending = new LinkedHashSet<>();
        for (F f : fs) {
            (f.isDone() ? done : pending).add(f);
        }
        return new WaitResult<>(Set.copyOf(done), Set.copyOf(pending));
    }

    /**
     * Iterates over {@code futures} in the order they complete (asyncio's {@code as_completed}, yielding the
     * original futures as its async iteration does): {@code next()} suspends the running task until another one is
     * done and is a cancellation point.
     *
     * @param futures the futures of one loop
     * @param timeout the limit for the whole iteration, or null; when it passes, {@code next()} throws
     *                {@link TimeoutException}
     * @param <F>     the future type
     * @return an iterable (iterate it once, inside a task)
     * @throws IllegalArgumentException if the futures belong to different loops
     */
    public static <F extends Future<?>> Iterable<F> asCompleted(Collection<F> futures, Duration timeout) {
        Objects.requireNonNull(futures, "futures");
        EventLoop loop = EventLoop.current();
        long deadline = Long.MAX_VALUE;
        if (timeout != null) {
            long now = loop.time();
            long n = timeout.toNanos();
            deadline = now + n < now ? Long.MAX_VALUE : now + n;
        }
        return Combinators.asCompleted(loop, futures, deadline);
    }

    /**
     * A future that follows {@code inner} but whose cancellation does not reach it (asyncio's {@code shield}):
     * a task awaiting the result may be cancelled while the inner work goes on. Loop thread only.
     *
     * @param inner the work to protect
     * @param <T>   the result type
     * @return a new future following inner (or inner itself if it is done)
     */
    public static <T> Future<T> shield(Future<T> inner) {
        Objects.requireNonNull(inner, "inner");
        return Combinators.shield(inner);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Threads
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Runs a blocking {@code job} off the loop (a virtual thread per job) and returns a future of the running
     * loop: see {@link EventLoop#runInExecutor(Callable)}. Cancelling the future interrupts the job.
     *
     * @param job the blocking work
     * @param <T> the result type
     * @return the job's future
     * @throws IllegalStateException if no loop runs on this thread
     */
    public static <T> Future<T> runInExecutor(Callable<T> job) {
        return EventLoop.current().runInExecutor(job);
    }

    /**
     * Submits {@code body} to a loop from another thread (asyncio's {@code run_coroutine_threadsafe}): it becomes
     * a task of that loop (in its root scope), and the returned {@link CompletableFuture} completes with the task's
     * outcome. Cancelling the CompletableFuture cancels the task. Any thread.
     *
     * @param loop the target loop (normally running on another thread)
     * @param body the coroutine
     * @param <T>  the result type
     * @return a CompletableFuture of the task's result
     * @throws IllegalStateException if the loop is closed
     */
    public static <T> CompletableFuture<T> runCoroutineThreadsafe(EventLoop loop, Coroutine<T> body) {
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(body, "body");
        CompletableFuture<T> cf = new CompletableFuture<>();
        loop.callSoonThreadsafe(() -> {
            if (cf.isDone()) {
                return; // cancelled before the loop got to it
            }
            Task<T> task;
            try {
                task = loop.createTask(Task.Options.DEFAULT.withDetached(true), body);
            } catch (Throwable e) {
                cf.completeExceptionally(e);
                return;
            }
            Combinators.onDone(task, f -> {
                if (f.isCancelled()) {
                    try {
                        f.result();
                    } catch (CancellationException e) {
                        cf.completeExceptionally(e);
                    }
                } else if (f.exception() != null) {
                    cf.completeExceptionally(f.exception());
                } else {
                    cf.complete(f.result());
                }
            });
            cf.whenComplete((v, e) -> {
                if (cf.isCancelled() && !task.isDone() && !loop.isClosed()) {
                    loop.callSoonThreadsafe(() -> task.cancel("the CompletableFuture was cancelled"));
                }
            });
        });
        return cf;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Debugging
    // ------------------------------------------------------------------------------------------------------------

    /**
     * A text dump of the loop's pending tasks and where each is suspended, like Python 3.14's {@code asyncio ps}:
     * for each task its name, state, the future it awaits and its stack. Loop thread only.
     *
     * @param loop the loop
     * @return the dump, one block per task
     */
    public static String dumpTasks(EventLoop loop) {
        StringBuilder sb = new StringBuilder();
        List<Task<?>> tasks = loop.allTasks();
        sb.append(tasks.size()).append(" pending task(s) on ").append(loop).append('\n');
        for (Task<?> t : tasks) {
            sb.append("- ").append(t.name()).append(" (scope ").append(t.scope().parent().name()).append(")");
            Future<?> w = t.awaiting();
            if (w != null) {
                sb.append(" awaiting ").append(w);
            }
            sb.append('\n');
            for (StackTraceElement e : t.stack()) {
                if (e.getClassName().startsWith("dev.tulip.internal.task.") || e.getClassName().startsWith("jdk.internal.vm.")
                        || e.getClassName().startsWith("java.lang.VirtualThread")) {
                    continue;
                }
                sb.append("    at ").append(e).append('\n');
            }
        }
        return sb.toString();
    }

    /** When {@link #wait} returns. */
    public enum WaitMode {
        /** As soon as any future is done (or cancelled). */
        FIRST_COMPLETED,
        /** As soon as any future fails, or when all are done. */
        FIRST_EXCEPTION,
        /** When all are done. */
        ALL_COMPLETED
    }

    /**
     * What {@link #wait} returns.
     *
     * @param done    the futures that are done
     * @param pending the futures that are not
     * @param <F>     the future type
     */
    public record WaitResult<F>(Set<F> done, Set<F> pending) {
    }
}
