package dev.tulip;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.task.Engine;
import dev.tulip.internal.task.TaskCore;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
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
        EventLoop loop = EventLoop.current();
        Future<Void> f = new Future<>(loop);
        TimerHandle h = loop.callLater(delay, () -> {
            if (!f.isDone()) {
                f.setResult(null);
            }
        });
        try {
            f.await();
        } finally {
            h.cancel();
        }
    }
}
