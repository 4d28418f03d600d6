package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.loop.VirtualClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Debug mode: thread checks, slow callbacks, never-retrieved exceptions. */
@Timeout(60)
class DebugModeTest {

    @Test
    void loopOnlyMethodsFromAnotherThreadAreRejectedInDebugMode() throws Exception {
        try (EventLoop loop = EventLoop.builder().debug(true).build()) {
            assertTrue(loop.isDebug());
            Future<String> f = loop.createFuture();
            CountDownLatch running = new CountDownLatch(1);
            AtomicReference<List<Throwable>> errors = new AtomicReference<>();
            loop.callSoon(running::countDown);
            Thread other = new Thread(() -> {
                try {
                    running.await();
                } catch (InterruptedException e) {
                    return;
                }
                List<Throwable> caught = new java.util.ArrayList<>();
                for (Runnable r : List.<Runnable>of(
                        () -> loop.callSoon(() -> { }),
                        () -> loop.callLater(Duration.ZERO, () -> { }),
                        () -> f.setResult("wrong thread"),
                        () -> f.addDoneCallback(x -> { }),
                        () -> loop.rootScope().newChild("x"))) {
                    try {
                        r.run();
                    } catch (IllegalStateException e) {
                        caught.add(e);
                    }
                }
                errors.set(caught);
                loop.callSoonThreadsafe(() -> f.setResult("right thread")); // the way to do it
            });
            other.start();
            assertEquals("right thread", loop.runUntilComplete(f));
            other.join();
            assertEquals(5, errors.get().size(), errors.get().toString());
            for (Throwable t : errors.get()) {
                assertTrue(t.getMessage().contains("callSoonThreadsafe"), t.getMessage());
            }
        }
    }

    @Test
    void debugModeCanBeSwitched() {
        try (EventLoop loop = EventLoop.create()) {
            assertFalse(loop.isDebug());
            loop.setDebug(true);
            assertTrue(loop.isDebug());
            loop.setDebug(false);
            assertFalse(loop.isDebug());
            assertThrows(IllegalArgumentException.class, () -> loop.setSlowCallbackThreshold(Duration.ZERO));
            assertThrows(IllegalArgumentException.class,
                    () -> EventLoop.builder().slowCallbackThreshold(Duration.ofMillis(-1)));
        }
    }

    @Test
    void slowCallbacksAreLogged() {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).debug(true).build(); LogCapture log = new LogCapture()) {
            VirtualClock clock = (VirtualClock) ((TulipLoop) loop).clock();
            loop.callSoon(() -> clock.advance(Duration.ofMillis(150).toNanos()));
            loop.callSoon(() -> clock.advance(Duration.ofMillis(50).toNanos()));
            loop.runOnce();
            List<LogRecord> slow = log.matching("took");
            assertEquals(1, slow.size(), "only the callback over the 100 ms default");
            assertEquals(Level.WARNING, slow.get(0).getLevel());
            assertTrue(slow.get(0).getMessage().contains("0.150 seconds"), slow.get(0).getMessage());

            loop.setSlowCallbackThreshold(Duration.ofMillis(10));
            loop.callSoon(() -> clock.advance(Duration.ofMillis(50).toNanos()));
            loop.runOnce();
            assertEquals(2, log.matching("took").size());

            loop.setDebug(false);
            loop.callSoon(() -> clock.advance(Duration.ofSeconds(5).toNanos()));
            loop.runOnce();
            assertEquals(2, log.matching("took").size(), "not measured outside debug mode");
        }
    }

    @Test
    void neverRetrievedFutureExceptionIsReportedWhenCollected() throws Exception {
        try (EventLoop loop = EventLoop.builder().debug(true).build()) {
            List<ExceptionContext> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
            loop.setExceptionHandler((l, c) -> reports.add(c));
            failAndForget(loop, "nobody looked at me");
            retrievedFailure(loop);
            Future<String> tick = loop.createFuture();
            // The report comes from the cleaner thread once a collection found the future: wait by the clock, not by
            // a count of collections, which a loaded machine's starved cleaner thread can outlast.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (reports.isEmpty() && System.nanoTime() < deadline) {
                System.gc();
                Thread.sleep(20);
                loop.callSoon(() -> { });
                loop.runOnce();
            }
            assertEquals(1, reports.size(), reports.toString());
            assertTrue(reports.get(0).message().contains("never retrieved"), reports.get(0).message());
            assertEquals("nobody looked at me", reports.get(0).exception().getMessage());
            assertFalse(tick.isDone());
        }
    }

    private static void failAndForget(EventLoop loop, String message) {
        Future<String> f = loop.createFuture();
        f.setException(new IllegalStateException(message));
    }

    private static void retrievedFailure(EventLoop loop) {
        Future<String> f = loop.createFuture();
        f.setException(new IllegalStateException("retrieved"));
        f.exception();
    }
}
