package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.newLoop;
import static dev.tulip.sync.SyncTesting.runVoid;
import static dev.tulip.sync.SyncTesting.settle;
import static dev.tulip.sync.SyncTesting.sleep;
import static dev.tulip.sync.SyncTesting.spawn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Task;
import dev.tulip.TimeoutException;
import dev.tulip.Tulip;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class LockTest {

    @Test
    void acquireAndReleaseWithoutContentionDoNotSuspend() {
        runVoid(() -> {
            Lock lock = new Lock();
            assertFalse(lock.isLocked());
            lock.acquire();
            assertTrue(lock.isLocked());
            assertTrue(lock.isHeldByCurrentTask());
            assertFalse(lock.tryAcquire());
            assertEquals(new Lock.Statistics(true, Task.current(), 0), lock.statistics());
            lock.release();
            assertFalse(lock.isLocked());
            assertEquals(new Lock.Statistics(false, null, 0), lock.statistics());
            assertTrue(lock.tryAcquire());
            lock.release();
        });
    }

    @Test
    void waitersGetTheLockInArrivalOrderAndNewcomersCannotBarge() {
        runVoid(() -> {
            Lock lock = new Lock();
            List<Integer> order = new ArrayList<>();
            lock.acquire();
            List<Task<Void>> tasks = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                int id = i;
                tasks.add(spawn(() -> {
                    lock.acquire();
                    try {
                        order.add(id);
                        settle(); // hold it across a suspension: others must keep waiting
                    } finally {
                        lock.release();
                    }
                }));
            }
            settle();
            assertEquals(6, lock.statistics().waiting());
            lock.release();
            // Handed off: task 0 owns the lock before it even runs, so nobody can take it in between.
            assertTrue(lock.isLocked());
            assertFalse(lock.tryAcquire());
            assertFalse(lock.isHeldByCurrentTask());
            for (Task<Void> t : tasks) {
                t.await();
            }
            assertEquals(List.of(0, 1, 2, 3, 4, 5), order);
            assertFalse(lock.isLocked());
        });
    }

    @Test
    void cancelledWaiterLeavesNoGhostAndNeverTakesTheLock() {
        runVoid(() -> {
            Lock lock = new Lock();
            List<String> took = new ArrayList<>();
            lock.acquire();
            Task<Void> b = spawn(() -> {
                lock.acquire();
                took.add("b");
                lock.release();
            });
            settle();
            assertEquals(1, lock.statistics().waiting());
            b.cancel();
            settle();
            assertEquals(0, lock.statistics().waiting(), "no ghost waiter");
            assertTrue(b.isCancelled());
            lock.release();
            settle();
            assertFalse(lock.isLocked(), "the cancelled waiter must not hold the lock");
            assertEquals(List.of(), took);
        });
    }

    @Test
    void lockGrantedToATaskCancelledBeforeItResumedPassesToTheNextWaiter() {
        runVoid(() -> {
            Lock lock = new Lock();
            List<String> took = new ArrayList<>();
            lock.acquire();
            Task<Void> b = spawn(() -> {
                lock.acquire();
                took.add("b");
                lock.release();
            });
            Task<Void> c = spawn(() -> {
                lock.acquire();
                took.add("c");
                settle();
                lock.release();
            });
            settle();
            lock.release(); // hands the lock to b ...
            b.cancel();     // ... which is cancelled before it can run
            c.await();
            assertThrows(CancellationException.class, b::await);
            assertEquals(List.of("c"), took);
            assertFalse(lock.isLocked());
        });
    }

    @Test
    void lockGrantedToACancelledLastWaiterIsUnlocked() {
        runVoid(() -> {
            Lock lock = new Lock();
            lock.acquire();
            Task<Void> b = spawn(lock::acquire);
            settle();
            lock.release();
            b.cancel();
            settle();
            assertTrue(b.isCancelled());
            assertFalse(lock.isLocked(), "not leaked to the cancelled task");
            assertTrue(lock.tryAcquire());
            lock.release();
        });
    }

    @Test
    void timedOutAcquireLeavesNoGhost() {
        runVoid(() -> {
            Lock lock = new Lock();
            Task<Void> holder = spawn(() -> {
                try (var held = lock.acquired()) {
                    sleep(Duration.ofSeconds(10));
                }
            });
            settle();
            long t0 = EventLoop.current().time();
            assertThrows(TimeoutException.class, () -> {
                try (var t = Tulip.timeout(Duration.ofSeconds(1))) {
                    lock.acquire();
                }
            });
            assertEquals(Duration.ofSeconds(1).toNanos(), EventLoop.current().time() - t0);
            assertEquals(0, lock.statistics().waiting());
            holder.await();
            assertFalse(lock.isLocked());
        });
    }

    @Test
    void releaseOfAnUnlockedLockOrByANonOwnerThrows() {
        runVoid(() -> {
            Lock lock = new Lock();
            var e = assertThrows(IllegalStateException.class, lock::release);
            assertTrue(e.getMessage().contains("not locked"), e.getMessage());
            lock.acquire();
            AtomicReference<Throwable> seen = new AtomicReference<>();
            spawn(() -> {
                try {
                    lock.release();
                } catch (IllegalStateException x) {
                    seen.set(x);
                }
            }).await();
            assertTrue(seen.get().getMessage().contains("only the holder may release"), seen.get().getMessage());
            assertTrue(lock.isHeldByCurrentTask(), "a refused release changes nothing");
            lock.release();
        });
    }

    @Test
    void isNotReentrant() {
        runVoid(() -> {
            Lock lock = new Lock();
            lock.acquire();
            var e = assertThrows(IllegalStateException.class, lock::acquire);
            assertTrue(e.getMessage().contains("not reentrant"), e.getMessage());
            assertEquals(0, lock.statistics().waiting());
            lock.release();
        });
    }

    @Test
    void acquiredReleasesAtTheEndOfTheTryBlockEvenOnFailure() {
        runVoid(() -> {
            Lock lock = new Lock();
            try (var held = lock.acquired()) {
                assertTrue(lock.isHeldByCurrentTask());
            }
            assertFalse(lock.isLocked());
            assertThrows(ArithmeticException.class, () -> {
                try (var held = lock.acquired()) {
                    throw new ArithmeticException("boom");
                }
            });
            assertFalse(lock.isLocked());
        });
    }

    @Test
    void cancelledAcquiredDoesNotRunTheBlock() {
        runVoid(() -> {
            Lock lock = new Lock();
            List<String> ran = new ArrayList<>();
            lock.acquire();
            Task<Void> t = spawn(() -> {
                try (var held = lock.acquired()) {
                    ran.add("body");
                }
            });
            settle();
            t.cancel();
            settle();
            lock.release();
            assertTrue(t.isCancelled());
            assertEquals(List.of(), ran);
            assertFalse(lock.isLocked());
        });
    }

    @Test
    void callbacksMayTryAcquireButNotWait() {
        try (EventLoop loop = newLoop()) {
            Lock lock = new Lock();
            List<String> seen = new ArrayList<>();
            loop.callSoon(() -> {
                assertTrue(lock.tryAcquire());
                try {
                    lock.acquire();
                } catch (IllegalStateException e) {
                    seen.add(e.getMessage());
                }
                lock.release(); // a lock taken by callbacks is released by callbacks
                loop.stop();
            });
            loop.runForever();
            assertEquals(1, seen.size());
            assertTrue(seen.get(0).contains("only a task can wait"), seen.get(0));
            assertFalse(lock.isLocked());
        }
    }

    @Test
    void debugModeRefusesUseFromAnotherThreadWhileTheLoopRuns() {
        runVoid(() -> {
            Lock lock = new Lock();
            lock.acquire();
            AtomicReference<Throwable> seen = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    lock.release();
                } catch (Throwable x) {
                    seen.set(x);
                }
            });
            t.join(); // blocks the loop on purpose: the other thread runs while this task holds the loop
            assertTrue(seen.get() instanceof IllegalStateException, String.valueOf(seen.get()));
            assertTrue(seen.get().getMessage().contains("loop thread only"), seen.get().getMessage());
            assertTrue(lock.isHeldByCurrentTask());
            lock.release();
        });
    }

    @Test
    void closingTheLoopUnwindsWaitersWithoutGhosts() {
        Lock lock = new Lock();
        Queue<Integer> q = new Queue<>();
        Task<Void> waiter;
        Task<Void> getter;
        try (EventLoop loop = newLoop()) {
            loop.callSoon(() -> assertTrue(lock.tryAcquire()));
            waiter = loop.createTask(() -> {
                lock.acquire();
                return null;
            });
            getter = loop.createTask(() -> {
                q.get();
                return null;
            });
            loop.runUntilComplete(loop.createTask(() -> {
                settle();
                return null;
            }));
            assertEquals(1, lock.statistics().waiting());
            assertEquals(1, q.statistics().waitingGetters());
        }
        assertTrue(waiter.isCancelled());
        assertTrue(getter.isCancelled());
        assertEquals(0, lock.statistics().waiting());
        assertEquals(0, q.statistics().waitingGetters());
    }

    @Test
    void fifoAndNoGhostsUnderRandomCancellations() {
        for (int seed = 1; seed <= 25; seed++) {
            long s = seed;
            runVoid(() -> {
                Lock lock = new Lock();
                FairnessProperty.check(new java.util.Random(s), 1, lock::acquired,
                        () -> lock.statistics().equals(new Lock.Statistics(false, null, 0)));
            });
        }
    }

    @Test
    void statisticsNameTheOwner() {
        runVoid(() -> {
            Lock lock = new Lock();
            assertNull(lock.statistics().owner());
            lock.acquire();
            assertSame(Task.current(), lock.statistics().owner());
            Task<Void> waiter = spawn(lock::acquire);
            settle();
            assertEquals(1, lock.statistics().waiting());
            lock.release();
            assertSame(waiter, lock.statistics().owner(), "handed to the waiter at release");
            waiter.await();
        });
    }
}
