package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.internal.loop.LoopProbe;
import dev.tulip.internal.loop.TulipLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The loop's scheduling and lifecycle contract: callSoon, stop, runUntilComplete, close, cross-thread calls. */
@Timeout(30)
class EventLoopTest {

    private static EventLoop virtualLoop() {
        return EventLoop.builder().virtualTime(true).build();
    }

    @Test
    void callSoonRunsInFifoOrder() {
        try (EventLoop loop = virtualLoop()) {
            List<Integer> seen = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                int n = i;
                loop.callSoon(() -> seen.add(n));
            }
            loop.runOnce();
            assertEquals(1000, seen.size());
            for (int i = 0; i < 1000; i++) {
                assertEquals(i, seen.get(i));
            }
        }
    }

    @Test
    void callbackScheduledByCallbackRunsInTheNextPass() {
        try (EventLoop loop = virtualLoop()) {
            List<String> seen = new ArrayList<>();
            loop.callSoon(() -> {
                seen.add("a");
                loop.callSoon(() -> seen.add("c"));
            });
            loop.callSoon(() -> seen.add("b"));
            loop.runOnce();
            assertEquals(List.of("a", "b"), seen);
            loop.runOnce();
            assertEquals(List.of("a", "b", "c"), seen);
        }
    }

    @Test
    void cancelledHandleNeverRuns() {
        try (EventLoop loop = virtualLoop()) {
            AtomicInteger runs = new AtomicInteger();
            Handle h = loop.callSoon(runs::incrementAndGet);
            assertFalse(h.isCancelled());
            h.cancel();
            h.cancel();
            assertTrue(h.isCancelled());
            assertSame(loop.rootScope(), h.scope());
            loop.runOnce();
            assertEquals(0, runs.get());
        }
    }

    @Test
    void stopBeforeRunForeverRunsOnePass() {
        try (EventLoop loop = virtualLoop()) {
            List<String> seen = new ArrayList<>();
            loop.callSoon(() -> {
                seen.add("first");
                loop.callSoon(() -> seen.add("second"));
            });
            loop.stop();
            loop.runForever(); // one pass, then returns (asyncio)
            assertEquals(List.of("first"), seen);
            loop.stop();
            loop.runForever();
            assertEquals(List.of("first", "second"), seen);
        }
    }

    @Test
    void stopInsideCallbackFinishesThePass() {
        try (EventLoop loop = virtualLoop()) {
            List<String> seen = new ArrayList<>();
            loop.callSoon(loop::stop);
            loop.callSoon(() -> seen.add("same pass"));
            loop.callLater(Duration.ofSeconds(1), () -> seen.add("later"));
            loop.runForever();
            assertEquals(List.of("same pass"), seen);
            assertFalse(loop.isRunning());
            loop.callLater(Duration.ofSeconds(2), loop::stop);
            loop.runForever();
            assertEquals(List.of("same pass", "later"), seen);
        }
    }

    @Test
    void runUntilCompleteReturnsTheResult() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            loop.callLater(Duration.ofMinutes(5), () -> f.setResult("five minutes later"));
            assertEquals("five minutes later", loop.runUntilComplete(f));
            assertEquals(Duration.ofMinutes(5).toNanos(), loop.time());
            assertEquals("five minutes later", loop.runUntilComplete(f)); // done already: no pass needed
        }
    }

    @Test
    void runUntilCompleteThrowsTheFailure() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            loop.callSoon(() -> f.setException(boom));
            assertSame(boom, assertThrows(IllegalArgumentException.class, () -> loop.runUntilComplete(f)));

            Future<String> c = loop.createFuture();
            loop.callSoon(() -> c.cancel("not needed"));
            assertEquals("not needed", assertThrows(java.util.concurrent.CancellationException.class,
                    () -> loop.runUntilComplete(c)).getMessage());
        }
    }

    @Test
    void runUntilCompleteStoppedBeforeComplete() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            loop.callSoon(loop::stop);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> loop.runUntilComplete(f));
            assertTrue(e.getMessage().contains("stopped before the future completed"), e.getMessage());
            // The stopper was removed: completing later does not stop a later run early.
            loop.callSoon(() -> f.setResult("ok"));
            assertEquals("ok", loop.runUntilComplete(f));
        }
    }

    @Test
    void runUntilCompleteRejectsAForeignFuture() {
        try (EventLoop a = virtualLoop(); EventLoop b = virtualLoop()) {
            Future<String> f = b.createFuture();
            assertThrows(IllegalArgumentException.class, () -> a.runUntilComplete(f));
            assertThrows(NullPointerException.class, () -> a.runUntilComplete(null));
        }
    }

    @Test
    void runUntilCompleteWorksInsideACancelledScope() {
        try (EventLoop loop = virtualLoop()) {
            Scope child = loop.rootScope().newChild("child");
            child.cancel();
            Future<String> f = loop.createFuture();
            loop.callLater(Duration.ofSeconds(1), () -> f.setResult("x"));
            try (Scope.Entered ignored = child.enter()) {
                assertEquals("x", loop.runUntilComplete(f));
            }
        }
    }

    @Test
    void currentAndFind() {
        assertThrows(IllegalStateException.class, EventLoop::current);
        assertTrue(EventLoop.find().isEmpty());
        try (EventLoop loop = virtualLoop()) {
            AtomicReference<EventLoop> seen = new AtomicReference<>();
            loop.callSoon(() -> seen.set(EventLoop.current()));
            loop.runOnce();
            assertSame(loop, seen.get());
            assertThrows(IllegalStateException.class, EventLoop::current);
        }
    }

    @Test
    void isRunningAndIsClosed() {
        EventLoop loop = virtualLoop();
        AtomicReference<Boolean> running = new AtomicReference<>();
        loop.callSoon(() -> running.set(loop.isRunning()));
        loop.runOnce();
        assertTrue(running.get());
        assertFalse(loop.isRunning());
        assertFalse(loop.isClosed());
        loop.close();
        assertTrue(loop.isClosed());
        loop.close(); // idempotent
        assertTrue(loop.toString().contains("closed"));
    }

    @Test
    void closeDropsPendingWorkAndReleasesResources() throws Exception {
        EventLoop loop = virtualLoop();
        AtomicInteger runs = new AtomicInteger();
        Handle soon = loop.callSoon(runs::incrementAndGet);
        TimerHandle later = loop.callLater(Duration.ofSeconds(1), runs::incrementAndGet);
        try (var pipe = PipeFixture.open()) {
            Handle reader = loop.addReader(pipe.source(), runs::incrementAndGet);
            pipe.write(1);
            loop.close();
            assertTrue(soon.isCancelled());
            assertTrue(later.isCancelled());
            assertTrue(reader.isCancelled());
            assertEquals(0, runs.get());
            assertTrue(pipe.source().isOpen(), "the loop does not close channels it did not open");
        }
    }

    @Test
    void closeRunsSystemCleanupCallbacks() {
        EventLoop loop = virtualLoop();
        TulipLoop tl = (TulipLoop) loop;
        List<String> seen = new ArrayList<>();
        Scope child = loop.rootScope().newChild("conn");
        child.run(() -> child.onCancel(() -> tl.callSoonSystem(() -> seen.add("connectionLost"))));
        loop.callSoon(() -> seen.add("user callback"));
        loop.close();
        assertEquals(List.of("connectionLost"), seen);
    }

    @Test
    void callSoonThreadsafeFromManyThreadsRunsEveryCallExactlyOnceInPerThreadOrder() throws Exception {
        int threads = 4;
        int perThread = 250_000;
        try (EventLoop loop = EventLoop.create()) {
            int[] next = new int[threads];
            AtomicInteger errors = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> producers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < perThread; i++) {
                        int n = i;
                        loop.callSoonThreadsafe(() -> {
                            if (next[id] != n) {
                                errors.incrementAndGet();
                            }
                            next[id] = n + 1;
                        });
                    }
                    loop.callSoonThreadsafe(() -> {
                        if (done.incrementAndGet() == threads) {
                            loop.stop();
                        }
                    });
                }, "producer-" + t);
                th.start();
                producers.add(th);
            }
            loop.callSoon(start::countDown);
            loop.runForever();
            for (Thread th : producers) {
                th.join();
            }
            assertEquals(0, errors.get(), "out-of-order or repeated callbacks");
            for (int t = 0; t < threads; t++) {
                assertEquals(perThread, next[t], "callbacks of producer " + t);
            }
            long wakeups = ((TulipLoop) loop).wakeupCount();
            System.out.println("callSoonThreadsafe: " + threads * perThread + " calls, " + wakeups + " wake-ups");
            assertTrue(wakeups < threads * perThread / 10,
                    "wake-ups must be coalesced: " + wakeups + " for " + threads * perThread + " calls");
        }
    }

    @Test
    void callSoonThreadsafeWakesABlockedLoop() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            Future<String> f = loop.createFuture();
            Thread loopThread = Thread.currentThread();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    // Call only once the loop is blocked (no timers, no I/O): a fixed pause let a loaded machine
                    // make the call before the loop slept, and then nothing had to wake it.
                    LoopProbe.awaitAsleep(loop, loopThread);
                } catch (Throwable e) {
                    failed.set(e);
                }
                loop.callSoonThreadsafe(() -> f.setResult("woken"));
            });
            t.start();
            assertEquals("woken", loop.runUntilComplete(f));
            t.join();
            if (failed.get() != null) {
                throw new AssertionError(failed.get());
            }
            assertEquals(1, ((TulipLoop) loop).wakeupCount(), "wake-ups of a loop blocked in its backend");
        }
    }

    @Test
    void stopFromAnotherThreadWakesTheLoop() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            CountDownLatch running = new CountDownLatch(1);
            loop.callSoon(running::countDown);
            Thread t = new Thread(() -> {
                try {
                    running.await();
                    Thread.sleep(20);
                } catch (InterruptedException ignored) {
                    // proceed
                }
                loop.stop();
            });
            t.start();
            loop.runForever();
            t.join();
            assertFalse(loop.isRunning());
        }
    }

    @Test
    void loopCanRunOnAnotherThreadAndBeClosedAfterwards() throws Exception {
        EventLoop loop = EventLoop.create();
        Thread runner = new Thread(loop::runForever, "loop");
        runner.start();
        Future<Integer> f = loop.createFuture();
        loop.callSoonThreadsafe(() -> f.setResult(42));
        assertEquals(42, f.await());
        IllegalStateException e = assertThrows(IllegalStateException.class, loop::close);
        assertTrue(e.getMessage().contains("running"), e.getMessage());
        loop.stop();
        runner.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(runner.isAlive());
        loop.close();
        assertThrows(IllegalStateException.class, () -> loop.callSoonThreadsafe(() -> { }));
    }

    @Test
    void drainPolicyRunsNewCallbacksInTheSamePass() {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).drainReadyQueue(true).build()) {
            List<String> seen = new ArrayList<>();
            loop.callSoon(() -> {
                seen.add("a");
                loop.callSoon(() -> seen.add("b"));
            });
            loop.runOnce();
            assertEquals(List.of("a", "b"), seen);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Misuse: each a clear exception
    // ---------------------------------------------------------------------------------------------------------

    private static void assertMessage(Throwable t, String... parts) {
        for (String p : parts) {
            assertTrue(t.getMessage() != null && t.getMessage().contains(p), "'" + t.getMessage() + "' lacks " + p);
        }
    }

    @Test
    void runningFromInsideACallbackIsRejected() {
        try (EventLoop loop = virtualLoop()) {
            List<Throwable> errors = new ArrayList<>();
            loop.callSoon(() -> {
                for (Runnable r : List.<Runnable>of(loop::runForever, loop::runOnce,
                        () -> loop.runUntilComplete(loop.createFuture()), loop::close)) {
                    try {
                        r.run();
                    } catch (IllegalStateException e) {
                        errors.add(e);
                    }
                }
            });
            loop.runOnce();
            assertEquals(4, errors.size());
            for (int i = 0; i < 3; i++) {
                assertMessage(errors.get(i), "already running", "from one of its callbacks");
            }
            assertMessage(errors.get(3), "cannot close a running event loop", "stop()");
            assertFalse(loop.isClosed());
        }
    }

    @Test
    void runningFromAnotherThreadWhileRunningIsRejected() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            AtomicReference<Throwable> error = new AtomicReference<>();
            Future<Void> done = loop.createFuture();
            loop.callSoon(() -> {
                Thread t = new Thread(() -> {
                    try {
                        loop.runForever();
                    } catch (Throwable e) {
                        error.set(e);
                    }
                    loop.callSoonThreadsafe(() -> done.setResult(null));
                }, "intruder");
                t.start();
            });
            loop.runUntilComplete(done);
            assertMessage(error.get(), "already running", "on thread");
        }
    }

    @Test
    void closedLoopRefusesToRunAndToSchedule() throws Exception {
        EventLoop loop = virtualLoop();
        loop.close();
        for (Runnable r : List.<Runnable>of(loop::runForever, loop::runOnce,
                () -> loop.callSoon(() -> { }), () -> loop.callLater(Duration.ZERO, () -> { }),
                () -> loop.callAt(0, () -> { }), () -> loop.callSoonThreadsafe(() -> { }))) {
            assertMessage(assertThrows(IllegalStateException.class, r::run), "closed");
        }
        Future<String> f = new Future<>(loop);
        assertMessage(assertThrows(IllegalStateException.class, () -> loop.runUntilComplete(f)), "closed");
        assertMessage(assertThrows(IllegalStateException.class, () -> f.addDoneCallback(x -> { })), "closed");
        try (PipeFixture pipe = PipeFixture.open()) {
            assertMessage(assertThrows(IllegalStateException.class, () -> loop.addReader(pipe.source(), () -> { })),
                    "closed");
        }
        loop.stop(); // harmless
    }

    @Test
    void anotherLoopRunningOnThisThreadIsRejected() {
        try (EventLoop outer = virtualLoop(); EventLoop inner = virtualLoop()) {
            AtomicReference<Throwable> error = new AtomicReference<>();
            AtomicReference<Boolean> innerClosed = new AtomicReference<>();
            outer.callSoon(() -> {
                try {
                    inner.runOnce();
                } catch (IllegalStateException e) {
                    error.set(e);
                }
                // Closing another (idle) loop from a callback is fine, and gives this thread back to the outer loop.
                inner.close();
                innerClosed.set(inner.isClosed() && EventLoop.current() == outer);
            });
            outer.runOnce();
            assertMessage(error.get(), "another event loop is running on this thread");
            assertTrue(innerClosed.get());
        }
    }

    @Test
    void nullsAreRejected() {
        try (EventLoop loop = virtualLoop()) {
            assertThrows(NullPointerException.class, () -> loop.callSoon(null));
            assertThrows(NullPointerException.class, () -> loop.callSoonThreadsafe(null));
            assertThrows(NullPointerException.class, () -> loop.wrapFuture(null));
            assertThrows(NullPointerException.class, () -> new Future<String>(null));
            assertThrows(NullPointerException.class, () -> loop.rootScope().newChild(null));
            assertThrows(NullPointerException.class, () -> loop.rootScope().run(null));
            assertThrows(NullPointerException.class, () -> loop.rootScope().onCancel(null));
            assertThrows(NullPointerException.class, () -> EventLoop.builder().backend(null));
            assertThrows(IllegalArgumentException.class, () -> EventLoop.builder().backend("nope").build());
        }
    }
}
