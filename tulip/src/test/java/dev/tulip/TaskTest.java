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

@Timeout(value = 60, unit = TimeUnit.SECONDS)
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

    @Test
    void stepOrderMatchesAsyncio() {
        // The same program under CPython 3 asyncio logs:
        // [main, start1, cb1, start2, main2, mid1, mid2, set, main3, fdone, got1:v, got2:v, end1, end2, t1=1, done]
        Task<Void> main = loop.createTask(() -> {
            Future<String> f = loop.createFuture();
            Task<Integer> t1 = Task.spawn(() -> child(1, f));
            loop.callSoon(() -> log.add("cb1"));
            Task<Integer> t2 = Task.spawn(() -> child(2, f));
            f.addDoneCallback(x -> log.add("fdone"));
            log.add("main");
            Tulip.sleep(Duration.ZERO);
            log.add("main2");
            loop.callSoon(() -> {
                log.add("set");
                f.setResult("v");
            });
            Tulip.sleep(Duration.ZERO);
            log.add("main3");
            log.add("t1=" + t1.await());
            t2.await();
            log.add("done");
            return null;
        });
        loop.runUntilComplete(main);
        assertEquals(List.of("main", "start1", "cb1", "start2", "main2", "mid1", "mid2", "set", "main3", "fdone",
                "got1:v", "got2:v", "end1", "end2", "t1=1", "done"), log);
    }

    private int child(int n, Future<String> f) {
        log.add("start" + n);
        Tulip.sleep(Duration.ZERO);
        log.add("mid" + n);
        String v = f.await();
        log.add("got" + n + ":" + v);
        Tulip.sleep(Duration.ZERO);
        log.add("end" + n);
        return n;
    }

    @Test
    void cancellationAtEveryAwaitPoint() {
        int steps = 5;
        for (int k = 0; k <= steps; k++) {
            List<String> l = new ArrayList<>();
            int cancelAt = k;
            Task<String> t = loop.createTask(() -> {
                try {
                    for (int i = 0; i < steps; i++) {
                        l.add("step" + i);
                        Tulip.sleep(Duration.ofSeconds(1));
                    }
                    return "finished";
                } finally {
                    l.add("finally");
                }
            });
            // The body reaches await i at time i seconds; cancel while it waits at await k (or after the end).
            loop.callLater(Duration.ofMillis(500 + 1000L * cancelAt), () -> t.cancel("at " + cancelAt));
            if (k < steps) {
                CancellationException e = assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
                assertEquals("at " + k, e.getMessage());
                assertEquals(k + 2, l.size(), l.toString());
                assertEquals("step" + k, l.get(k));
            } else {
                assertEquals("finished", loop.runUntilComplete(t));
                assertEquals(steps + 1, l.size());
            }
            assertEquals("finally", l.getLast());
        }
    }

    @Test
    void cancellationRacingCompletionStillCancels() {
        // The awaited future completes and the task is cancelled in the same callback: the result is not delivered,
        // the await throws (asyncio: _must_cancel is set because the waiter could not be cancelled).
        Future<String> f = loop.createFuture();
        Task<String> t = loop.createTask(f::await);
        loop.callLater(Duration.ofSeconds(1), () -> {
            f.setResult("late");
            assertTrue(t.cancel("raced"));
        });
        CancellationException e = assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertEquals("raced", e.getMessage());
        assertFalse(f.isCancelled());
    }

    @Test
    void cancellingADoneTaskReturnsFalse() {
        Task<String> t = loop.createTask(() -> "x");
        loop.runUntilComplete(t);
        assertFalse(t.cancel());
        assertEquals(0, t.cancelling());
    }

    @Test
    void cancellingAndUncancelCount() {
        Task<Integer> t = loop.createTask(() -> {
            Task<?> me = Task.current();
            int seen = 0;
            for (int i = 0; i < 2; i++) {
                try {
                    Tulip.sleep(Duration.ofSeconds(10));
                } catch (CancellationException e) {
                    seen = me.cancelling();
                }
            }
            me.uncancel();
            int after = me.uncancel();
            return seen * 10 + after;
        });
        loop.callLater(Duration.ofSeconds(1), () -> {
            t.cancel();
            t.cancel();
        });
        loop.callLater(Duration.ofSeconds(2), () -> t.cancel());
        assertEquals(31, loop.runUntilComplete(t));
    }

    @Test
    void parentFailureCancelsUnfinishedChildrenAndItsTimers() {
        List<Task<?>> kids = new ArrayList<>();
        Task<Object> parent = loop.createTask(() -> {
            kids.add(Task.spawn(() -> {
                try {
                    Tulip.sleep(Duration.ofSeconds(100));
                } finally {
                    Tulip.sleep(Duration.ofSeconds(1)); // cleanup may still await, though the scope is cancelled
                    log.add("child unwound");
                }
                return null;
            }));
            kids.add(loop.createTask(Task.Options.DEFAULT.withDetached(true), () -> {
                Tulip.sleep(Duration.ofSeconds(5));
                log.add("detached finished");
                return null;
            }));
            loop.callLater(Duration.ofSeconds(50), () -> log.add("timer fired"));
            Tulip.sleep(Duration.ofSeconds(1));
            throw new IllegalStateException("parent failed");
        });
        assertThrows(IllegalStateException.class, () -> loop.runUntilComplete(parent));
        loop.runUntilComplete(kids.get(1));
        assertTrue(kids.get(0).isCancelled());
        assertTrue(kids.get(0).scope().isCancelled());
        assertEquals(List.of("child unwound", "detached finished"), log);
        Future<Void> later = loop.createFuture();
        loop.callLater(Duration.ofSeconds(100), () -> later.setResult(null));
        loop.runUntilComplete(later);
        assertFalse(log.contains("timer fired"));
    }

    @Test
    void parentSuccessLeavesChildrenRunning() {
        Task<?>[] kid = new Task<?>[1];
        Task<String> parent = loop.createTask(() -> {
            kid[0] = Task.spawn(() -> {
                Tulip.sleep(Duration.ofSeconds(5));
                return "kid done";
            });
            return "parent done";
        });
        assertEquals("parent done", loop.runUntilComplete(parent));
        assertEquals("kid done", loop.runUntilComplete(kid[0]));
    }

    @Test
    void cancellingTheParentCancelsChildrenOnceItEnds() {
        Task<?>[] kid = new Task<?>[1];
        Task<String> parent = loop.createTask(() -> {
            kid[0] = Task.spawn(() -> {
                Tulip.sleep(Duration.ofSeconds(100));
                return "kid";
            });
            Tulip.sleep(Duration.ofSeconds(100));
            return "parent";
        });
        loop.callLater(Duration.ofSeconds(1), () -> parent.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(parent));
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(kid[0]));
    }

    @Test
    void cancellingTheCreationScopeCancelsTheTask() {
        Scope s = loop.rootScope().newChild("work");
        Task<String> t;
        try (Scope.Entered e = s.enter()) {
            t = loop.createTask(() -> {
                Tulip.sleep(Duration.ofSeconds(100));
                return "x";
            });
        }
        loop.callLater(Duration.ofSeconds(1), s::cancel);
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertThrows(IllegalStateException.class, () -> {
            try (Scope.Entered e = s.enter()) {
                loop.createTask(() -> "no");
            }
        });
    }

    @Test
    void eagerTaskRunsUntilItsFirstSuspension() {
        Task<Void> main = loop.createTask(() -> {
            Task<String> quick = loop.createTask(Task.Options.DEFAULT.withEager(true), () -> {
                log.add("quick body");
                return "q";
            });
            log.add("after quick: done=" + quick.isDone());
            Task<String> slow = loop.createTask(Task.Options.named("slow").withEager(true), () -> {
                log.add("slow start, current=" + Task.current().name());
                Tulip.sleep(Duration.ZERO);
                log.add("slow resumed");
                return "s";
            });
            log.add("after slow: done=" + slow.isDone() + ", current=" + Task.current().name());
            slow.await();
            return null;
        });
        loop.runUntilComplete(main);
        assertEquals(List.of("quick body", "after quick: done=true", "slow start, current=slow",
                "after slow: done=false, current=" + main.name(), "slow resumed"), log);
    }

    @Test
    void awaitRules() {
        EventLoop other = EventLoop.create();
        Future<String> foreign = new Future<>(other);
        other.close();
        Task<String> t = loop.createTask(() -> {
            IllegalStateException self = assertThrows(IllegalStateException.class, () -> Task.current().await());
            assertThrows(IllegalArgumentException.class, foreign::await);
            return self.getMessage();
        });
        assertTrue(loop.runUntilComplete(t).contains("itself"));
        assertThrows(UnsupportedOperationException.class, () -> t.setResult("x"));
        assertThrows(UnsupportedOperationException.class, () -> t.setException(new RuntimeException()));
    }

    @Test
    void allTasksAndDumpShowWhereEachIsSuspended() {
        Future<String> gate = loop.createFuture();
        Task<String> t = loop.createTask("waiter", () -> parkedHere(gate));
        loop.callLater(Duration.ofSeconds(1), () -> {
            assertEquals(List.of(t), loop.allTasks());
            assertSame(gate, t.awaiting());
            String dump = Tulip.dumpTasks(loop);
            log.add(dump);
            gate.setResult("open");
        });
        assertEquals("open", loop.runUntilComplete(t));
        assertTrue(log.getFirst().contains("- waiter"), log.getFirst());
        assertTrue(log.getFirst().contains("parkedHere"), log.getFirst());
        assertTrue(loop.allTasks().isEmpty());
    }

    private String parkedHere(Future<String> gate) {
        return gate.await();
    }

    @Test
    void closingTheLoopCancelsPendingTasksAndTheirBodiesUnwind() throws Exception {
        List<Thread> bodies = new ArrayList<>();
        List<java.lang.ref.WeakReference<Task<?>>> refs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Task<Void> t = loop.createTask(() -> {
                bodies.add(Thread.currentThread());
                try {
                    Tulip.sleep(Duration.ofDays(1));
                } finally {
                    log.add("unwound");
                }
                return null;
            });
            refs.add(new java.lang.ref.WeakReference<>(t));
        }
        // A stubborn body: swallows every cancellation and awaits again.
        Task<Void> stubborn = loop.createTask(() -> {
            for (int i = 0; i < 100; i++) {
                try {
                    Tulip.sleep(Duration.ofDays(1));
                } catch (CancellationException ignored) {
                    log.add("swallowed");
                }
            }
            return null;
        });
        refs.add(new java.lang.ref.WeakReference<>(stubborn));
        stubborn = null;
        Task<Void> tick = loop.createTask(() -> {
            Tulip.sleep(Duration.ofSeconds(1));
            return null;
        });
        loop.runUntilComplete(tick);
        tick = null;
        loop.close();
        assertEquals(20, log.stream().filter("unwound"::equals).count());
        assertTrue(log.contains("swallowed"));
        for (Thread b : bodies) {
            if (b.isVirtual()) {
                assertTrue(b.join(Duration.ofSeconds(10)), "task thread still alive: " + b);
            }
        }
        bodies.clear(); // a terminated virtual thread may still reference its task
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // by the clock, not a count of collections
        while (refs.stream().anyMatch(r -> r.get() != null) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(refs.stream().allMatch(r -> r.get() == null), "tasks still reachable after close");
    }

    @Test
    void bodyRunsAsTheLoopThread() {
        Task<Boolean> t = loop.createTask(() -> {
            TulipLoopAccess.checkOwned(loop);
            return EventLoop.current() == loop;
        });
        loop.setDebug(true);
        assertTrue(loop.runUntilComplete(t));
    }

    @Test
    void exceptionsInChildrenAreReportedOnce() throws Exception {
        List<ExceptionContext> reported = new java.util.concurrent.CopyOnWriteArrayList<>();
        loop.setDebug(true);
        loop.setExceptionHandler((l, c) -> reported.add(c));
        Task<Object> main = loop.createTask(() -> {
            Task<Object> awaited = Task.spawn(() -> {
                throw new IllegalStateException("awaited");
            });
            Task.spawn(() -> {
                throw new IllegalStateException("forgotten");
            });
            try {
                awaited.await();
            } catch (IllegalStateException e) {
                log.add("caught " + e.getMessage());
            }
            Tulip.sleep(Duration.ofSeconds(1));
            return null;
        });
        loop.runUntilComplete(main);
        main = null;
        assertEquals(List.of("caught awaited"), log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30); // by the clock: the cleaner may be starved
        while (reported.isEmpty() && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
            loop.callLater(Duration.ofMillis(1), () -> { });
            loop.runOnce(); // the timer keeps the pass from blocking; the cleaner's report comes through the inbox
        }
        Thread.sleep(100);
        System.gc();
        loop.callLater(Duration.ofMillis(1), () -> { });
        loop.runOnce();
        assertEquals(1, reported.size(), reported.toString());
        assertEquals("forgotten", reported.getFirst().exception().getMessage());
    }

    /** Awaits while its class is being initialized: a frame a continuation cannot yield through. */
    static final class AwaitsInStaticInit {
        static final String VALUE;

        static {
            Tulip.sleep(Duration.ZERO);
            VALUE = "initialized";
        }

        private AwaitsInStaticInit() {
        }
    }

    @Test
    void awaitWhereTheEngineCannotSuspendFailsClearly() {
        Task<String> t = loop.createTask(() -> {
            try {
                return AwaitsInStaticInit.VALUE;
            } catch (ExceptionInInitializerError e) {
                return "error: " + e.getCause().getMessage();
            }
        });
        String r = loop.runUntilComplete(t);
        if (dev.tulip.internal.task.Engine.current() == dev.tulip.internal.task.Engine.CONTINUATION) {
            assertTrue(r.startsWith("error: await() cannot suspend this task"), r);
        } else {
            assertEquals("initialized", r); // a virtual thread parks pinned to its carrier: slower, still correct
        }
    }

    @Test
    void randomCancellationsNeverLoseAnUnwindOrAReport() {
        // Property: whatever the interleaving of awaits and cancellations, every body unwinds exactly once, every
        // task ends, and nothing reaches the exception handler.
        List<ExceptionContext> reported = new ArrayList<>();
        loop.setExceptionHandler((l, c) -> reported.add(c));
        for (long seed = 1; seed <= 5; seed++) {
            java.util.Random rnd = new java.util.Random(seed);
            int n = 100;
            int[] unwound = new int[n];
            List<Future<String>> shared = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                Future<String> f = loop.createFuture();
                shared.add(f);
                loop.callLater(Duration.ofMillis(rnd.nextInt(2000)), () -> {
                    if (!f.isDone()) {
                        f.setResult("v");
                    }
                });
            }
            List<Task<Integer>> tasks = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int id = i;
                long taskSeed = rnd.nextLong();
                tasks.add(loop.createTask(() -> {
                    java.util.Random r = new java.util.Random(taskSeed);
                    int done = 0;
                    try {
                        for (int step = 0; step < 10; step++) {
                            try {
                                switch (r.nextInt(3)) {
                                    case 0 -> Tulip.sleep(Duration.ofMillis(r.nextInt(500)));
                                    case 1 -> Tulip.shield(shared.get(r.nextInt(shared.size()))).await();
                                    default -> Tulip.sleep(Duration.ZERO);
                                }
                                done++;
                            } catch (CancellationException e) {
                                if (r.nextInt(4) != 0) {
                                    throw e;
                                }
                                Task.current().uncancel(); // sometimes: swallow it and go on
                            }
                        }
                        return done;
                    } finally {
                        unwound[id]++;
                    }
                }));
            }
            for (int i = 0; i < 150; i++) {
                Task<Integer> victim = tasks.get(rnd.nextInt(n));
                loop.callLater(Duration.ofMillis(rnd.nextInt(3000)), () -> victim.cancel("random"));
            }
            Future<List<Object>> all = Tulip.gatherReturningExceptions(tasks);
            loop.runUntilComplete(all);
            for (int i = 0; i < n; i++) {
                assertTrue(tasks.get(i).isDone());
                assertEquals(1, unwound[i], "task " + i + " seed " + seed);
                Object outcome = all.result().get(i);
                assertTrue(outcome instanceof Integer || outcome instanceof CancellationException, String.valueOf(outcome));
            }
            assertTrue(loop.allTasks().isEmpty());
        }
        assertTrue(reported.isEmpty(), reported.toString());
    }
}
