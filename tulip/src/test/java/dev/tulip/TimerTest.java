package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.internal.loop.TulipLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Timers on the virtual-time loop: ordering, time(), cancellation and the bounded heap. */
@Timeout(60)
class TimerTest {

    private static EventLoop virtualLoop() {
        return EventLoop.builder().virtualTime(true).build();
    }

    @Test
    void virtualTimeStartsAtZeroAndJumpsToTheNextTimer() {
        try (EventLoop loop = virtualLoop()) {
            assertEquals(0, loop.time());
            List<Long> at = new ArrayList<>();
            loop.callLater(Duration.ofHours(1), () -> at.add(loop.time()));
            loop.callLater(Duration.ofHours(2), () -> {
                at.add(loop.time());
                loop.stop();
            });
            loop.runForever();
            assertEquals(List.of(Duration.ofHours(1).toNanos(), Duration.ofHours(2).toNanos()), at);
        }
    }

    @Test
    void timersRunInDueOrderAndEqualTimesInSchedulingOrder() {
        try (EventLoop loop = virtualLoop()) {
            List<String> seen = new ArrayList<>();
            SplittableRandom rnd = new SplittableRandom(1);
            List<long[]> expected = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                long when = rnd.nextInt(50) * 1_000_000L; // many equal due times
                int id = i;
                loop.callAt(when, () -> seen.add(when + ":" + id));
                expected.add(new long[] {when, id});
            }
            expected.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
            loop.callLater(Duration.ofSeconds(1), loop::stop);
            loop.runForever();
            assertEquals(expected.stream().map(e -> e[0] + ":" + e[1]).toList(), seen);
        }
    }

    @Test
    void callLaterAndCallAtAgree() {
        try (EventLoop loop = virtualLoop()) {
            List<String> seen = new ArrayList<>();
            loop.callLater(Duration.ofMillis(5), () -> seen.add("later 5ms"));
            TimerHandle at = loop.callAt(Duration.ofMillis(5).toNanos(), () -> seen.add("at 5ms"));
            loop.callAt(-100, () -> seen.add("in the past"));
            loop.callLater(Duration.ZERO, () -> seen.add("zero delay"));
            assertEquals(Duration.ofMillis(5).toNanos(), at.when());
            loop.callLater(Duration.ofMillis(6), loop::stop);
            loop.runForever();
            assertEquals(List.of("in the past", "zero delay", "later 5ms", "at 5ms"), seen);
        }
    }

    @Test
    void timerDueTimeIsMeasuredFromSchedulingTime() {
        try (EventLoop loop = virtualLoop()) {
            List<Long> at = new ArrayList<>();
            loop.callLater(Duration.ofSeconds(10), () -> loop.callLater(Duration.ofSeconds(5), () -> {
                at.add(loop.time());
                loop.stop();
            }));
            loop.runForever();
            assertEquals(List.of(Duration.ofSeconds(15).toNanos()), at);
        }
    }

    @Test
    void cancelledTimerNeverRuns() {
        try (EventLoop loop = virtualLoop()) {
            List<String> seen = new ArrayList<>();
            TimerHandle t = loop.callLater(Duration.ofSeconds(1), () -> seen.add("cancelled"));
            loop.callLater(Duration.ofMillis(500), t::cancel);
            loop.callLater(Duration.ofSeconds(2), loop::stop);
            loop.runForever();
            assertTrue(t.isCancelled());
            assertEquals(List.of(), seen);
        }
    }

    @Test
    void hugeDelaysSaturate() {
        try (EventLoop loop = virtualLoop()) {
            TimerHandle t = loop.callLater(Duration.ofSeconds(Long.MAX_VALUE), () -> { });
            assertEquals(Long.MAX_VALUE, t.when());
            t.cancel();
        }
    }

    @Test
    void negativeDelayIsRejected() {
        try (EventLoop loop = virtualLoop()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> loop.callLater(Duration.ofMillis(-1), () -> { }));
            assertTrue(e.getMessage().contains("negative"), e.getMessage());
            assertThrows(NullPointerException.class, () -> loop.callLater(null, () -> { }));
            assertThrows(NullPointerException.class, () -> loop.callLater(Duration.ZERO, null));
            assertThrows(NullPointerException.class, () -> loop.callAt(0, null));
        }
    }

    @Test
    void millionTimersScheduledAndCancelledKeepTheHeapBounded() {
        try (EventLoop loop = virtualLoop()) {
            TulipLoop tl = (TulipLoop) loop;
            int maxSize = 0;
            for (int i = 0; i < 1_000_000; i++) {
                TimerHandle t = loop.callLater(Duration.ofSeconds(1 + (i % 1000)), () -> { });
                t.cancel();
                maxSize = Math.max(maxSize, tl.timerHeapSize());
            }
            assertTrue(maxSize <= 1024, "heap grew to " + maxSize);
            // With live timers mixed in, the heap stays within about twice the live ones.
            List<TimerHandle> live = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                live.add(loop.callLater(Duration.ofSeconds(1), () -> { }));
                loop.callLater(Duration.ofSeconds(2), () -> { }).cancel();
            }
            assertTrue(tl.timerHeapSize() <= 2 * live.size() + 512, "heap " + tl.timerHeapSize());
        }
    }

    @Test
    void timersCancelledThroughTheirScopeArePurged() {
        try (EventLoop loop = virtualLoop()) {
            TulipLoop tl = (TulipLoop) loop;
            // A live timer due first keeps the cancelled ones away from the top of the heap: only compaction drops them.
            TimerHandle first = loop.callLater(Duration.ofMinutes(30), () -> { });
            for (int round = 0; round < 200; round++) {
                Scope s = loop.rootScope().newChild("round " + round);
                s.run(() -> {
                    for (int i = 0; i < 1000; i++) {
                        loop.callLater(Duration.ofHours(1), () -> { });
                    }
                });
                s.cancel();
                loop.callSoon(() -> { });
                loop.runOnce(); // each pass may purge (amortized: not necessarily this one)
            }
            assertTrue(tl.timerHeapSize() <= 3000, "heap " + tl.timerHeapSize());
            first.cancel();
            List<String> seen = new ArrayList<>();
            loop.callLater(Duration.ofHours(2), () -> {
                seen.add("only live timer");
                loop.stop();
            });
            loop.runForever();
            assertEquals(List.of("only live timer"), seen);
        }
    }

    @Test
    void wallClockLoopRunsATimerRoughlyOnTime() {
        try (EventLoop loop = EventLoop.create()) {
            long start = loop.time();
            Future<Long> f = loop.createFuture();
            loop.callLater(Duration.ofMillis(20), () -> f.setResult(loop.time()));
            long ranAt = loop.runUntilComplete(f);
            assertTrue(ranAt - start >= Duration.ofMillis(20).toNanos(), "ran early: " + (ranAt - start));
            assertFalse(f.isCancelled());
        }
    }
}
