package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 20, unit = TimeUnit.SECONDS)
class TaskGroupTest {
    EventLoop loop;
    final List<String> log = new ArrayList<>();
    final List<ExceptionContext> reported = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loop = EventLoop.builder().virtualTime(true).build();
        loop.setExceptionHandler((l, c) -> reported.add(c));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    private <T> T run(Coroutine<T> body) {
        return loop.runUntilComplete(loop.createTask("main", body));
    }

    private Coroutine<String> sleeper(String name, int seconds) {
        return () -> {
            try {
                Tulip.sleep(Duration.ofSeconds(seconds));
                log.add(name + " done");
                return name;
            } catch (CancellationException e) {
                log.add(name + " cancelled");
                throw e;
            }
        };
    }

    private Coroutine<String> failer(String msg, int seconds) {
        return () -> {
            Tulip.sleep(Duration.ofSeconds(seconds));
            throw new IllegalStateException(msg);
        };
    }

    @Test
    void closeWaitsForAllChildren() {
        List<Task<String>> kids = new ArrayList<>();
        run(() -> {
            try (TaskGroup g = TaskGroup.open()) {
                kids.add(g.spawn(sleeper("a", 3)));
                kids.add(g.spawn("b", sleeper("b", 1)));
            }
            log.add("after group");
            return null;
        });
        assertEquals(List.of("b done", "a done", "after group"), log);
        assertEquals("a", kids.get(0).result());
        assertEquals(3_000_000_000L, loop.time(), 1_000_000L);
    }

    @Test
    void firstFailureCancelsTheOthersAndAllFailuresComeTogether() {
        TaskGroupException e = assertThrows(TaskGroupException.class, () -> run(() -> {
            try (TaskGroup g = TaskGroup.open()) {
                g.spawn(sleeper("slow", 100));
                g.spawn(failer("one", 1));
                g.spawn(failer("two", 1));
            }
            return null;
        }));
        assertEquals(List.of("one", "two"), e.failures().stream().map(Throwable::getMessage).toList());
        assertEquals("one", e.getCause().getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertEquals(List.of("slow cancelled"), log);
        assertEquals(1_000_000_000L, loop.time(), 1_000_000L);
        assertTrue(reported.isEmpty(), "child failures are reported once, in the group exception: " + reported);
    }

    @Test
    void aChildFailureCancelsTheAwaitingBody() {
        Task<Object> main = loop.createTask(() -> {
            try (TaskGroup g = TaskGroup.open()) {
                g.spawn(failer("boom", 1));
                try {
                    Tulip.sleep(Duration.ofSeconds(100));
                } catch (CancellationException c) {
                    log.add("body cancelled");
                    throw c;
                }
            }
            return null;
        });
        // try-with-resources cannot replace the body's CancellationException, so the group failure rides on it as
        // suppressed; the task itself ends failed with the TaskGroupException, not cancelled.
        TaskGroupException e = assertThrows(TaskGroupException.class, () -> loop.runUntilComplete(main));
        assertEquals("boom", e.getCause().getMessage());
        assertFalse(main.isCancelled());
        assertEquals(0, main.cancelling());
        assertEquals(List.of("body cancelled"), log);
    }

    @Test
    void runFormReportsTheGroupFailureAndTheTaskGoesOn() {
        String r = run(() -> {
            try {
                TaskGroup.run(g -> {
                    g.spawn(failer("boom", 1));
                    Tulip.sleep(Duration.ofSeconds(100));
                    return null;
                });
            } catch (TaskGroupException e) {
                log.add("caught " + e.failures().getFirst().getMessage());
            }
            Tulip.sleep(Duration.ofSeconds(1)); // the group's own cancellation of the body was taken back
            return "went on";
        });
        assertEquals("went on", r);
        assertEquals(List.of("caught boom"), log);
    }

    @Test
    void runFormBodyFailureCancelsChildrenAtOnce() {
        TaskGroupException e = assertThrows(TaskGroupException.class, () -> run(() -> TaskGroup.run(g -> {
            g.spawn(sleeper("kid", 100));
            Tulip.sleep(Duration.ofSeconds(1));
            throw new IllegalArgumentException("body failed");
        })));
        assertInstanceOf(IllegalArgumentException.class, e.getCause());
        assertEquals(List.of("kid cancelled"), log);
        assertEquals(1_000_000_000L, loop.time(), 1_000_000L);
    }

    @Test
    void cancellingTheParentCancelsTheGroup() {
        Task<Object> main = loop.createTask(() -> {
            try (TaskGroup g = TaskGroup.open()) {
                g.spawn(sleeper("a", 100));
                g.spawn(sleeper("b", 100));
                Tulip.sleep(Duration.ofSeconds(100));
            }
            return null;
        });
        loop.callLater(Duration.ofSeconds(1), () -> main.cancel("stop"));
        CancellationException e = assertThrows(CancellationException.class, () -> loop.runUntilComplete(main));
        assertEquals("stop", e.getMessage());
        assertEquals(List.of("a cancelled", "b cancelled"), log);
    }

    @Test
    void cancellingTheParentWhileCloseWaits() {
        Task<Object> main = loop.createTask(() -> {
            try (TaskGroup g = TaskGroup.open()) {
                g.spawn(sleeper("a", 100));
            }
            log.add("not reached");
            return null;
        });
        loop.callLater(Duration.ofSeconds(1), () -> main.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(main));
        assertEquals(List.of("a cancelled"), log);
        assertTrue(main.isCancelled());
    }

    @Test
    void nestedGroupDoesNotSwallowTheParentsCancellation() {
        // cpython #116720: the inner group fails while the outer task is also cancelled from outside. The inner
        // group's exception may be caught, but the outer cancellation must still stop the task.
        Task<?>[] me = new Task<?>[1];
        Task<Object> main = loop.createTask(() -> {
            me[0] = Task.current();
            try {
                TaskGroup.run(g -> {
                    g.spawn(() -> {
                        Tulip.sleep(Duration.ofSeconds(1));
                        me[0].cancel("outer"); // the outside cancellation lands in the same pass as the failure
                        throw new IllegalStateException("inner boom");
                    });
                    Tulip.sleep(Duration.ofSeconds(100));
                    return null;
                });
            } catch (TaskGroupException e) {
                log.add("caught group failure");
            }
            Tulip.sleep(Duration.ofSeconds(100));
            log.add("not reached");
            return null;
        });
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(main));
        assertTrue(main.isCancelled());
        assertEquals(List.of("caught group failure"), log);
        assertEquals(1_000_000_000L, loop.time(), 1_000_000L);
    }

    @Test
    void nestedGroupsInTryWithResourcesKeepTheOuterCancellation() {
        Task<Object> main = loop.createTask(() -> {
            try (TaskGroup outer = TaskGroup.open()) {
                outer.spawn(sleeper("outer kid", 100));
                try (TaskGroup inner = TaskGroup.open()) {
                    inner.spawn(sleeper("inner kid", 100));
                    Tulip.sleep(Duration.ofSeconds(100));
                }
            }
            return null;
        });
        loop.callLater(Duration.ofSeconds(1), () -> main.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(main));
        assertTrue(main.isCancelled());
        assertEquals(List.of("inner kid cancelled", "outer kid cancelled"), log);
    }

    @Test
    void childrenCancelledByTheGroupAreNotFailures() {
        String r = run(() -> {
            try (TaskGroup g = TaskGroup.open()) {
                Task<String> k = g.spawn(sleeper("k", 100));
                g.spawn(() -> {
                    Tulip.sleep(Duration.ofSeconds(1));
                    k.cancel();
                    return null;
                });
            }
            return "ok";
        });
        assertEquals("ok", r);
    }

    @Test
    void spawnAfterCloseFails() {
        run(() -> {
            TaskGroup g = TaskGroup.open();
            g.close();
            assertThrows(IllegalStateException.class, () -> g.spawn(() -> null));
            return null;
        });
        assertThrows(IllegalStateException.class, TaskGroup::open);
    }

    @Test
    void eagerChildThatFinishesAtOnce() {
        assertEquals("x", run(() -> {
            Task<String> t;
            try (TaskGroup g = TaskGroup.open()) {
                t = g.spawn(Task.Options.DEFAULT.withEager(true), () -> "x");
                assertTrue(t.isDone());
            }
            return t.result();
        }));
    }
}
