package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.internal.task.Engine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Timeout(value = 30, unit = TimeUnit.SECONDS)
class TulipTest {
    private static final long S = 1_000_000_000L;
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

    private <T> T run(Coroutine<T> body) {
        return loop.runUntilComplete(loop.createTask("main", body));
    }

    private Task<String> after(int seconds, String value) {
        return Task.spawn(() -> {
            try {
                Tulip.sleep(Duration.ofSeconds(seconds));
            } catch (CancellationException e) {
                log.add(value + " cancelled");
                throw e;
            }
            log.add(value);
            return value;
        });
    }

    private Task<String> failAfter(int seconds, String msg) {
        return Task.spawn(() -> {
            Tulip.sleep(Duration.ofSeconds(seconds));
            throw new IllegalStateException(msg);
        });
    }

    // --- sleep

    @Test
    void sleepUsesLoopTime() {
        run(() -> {
            Tulip.sleep(Duration.ofSeconds(3));
            return null;
        });
        assertEquals(3 * S, loop.time(), 1_000_000L);
    }

    @Test
    void sleepOnTheLoopThreadOutsideATaskFails() {
        loop.callSoon(() -> log.add(assertThrows(IllegalStateException.class,
                () -> Tulip.sleep(Duration.ofSeconds(1))).getMessage()));
        run(() -> null);
        assertEquals(1, log.size());
    }

    // --- waitFor

    @Test
    void waitForReturnsTheResultInTime() {
        assertEquals("v", run(() -> Tulip.waitFor(after(1, "v"), Duration.ofSeconds(5))));
    }

    @Test
    void waitForTimeoutCancelsTheTaskAndWaitsForItToUnwind() {
        String r = run(() -> {
            Task<String> slow = Task.spawn(() -> {
                try {
                    Tulip.sleep(Duration.ofSeconds(100));
                    return "slow";
                } finally {
                    Tulip.shield(loop.createFuture()); // unwinding may still use the loop
                    Tulip.sleep(Duration.ofSeconds(1));
                    log.add("slow unwound at " + loop.time() / S);
                }
            });
            try {
                return Tulip.waitFor(slow, Duration.ofSeconds(2));
            } catch (TimeoutException e) {
                assertTrue(slow.isCancelled());
                return "timeout at " + loop.time() / S;
            }
        });
        assertEquals("timeout at 3", r);
        assertEquals(List.of("slow unwound at 3"), log);
    }

    @Test
    void waitForDoesNotSwallowACancellationRacingCompletion() {
        // cpython #86296: the inner future completes and the waiting task is cancelled in the same pass.
        Task<?>[] outer = new Task<?>[1];
        Task<String> t = loop.createTask(() -> {
            outer[0] = Task.current();
            Future<String> inner = loop.createFuture();
            inner.addDoneCallback(f -> outer[0].cancel("raced"));
            loop.callLater(Duration.ofSeconds(1), () -> inner.setResult("value"));
            return Tulip.waitFor(inner, Duration.ofSeconds(10));
        });
        CancellationException e = assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertFalse(e instanceof TimeoutException);
        assertTrue(t.isCancelled());
    }

    // --- gather

    @Test
    void gatherKeepsTheOrderOfItsArguments() {
        assertEquals(List.of("a", "b", "c"), run(() -> Tulip.gather(after(3, "a"), after(1, "b"), after(2, "c")).await()));
        assertEquals(List.of("b", "c", "a"), log);
    }

    @Test
    void gatherFailsAtTheFirstFailureAndTheOthersGoOn() {
        List<Task<String>> kids = new ArrayList<>();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> run(() -> {
            // Detached: children of main would be cancelled with it (structured concurrency) when gather fails it.
            kids.add(loop.createTask(Task.Options.DEFAULT.withDetached(true), () -> {
                Tulip.sleep(Duration.ofSeconds(5));
                return "slow";
            }));
            kids.add(failAfter(1, "boom"));
            return Tulip.gather(kids).await();
        }));
        assertEquals("boom", e.getMessage());
        assertEquals("slow", loop.runUntilComplete(kids.getFirst()));
    }

    @Test
    void gatherReturningExceptions() {
        List<Object> r = run(() -> {
            Task<String> c = after(10, "never");
            loop.callLater(Duration.ofSeconds(1), () -> c.cancel("cut"));
            return Tulip.gatherReturningExceptions(List.of(after(2, "ok"), failAfter(1, "bad"), c)).await();
        });
        assertEquals("ok", r.get(0));
        assertEquals("bad", ((IllegalStateException) r.get(1)).getMessage());
        assertEquals("cut", ((CancellationException) r.get(2)).getMessage());
    }

    @Test
    void cancellingGatherCancelsTheChildren() {
        Task<Object> main = loop.createTask(() -> Tulip.gather(after(10, "a"), after(10, "b")).await());
        loop.callLater(Duration.ofSeconds(1), () -> main.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(main));
        assertEquals(List.of("a cancelled", "b cancelled"), log);
    }

    @Test
    void gatherOfNothing() {
        assertEquals(List.of(), run(() -> Tulip.gather(List.<Future<String>>of()).await()));
    }

    // --- wait

    @Test
    void waitFirstCompleted() {
        run(() -> {
            Task<String> a = after(1, "a");
            Task<String> b = after(5, "b");
            Tulip.WaitResult<Task<String>> r = Tulip.wait(List.of(a, b), Tulip.WaitMode.FIRST_COMPLETED, null);
            assertEquals(Set.of(a), r.done());
            assertEquals(Set.of(b), r.pending());
            return null;
        });
        assertEquals(1 * S, loop.time(), 1_000_000L);
    }

    @Test
    void waitFirstExceptionAndAllCompleted() {
        run(() -> {
            Task<String> a = after(1, "a");
            Task<String> bad = failAfter(2, "bad");
            Task<String> c = after(5, "c");
            Tulip.WaitResult<Task<String>> r = Tulip.wait(List.of(a, bad, c), Tulip.WaitMode.FIRST_EXCEPTION, null);
            assertEquals(Set.of(a, bad), r.done());
            assertEquals(2 * S, loop.time(), 1_000_000L);
            r = Tulip.wait(List.of(a, bad, c), Tulip.WaitMode.ALL_COMPLETED, null);
            assertEquals(Set.of(a, bad, c), r.done());
            assertTrue(r.pending().isEmpty());
            bad.exception();
            return null;
        });
    }

    @Test
    void waitTimeoutLeavesPendingAndCancelsNothing() {
        run(() -> {
            Task<String> slow = after(10, "slow");
            Tulip.WaitResult<Task<String>> r = Tulip.wait(List.of(slow), Tulip.WaitMode.ALL_COMPLETED,
                    Duration.ofSeconds(1));
            assertEquals(Set.of(slow), r.pending());
            assertFalse(slow.isCancelled());
            return slow.await();
        });
        assertThrows(IllegalArgumentException.class, () -> run(() -> Tulip.wait(List.of(), Tulip.WaitMode.ALL_COMPLETED, null)));
    }

    // --- asCompleted

    @Test
    void asCompletedYieldsInCompletionOrder() {
        List<String> order = run(() -> {
            List<String> out = new ArrayList<>();
            for (Task<String> t : Tulip.asCompleted(List.of(after(3, "a"), after(1, "b"), after(2, "c")), null)) {
                out.add(t.result());
            }
            return out;
        });
        assertEquals(List.of("b", "c", "a"), order);
    }

    @Test
    void asCompletedTimeout() {
        List<String> got = new ArrayList<>();
        assertThrows(TimeoutException.class, () -> run(() -> {
            for (Task<String> t : Tulip.asCompleted(List.of(after(1, "a"), after(5, "b")), Duration.ofSeconds(2))) {
                got.add(t.result());
            }
            return null;
        }));
        assertEquals(List.of("a"), got);
    }

    // --- shield

    @Test
    void shieldProtectsTheInnerWork() {
        Task<String>[] inner = new Task[1];
        Task<String> main = loop.createTask(() -> {
            // Detached: a child of main would be cancelled anyway when main ends cancelled (structured concurrency).
            inner[0] = loop.createTask(Task.Options.DEFAULT.withDetached(true), () -> {
                Tulip.sleep(Duration.ofSeconds(5));
                return "inner";
            });
            return Tulip.shield(inner[0]).await();
        });
        loop.callLater(Duration.ofSeconds(1), () -> main.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(main));
        assertEquals("inner", loop.runUntilComplete(inner[0]));
    }

    // --- executor

    @Test
    void runInExecutorDeliversOnTheLoopThread() {
        String r = run(() -> {
            String v = loop.runInExecutor(() -> {
                assertTrue(EventLoop.find().isEmpty(), "the job must not look like the loop thread");
                return "from " + (Thread.currentThread().isVirtual() ? "virtual" : "platform");
            }).await();
            TulipLoopAccess.checkOwned(loop);
            return v;
        });
        assertEquals("from virtual", r);
        CompletionException e = assertThrows(CompletionException.class, () -> run(() -> Tulip.runInExecutor(() -> {
            throw new java.io.IOException("job failed");
        }).await()));
        assertEquals("job failed", e.getCause().getMessage());
    }

    @Test
    void cancellingTheAwaitingTaskInterruptsTheJob() {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        boolean ok = run(() -> {
            Future<String> job = loop.runInExecutor(() -> {
                started.countDown();
                try {
                    Thread.sleep(60_000);
                    return "slept";
                } catch (InterruptedException e) {
                    interrupted.countDown();
                    throw e;
                }
            });
            loop.runInExecutor(() -> started.await(10, TimeUnit.SECONDS)).await();
            Task<String> waiter = Task.spawn(job::await);
            Tulip.sleep(Duration.ZERO);
            waiter.cancel();
            assertThrows(CancellationException.class, waiter::await);
            assertTrue(job.isCancelled());
            return loop.runInExecutor(() -> interrupted.await(10, TimeUnit.SECONDS)).await();
        });
        assertTrue(ok);
    }

    @Test
    void customExecutor() throws Exception {
        java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            assertEquals("pool", run(() -> loop.runInExecutor(ex, () -> "pool").await()));
        } finally {
            ex.shutdownNow();
        }
    }

    // --- Tulip.run

    @Test
    void runReturnsTheResultAndCancelsLeftovers() {
        List<String> l = new ArrayList<>();
        String r = Tulip.run(EventLoop.builder().virtualTime(true), () -> {
            if (Engine.current() == Engine.VIRTUAL_THREAD) {
                assertTrue(Thread.currentThread().isVirtual(), "Tulip.run puts the loop on a virtual thread");
            }
            Task.spawn(() -> {
                try {
                    Tulip.sleep(Duration.ofDays(1));
                } finally {
                    l.add("leftover unwound");
                }
                return null;
            });
            Tulip.sleep(Duration.ofSeconds(1));
            return "main result";
        });
        assertEquals("main result", r);
        assertEquals(List.of("leftover unwound"), l);
    }

    @Test
    void runThrowsTheFailure() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tulip.run(() -> {
            Tulip.sleep(Duration.ofMillis(1));
            throw new IllegalArgumentException("main failed");
        }));
        assertEquals("main failed", e.getMessage());
        CompletionException c = assertThrows(CompletionException.class, () -> Tulip.run(() -> {
            throw new java.io.IOException("checked");
        }));
        assertInstanceOf(java.io.IOException.class, c.getCause());
    }

    @Test
    void runInsideARunningLoopFails() {
        run(() -> {
            assertThrows(IllegalStateException.class, () -> Tulip.run(() -> null));
            return null;
        });
    }

    // --- run_coroutine_threadsafe

    @Test
    void runCoroutineThreadsafeFromAnotherThread() throws Exception {
        EventLoop real = EventLoop.create();
        Thread t = Thread.ofPlatform().name("loop").start(real::runForever);
        try {
            CompletableFuture<String> cf = Tulip.runCoroutineThreadsafe(real, () -> {
                Tulip.sleep(Duration.ofMillis(5));
                return "hello from " + Thread.currentThread().getName().startsWith("tulip");
            });
            assertTrue(cf.get(10, TimeUnit.SECONDS).startsWith("hello from"));
            CompletableFuture<String> never = Tulip.runCoroutineThreadsafe(real, () -> {
                Tulip.sleep(Duration.ofDays(1));
                return "no";
            });
            CompletableFuture<Integer> count = Tulip.runCoroutineThreadsafe(real, () -> real.allTasks().size());
            assertEquals(2, count.get(10, TimeUnit.SECONDS)); // "never" and the counting task itself
            never.cancel(true);
            CompletableFuture<Integer> after = new CompletableFuture<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // by the clock, not a count of tries
            while (System.nanoTime() < deadline) {
                CompletableFuture<Integer> c = Tulip.runCoroutineThreadsafe(real, () -> real.allTasks().size() - 1);
                if (c.get(10, TimeUnit.SECONDS) == 0) {
                    after.complete(0);
                    break;
                }
                Thread.sleep(10);
            }
            assertEquals(0, after.getNow(-1));
            CompletableFuture<Object> failing = Tulip.runCoroutineThreadsafe(real, () -> {
                throw new IllegalStateException("bad");
            });
            ExecutionException e = assertThrows(ExecutionException.class, () -> failing.get(10, TimeUnit.SECONDS));
            assertSame(IllegalStateException.class, e.getCause().getClass());
        } finally {
            real.stop();
            t.join(10_000);
            real.close();
        }
    }
}
