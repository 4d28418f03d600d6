package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.runVoid;
import static dev.tulip.sync.SyncTesting.settle;
import static dev.tulip.sync.SyncTesting.spawn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Task;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class BarrierTest {

    @Test
    void releasesAllPartiesTogetherWithDistinctIndices() {
        runVoid(() -> {
            Barrier barrier = new Barrier(3);
            List<Integer> indices = new ArrayList<>();
            List<Task<Void>> ts = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                ts.add(spawn(() -> indices.add(barrier.await())));
            }
            settle();
            assertEquals(new Barrier.Statistics(3, 2, false, 0), barrier.statistics());
            assertEquals(List.of(), indices, "nobody passes before the last party arrives");
            assertEquals(2, barrier.await(), "the last arrival passes at once");
            for (Task<Void> t : ts) {
                t.await();
            }
            assertEquals(List.of(0, 1), indices);
            assertEquals(new Barrier.Statistics(3, 0, false, 1), barrier.statistics());
        });
    }

    @Test
    void isReusableForManyGenerations() {
        runVoid(() -> {
            Barrier barrier = new Barrier(4);
            List<List<Integer>> rounds = new ArrayList<>();
            for (int r = 0; r < 5; r++) {
                rounds.add(new ArrayList<>());
            }
            List<Task<Void>> ts = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                ts.add(spawn(() -> {
                    for (int r = 0; r < 5; r++) {
                        rounds.get(r).add(barrier.await());
                    }
                }));
            }
            for (Task<Void> t : ts) {
                t.await();
            }
            for (List<Integer> round : rounds) {
                assertEquals(Set.of(0, 1, 2, 3), new TreeSet<>(round));
            }
            assertEquals(5, barrier.statistics().generation());
        });
    }

    @Test
    void onePartyNeverWaits() {
        runVoid(() -> {
            Barrier barrier = new Barrier(1);
            assertEquals(0, barrier.await());
            assertEquals(0, barrier.await());
            assertEquals(2, barrier.statistics().generation());
        });
        assertThrows(IllegalArgumentException.class, () -> new Barrier(0));
    }

    @Test
    void abortBreaksWaitersAndLaterArrivalsUntilReset() {
        runVoid(() -> {
            Barrier barrier = new Barrier(3);
            Task<Void> a = spawn(barrier::await);
            settle();
            barrier.abort();
            var e = assertThrows(BrokenBarrierException.class, a::await);
            assertTrue(e.getMessage().contains("aborted"), e.getMessage());
            assertTrue(barrier.isBroken());
            assertThrows(BrokenBarrierException.class, barrier::await);
            barrier.reset();
            assertFalse(barrier.isBroken());
            Task<Void> b = spawn(barrier::await);
            Task<Void> c = spawn(barrier::await);
            settle();
            assertEquals(2, barrier.await(), "usable again after reset");
            b.await();
            c.await();
        });
    }

    @Test
    void resetBreaksTheCurrentWaitersOnly() {
        runVoid(() -> {
            Barrier barrier = new Barrier(2);
            Task<Void> a = spawn(barrier::await);
            settle();
            barrier.reset();
            var e = assertThrows(BrokenBarrierException.class, a::await);
            assertTrue(e.getMessage().contains("reset"), e.getMessage());
            assertFalse(barrier.isBroken());
            Task<Void> b = spawn(barrier::await);
            settle();
            assertEquals(1, barrier.await());
            b.await();
        });
    }

    @Test
    void cancelledWaiterLeavesWithoutBreakingTheBarrierAndIndicesStayDistinct() {
        runVoid(() -> {
            Barrier barrier = new Barrier(3);
            List<Integer> indices = new ArrayList<>();
            Task<Void> a = spawn(() -> indices.add(barrier.await()));
            Task<Void> b = spawn(() -> indices.add(barrier.await()));
            settle();
            a.cancel();
            settle();
            assertEquals(1, barrier.waiting());
            assertFalse(barrier.isBroken());
            Task<Void> c = spawn(() -> indices.add(barrier.await()));
            settle();
            assertEquals(2, barrier.waiting(), "the cancelled task no longer counts");
            indices.add(barrier.await());
            b.await();
            c.await();
            assertThrows(CancellationException.class, a::await);
            assertEquals(Set.of(0, 1, 2), new TreeSet<>(indices));
            assertEquals(3, indices.size());
        });
    }
}
