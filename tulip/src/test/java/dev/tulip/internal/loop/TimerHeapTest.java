package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The timer heap against a reference PriorityQueue, with random cancellations and compactions. */
@Timeout(30)
class TimerHeapTest {

    @Test
    void matchesAReferenceQueueUnderRandomAddsCancelsAndPops() {
        try (EventLoop el = EventLoop.builder().virtualTime(true).build()) {
            TulipLoop loop = (TulipLoop) el;
            ScopeImpl scope = loop.currentScopeImpl();
            TimerHeap heap = new TimerHeap();
            Comparator<TimerCallback> order = Comparator.<TimerCallback>comparingLong(t -> t.when)
                    .thenComparingLong(t -> t.seq);
            PriorityQueue<TimerCallback> ref = new PriorityQueue<>(order);
            List<TimerCallback> live = new ArrayList<>();
            SplittableRandom rnd = new SplittableRandom(3);
            long seq = 0;
            for (int step = 0; step < 200_000; step++) {
                int op = rnd.nextInt(10);
                if (op < 5) {
                    TimerCallback t = new TimerCallback(scope, () -> { }, rnd.nextInt(1000), seq++);
                    heap.add(t);
                    ref.add(t);
                    live.add(t);
                } else if (op < 8 && !live.isEmpty()) {
                    TimerCallback t = live.remove(rnd.nextInt(live.size()));
                    if (t.inHeap) {
                        t.cancel(); // counted by the loop's heap, not this one: mimic what the loop does
                        heap.onCancel();
                    }
                    ref.remove(t);
                } else {
                    TimerCallback expected = ref.poll();
                    TimerCallback got = heap.peekLive();
                    assertEquals(expected, got);
                    if (got != null) {
                        heap.removeTop();
                        live.remove(got);
                    }
                }
                assertTrue(heap.size() <= 2 * ref.size() + TimerHeap.MIN_COMPACT + 1,
                        "heap " + heap.size() + " for " + ref.size() + " live timers");
            }
            while (!ref.isEmpty()) {
                assertEquals(ref.poll(), heap.peekLive());
                heap.removeTop();
            }
            assertNull(heap.peekLive());
        }
    }
}
