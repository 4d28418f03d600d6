package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.runVoid;
import static dev.tulip.sync.SyncTesting.settle;
import static dev.tulip.sync.SyncTesting.sleep;
import static dev.tulip.sync.SyncTesting.spawn;
import static dev.tulip.sync.SyncTesting.yieldNow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Task;
import dev.tulip.TimeoutException;
import dev.tulip.Tulip;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract every queue order keeps (FIFO, LIFO, priority): bounds and backpressure, fair hand-off, no effect on
 * cancellation, join/taskDone, shutdown. Run by {@link QueueTest}, {@link LifoQueueTest}, {@link PriorityQueueTest}.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
abstract class QueueContract {

    /** A new queue of this order; {@code maxsize} 0 is unbounded. */
    abstract Queue<Integer> newQueue(int maxsize);

    /** The order {@code getNowait} returns items put (without waiting getters) in {@code putOrder}. */
    abstract List<Integer> expectedOrder(List<Integer> putOrder);

    private static List<Integer> drain(Queue<Integer> q) {
        List<Integer> out = new ArrayList<>();
        while (!q.isEmpty()) {
            out.add(q.getNowait());
        }
        return out;
    }

    @Test
    void itemsComeOutInThisQueuesOrder() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            List<Integer> in = List.of(5, 3, 9, 1, 3, 7);
            for (int i : in) {
                q.put(i);
            }
            assertEquals(6, q.size());
            assertEquals(expectedOrder(in), drain(q));
        });
    }

    @Test
    void nowaitVariantsThrowClearExceptions() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(2);
            assertEquals(2, q.maxsize());
            var empty = assertThrows(QueueEmptyException.class, q::getNowait);
            assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
            q.putNowait(1);
            q.putNowait(2);
            assertTrue(q.isFull());
            var full = assertThrows(QueueFullException.class, () -> q.putNowait(3));
            assertTrue(full.getMessage().contains("full"), full.getMessage());
            assertEquals(2, q.size());
            assertThrows(NullPointerException.class, () -> q.putNowait(null));
            assertThrows(NullPointerException.class, () -> q.put(null));
        });
        assertThrows(IllegalArgumentException.class, () -> newQueue(-1));
    }

    @Test
    void unboundedQueueIsNeverFull() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            for (int i = 0; i < 10_000; i++) {
                q.putNowait(i);
            }
            assertFalse(q.isFull());
            assertEquals(10_000, q.size());
        });
    }

    @Test
    void boundedPutWaitsForRoom() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(2);
            EventLoop loop = EventLoop.current();
            long t0 = loop.time();
            List<Long> putAt = new ArrayList<>();
            Task<Void> producer = spawn(() -> {
                for (int i = 0; i < 5; i++) {
                    q.put(i);
                    putAt.add((loop.time() - t0) / 1_000_000_000L);
                }
            });
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                sleep(Duration.ofSeconds(1));
                assertTrue(q.size() <= 2, "never above the bound");
                got.add(q.get());
            }
            producer.await();
            assertEquals(List.of(0L, 0L, 1L, 2L, 3L), putAt, "the producer is held back by the consumer");
            assertEquals(5, got.size());
            assertEquals(Set.of(0, 1, 2, 3, 4), new TreeSet<>(got));
        });
    }

    @Test
    void waitingGettersAreServedInArrivalOrder() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            List<String> got = new ArrayList<>();
            List<Task<Void>> ts = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                int id = i;
                ts.add(spawn(() -> got.add("g" + id + "=" + q.get())));
            }
            settle();
            assertEquals(3, q.statistics().waitingGetters());
            q.put(30);
            q.put(10);
            q.put(20);
            for (Task<Void> t : ts) {
                t.await();
            }
            assertEquals(List.of("g0=30", "g1=10", "g2=20"), got, "each put goes to the longest-waiting getter");
        });
    }

    @Test
    void anItemHandedToAGetterCannotBeStolen() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            Task<Integer> getter = Task.spawn(q::get);
            settle();
            q.put(1);
            assertThrows(QueueEmptyException.class, q::getNowait, "handed off already");
            assertEquals(1, getter.await());
        });
    }

    @Test
    void waitingPuttersAreServedInArrivalOrder() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(1);
            q.put(0);
            List<Task<Void>> ts = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                int v = i;
                ts.add(spawn(() -> q.put(v)));
            }
            settle();
            assertEquals(3, q.statistics().waitingPutters());
            List<Integer> got = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                got.add(q.get());
                if (i < 3) {
                    assertThrows(QueueFullException.class, () -> q.putNowait(99), "the freed slot is promised");
                }
                settle();
            }
            assertEquals(List.of(0, 1, 2, 3), got);
            for (Task<Void> t : ts) {
                t.await();
            }
        });
    }

    @Test
    void cancelledGetterTakesNoItem() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            Task<Integer> g = Task.spawn(q::get);
            settle();
            g.cancel();
            settle();
            assertEquals(0, q.statistics().waitingGetters(), "no ghost getter");
            q.put(1);
            assertEquals(List.of(1), drain(q));
        });
    }

    @Test
    void itemHandedToACancelledGetterGoesToTheNextGetter() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            Task<Integer> a = Task.spawn(q::get);
            Task<Integer> b = Task.spawn(q::get);
            settle();
            q.put(42);  // handed to a ...
            a.cancel(); // ... cancelled before it runs
            assertEquals(42, b.await());
            assertThrows(CancellationException.class, a::await);
            assertEquals(0, q.size());
            assertEquals(1, q.statistics().unfinishedTasks());
        });
    }

    @Test
    void itemHandedToACancelledGetterGoesBackToTheFront() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            Task<Integer> a = Task.spawn(q::get);
            settle();
            q.put(1);  // handed to a
            q.put(2);  // stored
            a.cancel();
            settle();
            assertEquals(List.of(1, 2), drain(q), "the returned item is the next one out");
        });
    }

    @Test
    void aReturnedItemNeverOverflowsTheBound() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(1);
            Task<Integer> a = Task.spawn(q::get);
            settle();
            q.put(1); // handed to a, still counts against maxsize until a runs
            assertTrue(q.isFull());
            assertThrows(QueueFullException.class, () -> q.putNowait(2));
            a.cancel();
            settle();
            assertEquals(1, q.size());
            assertTrue(q.isFull());
            assertEquals(List.of(1), drain(q));
        });
    }

    @Test
    void timedOutGetAndPutHaveNoEffect() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(1);
            assertThrows(TimeoutException.class, () -> {
                try (var t = Tulip.timeout(Duration.ofSeconds(1))) {
                    q.get();
                }
            });
            assertEquals(0, q.statistics().waitingGetters());
            q.put(1);
            assertThrows(TimeoutException.class, () -> {
                try (var t = Tulip.timeout(Duration.ofSeconds(1))) {
                    q.put(2);
                }
            });
            assertEquals(0, q.statistics().waitingPutters());
            assertEquals(List.of(1), drain(q));
        });
    }

    @Test
    void cancelledPutterAddsNoItem() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(1);
            q.put(0);
            Task<Void> p = spawn(() -> q.put(1));
            settle();
            p.cancel();
            settle();
            assertEquals(0, q.statistics().waitingPutters(), "no ghost putter");
            assertEquals(List.of(0), drain(q));
            assertEquals(1, q.statistics().unfinishedTasks());
        });
    }

    @Test
    void slotPromisedToACancelledPutterPassesToTheNextPutter() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(1);
            q.put(0);
            Task<Void> a = spawn(() -> q.put(1));
            Task<Void> b = spawn(() -> q.put(2));
            settle();
            assertEquals(0, q.get()); // frees the slot: promised to a ...
            a.cancel();               // ... cancelled before it runs
            b.await();
            assertThrows(CancellationException.class, a::await);
            assertEquals(List.of(2), drain(q), "a's item was never added");
        });
    }

    @Test
    void slotPromisedToACancelledLastPutterIsFreedAgain() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(1);
            q.put(0);
            Task<Void> a = spawn(() -> q.put(1));
            settle();
            assertEquals(0, q.get());
            a.cancel();
            settle();
            assertFalse(q.isFull());
            q.putNowait(5);
            assertEquals(List.of(5), drain(q));
        });
    }

    @Test
    void joinWaitsUntilEveryItemIsDone() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            q.join(); // nothing pending: returns at once
            for (int i = 0; i < 3; i++) {
                q.put(i);
            }
            List<String> log = new ArrayList<>();
            Task<Void> joiner = spawn(() -> {
                q.join();
                log.add("joined");
            });
            for (int i = 0; i < 3; i++) {
                q.get();
                settle();
                assertEquals(List.of(), log);
                assertEquals(1, q.statistics().waitingJoiners());
                q.taskDone();
            }
            joiner.await();
            assertEquals(List.of("joined"), log);
            var e = assertThrows(IllegalStateException.class, q::taskDone);
            assertTrue(e.getMessage().contains("more times"), e.getMessage());
        });
    }

    @Test
    void shutdownWakesWaitersAndLetsGettersDrainTheRest() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            Task<Integer> getter = Task.spawn(q::get);
            settle();
            q.shutdown();
            var e = assertThrows(QueueShutDownException.class, getter::await);
            assertTrue(e.getMessage().contains("shut down"), e.getMessage());
            assertTrue(q.isShutDown());
            assertThrows(QueueShutDownException.class, () -> q.put(1));
            assertThrows(QueueShutDownException.class, () -> q.putNowait(1));
            assertThrows(QueueShutDownException.class, q::get);
            assertThrows(QueueShutDownException.class, q::getNowait);
        });
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            q.put(1);
            q.put(2);
            q.shutdown(false);
            assertEquals(2, q.size());
            q.get();
            q.getNowait();
            assertThrows(QueueShutDownException.class, q::get, "empty and shut down");
            q.taskDone(); // works after shutdown
            q.taskDone();
            q.join();
        });
    }

    @Test
    void immediateShutdownDiscardsItemsReleasesJoinAndWakesPutters() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(2);
            q.put(1);
            q.put(2);
            Task<Void> putter = spawn(() -> q.put(3));
            Task<Void> joiner = spawn(q::join);
            settle();
            q.shutdown(true);
            assertThrows(QueueShutDownException.class, putter::await);
            joiner.await(); // the discarded items count as done
            assertEquals(0, q.size());
            assertThrows(QueueShutDownException.class, q::get);
            assertEquals(new Queue.Statistics(0, 2, 0, 0, 0, 0, true), q.statistics());
        });
    }

    @Test
    void getterCancelledAfterTheShutdownWokeItEndsCancelled() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            Task<Integer> a = Task.spawn(q::get);
            settle();
            q.shutdown(); // fails a's wait ...
            a.cancel();   // ... and a is cancelled before it resumes: the cancellation wins
            var e = assertThrows(CancellationException.class, a::await);
            assertTrue(a.isCancelled(), String.valueOf(e));
        });
    }

    @Test
    void itemReturnedAfterAnImmediateShutdownIsDiscardedToo() {
        runVoid(() -> {
            Queue<Integer> q = newQueue(0);
            Task<Integer> a = Task.spawn(q::get);
            settle();
            q.put(1);        // handed to a
            q.shutdown(true);
            a.cancel();      // a gives the item back after the shutdown
            settle();
            assertEquals(0, q.size());
            assertEquals(0, q.statistics().unfinishedTasks());
            q.join();
        });
    }

    /**
     * Property: under random cancellations of producers and consumers (including cancellations that land between a
     * hand-off and the receiving task's resumption), every item whose put() returned is got exactly once or is still
     * in the queue, and no item whose put() was cancelled ever appears. Fixed seeds, bounded size.
     */
    @Test
    void noItemIsLostOrDuplicatedUnderRandomCancellations() {
        for (int seed = 1; seed <= 40; seed++) {
            long s = seed;
            runVoid(() -> checkConservation(new Random(s)));
        }
    }

    private void checkConservation(Random rnd) {
        int maxsize = rnd.nextInt(4); // 0 (unbounded) to 3
        Queue<Integer> q = newQueue(maxsize);
        Set<Integer> putOk = new HashSet<>();
        List<Integer> got = new ArrayList<>();
        List<Task<Void>> producers = new ArrayList<>();
        List<Task<Void>> consumers = new ArrayList<>();
        int n = 60;
        for (int i = 0; i < n; i++) {
            int item = i;
            int pDelay = rnd.nextInt(5);
            int cDelay = rnd.nextInt(5);
            boolean producerCancels = rnd.nextInt(3) == 0;
            boolean consumerCancels = rnd.nextInt(3) == 0;
            long pick = rnd.nextLong();
            producers.add(spawn(() -> {
                sleep(Duration.ofMillis(pDelay));
                q.put(item);
                putOk.add(item);
                if (producerCancels) {
                    // Lands on a consumer that may just have been handed this very item.
                    cancelOne(consumers, pick);
                }
            }));
            consumers.add(spawn(() -> {
                sleep(Duration.ofMillis(cDelay));
                got.add(q.get());
                if (consumerCancels) {
                    // Lands on a producer that may just have been promised the slot this get freed.
                    cancelOne(producers, pick);
                }
            }));
        }
        for (int round = 0; round < 10; round++) {
            yieldNow();
            if (rnd.nextBoolean()) {
                cancelOne(rnd.nextBoolean() ? producers : consumers, rnd.nextLong());
            }
        }
        sleep(Duration.ofMillis(20)); // every delay has passed: all tasks are done or blocked
        Queue.Statistics st = q.statistics();
        assertTrue(maxsize == 0 || st.size() <= maxsize, "bound kept: " + st);
        assertTrue(st.waitingGetters() == 0 || st.size() == 0, "getters wait only on an empty queue: " + st);
        assertTrue(st.waitingPutters() == 0 || st.size() == maxsize, "putters wait only on a full queue: " + st);
        // Release the blocked (their operation fails, with no effect), then count.
        q.shutdown();
        for (Task<Void> t : producers) {
            awaitQuietly(t);
        }
        for (Task<Void> t : consumers) {
            awaitQuietly(t);
        }
        List<Integer> all = new ArrayList<>(got);
        all.addAll(drain(q));
        assertEquals(all.size(), new HashSet<>(all).size(), "no item twice: " + all);
        assertEquals(putOk, new HashSet<>(all), "every item put is got or still queued, and only those");
        assertEquals(putOk.size(), q.statistics().unfinishedTasks());
    }

    private static void cancelOne(List<Task<Void>> tasks, long pick) {
        if (!tasks.isEmpty()) {
            tasks.get((int) Math.floorMod(pick, (long) tasks.size())).cancel();
        }
    }

    private static void awaitQuietly(Task<Void> t) {
        try {
            t.await();
        } catch (CancellationException | QueueShutDownException expected) {
            // cancelled by the chaos, or woken by the final shutdown
        }
    }
}
