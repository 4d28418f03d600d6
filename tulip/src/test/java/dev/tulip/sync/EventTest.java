package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.runVoid;
import static dev.tulip.sync.SyncTesting.settle;
import static dev.tulip.sync.SyncTesting.sleep;
import static dev.tulip.sync.SyncTesting.spawn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Task;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(20)
class EventTest {

    @Test
    void setWakesEveryWaiterInOrder() {
        runVoid(() -> {
            Event ev = new Event();
            List<Integer> woke = new ArrayList<>();
            List<Task<Void>> ts = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int id = i;
                ts.add(spawn(() -> {
                    ev.await();
                    woke.add(id);
                }));
            }
            settle();
            assertEquals(new Event.Statistics(false, 4), ev.statistics());
            ev.set();
            assertEquals(new Event.Statistics(true, 0), ev.statistics());
            for (Task<Void> t : ts) {
                t.await();
            }
            assertEquals(List.of(0, 1, 2, 3), woke);
        });
    }

    @Test
    void awaitReturnsAtOnceWhileSetAndWaitsAgainAfterClear() {
        runVoid(() -> {
            Event ev = new Event();
            ev.set();
            ev.set(); // idempotent
            assertTrue(ev.isSet());
            long t0 = EventLoop.current().time();
            ev.await();
            assertEquals(t0, EventLoop.current().time());
            ev.clear();
            assertFalse(ev.isSet());
            spawn(() -> {
                sleep(Duration.ofSeconds(5));
                ev.set();
            });
            ev.await();
            assertEquals(t0 + Duration.ofSeconds(5).toNanos(), EventLoop.current().time());
        });
    }

    @Test
    void wokenWaitersReturnEvenIfClearedBeforeTheyRun() {
        runVoid(() -> {
            Event ev = new Event();
            Task<Void> t = spawn(ev::await);
            settle();
            ev.set();
            ev.clear();
            t.await();
            assertTrue(t.isDone() && !t.isCancelled());
        });
    }

    @Test
    void cancelledWaiterLeavesTheQueue() {
        runVoid(() -> {
            Event ev = new Event();
            Task<Void> a = spawn(ev::await);
            Task<Void> b = spawn(ev::await);
            settle();
            a.cancel();
            settle();
            assertEquals(1, ev.statistics().waiting());
            ev.set();
            b.await();
            assertThrows(CancellationException.class, a::await);
        });
    }
}
