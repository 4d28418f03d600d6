package dev.tulip.sync;

import dev.tulip.Coroutine;
import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Task;
import java.time.Duration;

/** Helpers for the sync tests: a virtual-time debug loop, a main task, sleeping and settling inside tasks. */
final class SyncTesting {
    private SyncTesting() {
    }

    /** A virtual-time loop in debug mode (thread checks on): timers are instant and deterministic. */
    static EventLoop newLoop() {
        return EventLoop.builder().virtualTime(true).debug(true).build();
    }

    /** Runs {@code main} as a task on a fresh virtual-time loop and returns its result (rethrows its failure). */
    static <T> T run(Coroutine<T> main) {
        try (EventLoop loop = newLoop()) {
            return loop.runUntilComplete(loop.createTask(main));
        }
    }

    /** Like {@link #run} for a body with no result. */
    static void runVoid(Body main) {
        run(() -> {
            main.run();
            return null;
        });
    }

    /** Starts a child task of the running task. */
    static Task<Void> spawn(Body body) {
        return Task.spawn(() -> {
            body.run();
            return null;
        });
    }

    /** Suspends the running task for {@code d} of (virtual) loop time. A cancellation point. */
    static void sleep(Duration d) {
        EventLoop loop = EventLoop.current();
        Future<Void> f = loop.createFuture();
        loop.callLater(d, () -> {
            if (!f.isDone()) {
                f.setResult(null);
            }
        });
        f.await();
    }

    /**
     * Lets every other ready task run until all are blocked: on the virtual-time loop a timer fires only once nothing
     * is ready, so sleeping 1 ms returns after everything runnable has run.
     */
    static void settle() {
        sleep(Duration.ofMillis(1));
    }

    /** Gives up the loop for one pass (asyncio's sleep(0)). A cancellation point. */
    static void yieldNow() {
        EventLoop loop = EventLoop.current();
        Future<Void> f = loop.createFuture();
        loop.callSoon(() -> {
            if (!f.isDone()) {
                f.setResult(null);
            }
        });
        f.await();
    }

    /** A task body without a result. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }
}
