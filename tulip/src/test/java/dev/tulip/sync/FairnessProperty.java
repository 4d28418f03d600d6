package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.sleep;
import static dev.tulip.sync.SyncTesting.spawn;
import static dev.tulip.sync.SyncTesting.yieldNow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.function.Supplier;

/**
 * A property shared by {@link LockTest} and {@link SemaphoreTest}: tasks arrive at random times, hold for random
 * times, and are cancelled at random moments (while waiting, just after being granted, or while holding). Checked:
 * never more than {@code permits} holders; acquisitions happen in arrival order (FIFO, no barging); afterwards
 * nothing is held and nobody waits (no ghost, no leak). Fixed seed, bounded size, run inside a task.
 */
final class FairnessProperty {
    private FairnessProperty() {
    }

    static void check(Random rnd, int permits, Supplier<Held> acquire, Supplier<Boolean> idle) throws Exception {
        int n = 40;
        int[] holders = new int[1];
        int[] arrivals = new int[1];
        List<Integer> acquiredInOrder = new ArrayList<>();
        List<Task<Void>> tasks = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int delay = rnd.nextInt(20);
            int hold = rnd.nextInt(4);
            boolean cancelsNeighbour = rnd.nextInt(4) == 0;
            long pick = rnd.nextLong();
            tasks.add(spawn(() -> {
                sleep(Duration.ofMillis(delay));
                int arrival = arrivals[0]++;
                try (var held = acquire.get()) {
                    acquiredInOrder.add(arrival);
                    holders[0]++;
                    assertTrue(holders[0] <= permits, "too many holders: " + holders[0]);
                    if (cancelsNeighbour) {
                        // May hit a task that was just granted and has not resumed yet.
                        tasks.get((int) Math.floorMod(pick, (long) tasks.size())).cancel();
                    }
                    try {
                        if (hold > 0) {
                            sleep(Duration.ofMillis(hold));
                        } else {
                            yieldNow();
                        }
                    } finally {
                        holders[0]--;
                    }
                }
            }));
        }
        for (int round = 0; round < 30; round++) {
            sleep(Duration.ofMillis(1));
            if (rnd.nextInt(3) == 0) {
                tasks.get(rnd.nextInt(n)).cancel();
            }
        }
        int completed = 0;
        for (Task<Void> t : tasks) {
            try {
                t.await();
                completed++;
            } catch (CancellationException cancelled) {
                // chaos
            }
        }
        List<Integer> sorted = new ArrayList<>(acquiredInOrder);
        sorted.sort(null);
        assertEquals(sorted, acquiredInOrder, "acquired in arrival order");
        assertTrue(acquiredInOrder.size() >= completed);
        assertTrue(idle.get(), "nothing held, nobody waiting");
    }
}
