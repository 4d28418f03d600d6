package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.runVoid;
import static dev.tulip.sync.SyncTesting.settle;
import static dev.tulip.sync.SyncTesting.spawn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Task;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class ConditionTest {

    private static Task<Void> waiter(Condition cond, List<Integer> woke, int id) {
        return spawn(() -> {
            try (var held = cond.acquired()) {
                cond.await();
                assertTrue(cond.lock().isHeldByCurrentTask(), "await() returns holding the lock");
                woke.add(id);
            }
        });
    }

    @Test
    void signalWakesWaitersOneByOneInOrder() {
        runVoid(() -> {
            Condition cond = new Condition();
            List<Integer> woke = new ArrayList<>();
            List<Task<Void>> ts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                ts.add(waiter(cond, woke, i));
            }
            settle();
            assertEquals(4, cond.statistics().waiting());
            assertFalse(cond.isLocked(), "await() released the lock");
            try (var held = cond.acquired()) {
                cond.signal();
            }
            settle();
            assertEquals(List.of(0), woke);
            try (var held = cond.acquired()) {
                cond.signal(2);
            }
            settle();
            assertEquals(List.of(0, 1, 2), woke);
            try (var held = cond.acquired()) {
                cond.signalAll();
                cond.signal(5); // nobody left: no effect
            }
            for (Task<Void> t : ts) {
                t.await();
            }
            assertEquals(List.of(0, 1, 2, 3), woke);
            assertEquals(new Condition.Statistics(0, new Lock.Statistics(false, null, 0)), cond.statistics());
        });
    }

    @Test
    void awaitUntilWaitsForThePredicate() {
        runVoid(() -> {
            Condition cond = new Condition();
            ArrayDeque<String> buffer = new ArrayDeque<>();
            Task<Void> consumer = spawn(() -> {
                try (var held = cond.acquired()) {
                    cond.awaitUntil(() -> buffer.size() >= 2);
                    assertEquals(2, buffer.size());
                }
            });
            for (String s : List.of("a", "b")) {
                settle();
                try (var held = cond.acquired()) {
                    buffer.add(s);
                    cond.signalAll();
                }
            }
            consumer.await();
        });
    }

    @Test
    void awaitAndSignalRequireTheLock() {
        runVoid(() -> {
            Condition cond = new Condition();
            var e = assertThrows(IllegalStateException.class, cond::await);
            assertTrue(e.getMessage().contains("does not hold"), e.getMessage());
            assertThrows(IllegalStateException.class, cond::signal);
            assertThrows(IllegalStateException.class, cond::signalAll);
            assertThrows(IllegalArgumentException.class, () -> cond.signal(-1));
            // held by another task is not enough
            cond.acquire();
            spawn(() -> assertThrows(IllegalStateException.class, cond::signal)).await();
            cond.release();
        });
    }

    @Test
    void cancelledAwaitReacquiresTheLockBeforeThrowing() {
        runVoid(() -> {
            Condition cond = new Condition();
            List<String> seen = new ArrayList<>();
            Task<Void> t = spawn(() -> {
                cond.acquire();
                try {
                    cond.await();
                } catch (CancellationException e) {
                    seen.add("cancelled, holding=" + cond.lock().isHeldByCurrentTask());
                    throw e;
                } finally {
                    cond.release();
                }
            });
            settle();
            cond.acquire(); // the waiter will need the lock back: make it wait for it
            t.cancel();
            settle();
            assertEquals(List.of(), seen, "still waiting to re-acquire the lock");
            assertEquals(0, cond.statistics().waiting());
            cond.release();
            assertThrows(CancellationException.class, t::await);
            assertEquals(List.of("cancelled, holding=true"), seen);
            assertFalse(cond.isLocked());
        });
    }

    @Test
    void signalToATaskCancelledBeforeItResumedPassesToTheNextWaiter() {
        // cpython gh-112202: asyncio lost this notification until 3.13.
        runVoid(() -> {
            Condition cond = new Condition();
            List<Integer> woke = new ArrayList<>();
            Task<Void> a = waiter(cond, woke, 0);
            Task<Void> b = waiter(cond, woke, 1);
            settle();
            try (var held = cond.acquired()) {
                cond.signal(); // to a ...
                a.cancel();    // ... which is cancelled before it runs
            }
            b.await();
            assertThrows(CancellationException.class, a::await);
            assertEquals(List.of(1), woke);
            assertFalse(cond.isLocked());
        });
    }

    @Test
    void conditionsCanShareALock() {
        runVoid(() -> {
            Lock lock = new Lock();
            Condition notEmpty = new Condition(lock);
            Condition notFull = new Condition(lock);
            assertSame(lock, notEmpty.lock());
            notEmpty.acquire();
            assertTrue(notFull.isLocked());
            notFull.signalAll(); // same lock: held
            notFull.release();
            assertFalse(lock.isLocked());
        });
    }
}
