package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class TaskTest {
    EventLoop loop;
    final List<String> log = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loop = EventLoop.builder().virtualTime(true).build();
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    @Test
    void taskReturnsItsResult() {
        Task<Integer> t = loop.createTask(() -> 42);
        assertFalse(t.isDone());
        assertEquals(42, loop.runUntilComplete(t));
    }

    @Test
    void awaitSuspendsUntilTheFutureIsDone() {
        Future<String> f = loop.createFuture();
        Task<String> t = loop.createTask(() -> {
            log.add("before");
            String v = f.await();
            log.add("after " + v);
            return v + "!";
        });
        loop.callLater(Duration.ofSeconds(5), () -> {
            log.add("set");
            f.setResult("x");
        });
        assertEquals("x!", loop.runUntilComplete(t));
        assertEquals(List.of("before", "set", "after x"), log);
        assertEquals(5_000_000_000L, loop.time(), 1_000_000L);
    }

    @Test
    void uncheckedFailureIsTheTaskException() {
        Task<Object> t = loop.createTask(() -> {
            throw new IllegalArgumentException("boom");
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> loop.runUntilComplete(t));
        assertEquals("boom", e.getMessage());
        assertSame(e, t.exception());
    }

    @Test
    void checkedFailureComesBackWrapped() {
        Task<Object> t = loop.createTask(() -> {
            throw new java.io.IOException("io");
        });
        CompletionException e = assertThrows(CompletionException.class, () -> loop.runUntilComplete(t));
        assertEquals("io", e.getCause().getMessage());
    }

    @Test
    void cancelThrowsAtThePendingAwaitWithTheMessageAndCancelsTheAwaitedFuture() {
        Future<String> f = loop.createFuture();
        Task<String> t = loop.createTask(() -> {
            try {
                return f.await();
            } catch (CancellationException e) {
                log.add("caught " + e.getMessage());
                throw e;
            } finally {
                log.add("finally");
            }
        });
        loop.callLater(Duration.ofSeconds(1), () -> assertTrue(t.cancel("stop it")));
        CancellationException e = assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertEquals("stop it", e.getMessage());
        assertTrue(t.isCancelled());
        assertTrue(f.isCancelled());
        assertEquals(List.of("caught stop it", "finally"), log);
        assertEquals(1, t.cancelling());
    }

    @Test
    void aTaskMayCatchCancellationAndGoOn() {
        Task<String> t = loop.createTask(() -> {
            try {
                Tulip.sleep(Duration.ofSeconds(10));
            } catch (CancellationException e) {
                log.add("caught");
                Task.current().uncancel();
            }
            Tulip.sleep(Duration.ofSeconds(1));
            return "survived";
        });
        loop.callLater(Duration.ofSeconds(1), () -> t.cancel());
        assertEquals("survived", loop.runUntilComplete(t));
        assertEquals(0, t.cancelling());
        assertEquals(2_000_000_000L, loop.time(), 1_000_000L);
    }

    @Test
    void cancelBeforeStartNeverRunsTheBody() {
        Task<String> t = loop.createTask(() -> {
            log.add("ran");
            return "x";
        });
        t.cancel("early");
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertTrue(log.isEmpty());
    }

    @Test
    void selfCancelTakesEffectAtTheNextSuspension() {
        Task<String> t = loop.createTask(() -> {
            Task.current().cancel("self");
            log.add("still running");
            Tulip.sleep(Duration.ofSeconds(1));
            log.add("not reached");
            return "x";
        });
        CancellationException e = assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertEquals("self", e.getMessage());
        assertEquals(List.of("still running"), log);
    }

    @Test
    void cancelAfterTheLastAwaitStillCancels() {
        // asyncio: a task whose body returns while a cancellation is pending ends cancelled.
        Task<String> t = loop.createTask(() -> {
            Task.current().cancel("late");
            return "x";
        });
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertTrue(t.isCancelled());
    }

    @Test
    void awaitingACancelledTaskThrowsCancellation() {
        Task<String> inner = loop.createTask(() -> {
            Tulip.sleep(Duration.ofSeconds(10));
            return "x";
        });
        Task<String> outer = loop.createTask(() -> {
            try {
                return inner.await();
            } catch (CancellationException e) {
                return "inner cancelled: " + e.getMessage();
            }
        });
        loop.callLater(Duration.ofSeconds(1), () -> inner.cancel("bye"));
        assertEquals("inner cancelled: bye", loop.runUntilComplete(outer));
    }

    @Test
    void currentAndNames() {
        Task<String> t = loop.createTask("worker", () -> Task.current().name());
        assertEquals("worker", loop.runUntilComplete(t));
        assertTrue(Task.find().isEmpty());
        Task<String> auto = loop.createTask(() -> "x");
        assertTrue(auto.name().startsWith("Task-"));
        loop.runUntilComplete(auto);
    }

    @Test
    void spawnedTasksInterleaveAtAwaitsOnly() {
        Task<Void> main = loop.createTask(() -> {
            Task<Void> a = Task.spawn(() -> {
                for (int i = 0; i < 3; i++) {
                    log.add("a" + i);
                    Tulip.sleep(Duration.ZERO);
                }
                return null;
            });
            Task<Void> b = Task.spawn(() -> {
                for (int i = 0; i < 3; i++) {
                    log.add("b" + i);
                    Tulip.sleep(Duration.ZERO);
                }
                return null;
            });
            log.add("main");
            a.await();
            b.await();
            log.add("done");
            return null;
        });
        loop.runUntilComplete(main);
        assertEquals(List.of("main", "a0", "b0", "a1", "b1", "a2", "b2", "done"), log);
    }

    @Test
    void awaitOnTheLoopThreadOutsideATaskThrows() {
        Future<String> f = loop.createFuture();
        Task<String> t = loop.createTask(() -> "x");
        loop.callSoon(() -> log.add(assertThrows(IllegalStateException.class, f::await).getMessage()));
        loop.runUntilComplete(t);
        assertEquals(1, log.size());
        assertNull(Task.find().orElse(null));
    }
}
