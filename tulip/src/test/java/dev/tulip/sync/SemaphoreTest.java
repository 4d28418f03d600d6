package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.runVoid;
import static dev.tulip.sync.SyncTesting.settle;
import static dev.tulip.sync.SyncTesting.sleep;
import static dev.tulip.sync.SyncTesting.spawn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Semaphore and BoundedSemaphore (one contract: BoundedSemaphore only adds the bound). */
@Timeout(20)
class SemaphoreTest {

    @Test
    void limitsConcurrencyAndServesWaitersInOrder() {
        runVoid(() -> {
            Semaphore sem = new Semaphore(2);
            int[] inside = new int[2]; // current, max
            List<Integer> entered = new ArrayList<>();
            List<Task<Void>> ts = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                int id = i;
                ts.add(spawn(() -> {
                    try (var permit = sem.acquired()) {
                        entered.add(id);
                        inside[1] = Math.max(inside[1], ++inside[0]);
                        sleep(Duration.ofMillis(10));
                        inside[0]--;
                    }
                }));
            }
            for (Task<Void> t : ts) {
                t.await();
            }
            assertEquals(2, inside[1]);
            assertEquals(List.of(0, 1, 2, 3, 4, 5), entered);
            assertEquals(new Semaphore.Statistics(2, 0), sem.statistics());
        });
    }

    @Test
    void releasedPermitGoesToTheFirstWaiterNotToANewcomer() {
        runVoid(() -> {
            Semaphore sem = new Semaphore(0);
            assertTrue(sem.isLocked());
            assertFalse(sem.tryAcquire());
            Task<Void> w = spawn(sem::acquire);
            settle();
            sem.release();
            assertEquals(0, sem.availablePermits(), "handed to the waiter");
            assertFalse(sem.tryAcquire());
            w.await();
        });
    }

    @Test
    void cancelledWaiterTakesNoPermit() {
        runVoid(() -> {
            Semaphore sem = new Semaphore(0);
            Task<Void> a = spawn(sem::acquire);
            settle();
            a.cancel();
            settle();
            assertEquals(new Semaphore.Statistics(0, 0), sem.statistics());
            sem.release();
            assertEquals(1, sem.availablePermits());
            assertThrows(CancellationException.class, a::await);
        });
    }

    @Test
    void permitGrantedToATaskCancelledBeforeItResumedPassesOn() {
        runVoid(() -> {
            Semaphore sem = new Semaphore(0);
            List<String> got = new ArrayList<>();
            Task<Void> a = spawn(() -> {
                sem.acquire();
                got.add("a");
            });
            Task<Void> b = spawn(() -> {
                sem.acquire();
                got.add("b");
            });
            settle();
            sem.release(); // to a
            a.cancel();
            b.await();
            assertEquals(List.of("b"), got);
            sem.release(); // nobody waits: the count goes up
            a.cancel();
            assertEquals(1, sem.availablePermits());
        });
    }

    @Test
    void permitGrantedToACancelledLastWaiterReturnsToTheCount() {
        runVoid(() -> {
            Semaphore sem = new Semaphore(0);
            Task<Void> a = spawn(sem::acquire);
            settle();
            sem.release();
            a.cancel();
            settle();
            assertEquals(1, sem.availablePermits(), "the permit is not leaked");
        });
    }

    @Test
    void fifoAndNoGhostsUnderRandomCancellations() {
        for (int seed = 1; seed <= 25; seed++) {
            long s = seed;
            runVoid(() -> {
                BoundedSemaphore sem = new BoundedSemaphore(3);
                FairnessProperty.check(new java.util.Random(s), 3, sem::acquired,
                        () -> sem.statistics().equals(new Semaphore.Statistics(3, 0)));
            });
        }
    }

    @Test
    void negativePermitsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Semaphore(-1));
        assertThrows(IllegalArgumentException.class, () -> new BoundedSemaphore(-1));
    }

    @Test
    void boundedSemaphoreRefusesAReleaseAboveItsBound() {
        runVoid(() -> {
            BoundedSemaphore sem = new BoundedSemaphore(2);
            assertEquals(2, sem.bound());
            var e = assertThrows(IllegalStateException.class, sem::release);
            assertTrue(e.getMessage().contains("released too many times"), e.getMessage());
            sem.acquire();
            sem.acquire();
            Task<Void> w = spawn(sem::acquire);
            settle();
            sem.release(); // to the waiter
            w.await();
            sem.release();
            sem.release();
            assertThrows(IllegalStateException.class, sem::release);
            assertEquals(2, sem.availablePermits());
        });
    }

    @Test
    void plainSemaphoreMayGrowAboveItsInitialValue() {
        runVoid(() -> {
            Semaphore sem = new Semaphore(1);
            sem.release();
            assertEquals(2, sem.availablePermits());
        });
    }
}
