package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The ready-queue policies: FIFO keeps exact order, the lottery shares the loop by tickets, custom policies work. */
@Timeout(60)
class SchedulingPolicyTest {

    @Test
    void fifoIsTheDefaultAndKeepsExactOrderAcrossScopes() {
        assertNull(SchedulingPolicy.fifo());
        try (EventLoop loop = EventLoop.builder().virtualTime(true).schedulingPolicy(SchedulingPolicy.fifo()).build()) {
            Scope a = loop.rootScope().newChild("a");
            Scope b = loop.rootScope().newChild("b");
            List<Integer> seen = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                int n = i;
                (i % 3 == 0 ? a : b).run(() -> loop.callSoon(() -> seen.add(n)));
            }
            loop.runOnce();
            for (int i = 0; i < 1000; i++) {
                assertEquals(i, seen.get(i));
            }
        }
    }

    @Test
    void lotteryGivesTwoFloodingScopesRunsInProportionToTheirTickets() {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).schedulingPolicy(SchedulingPolicy.lottery(42))
                .build()) {
            Scope heavy = loop.rootScope().newChild("heavy");
            Scope light = loop.rootScope().newChild("light");
            heavy.setTickets(300);
            light.setTickets(100);
            int total = 40_000;
            long[] runs = new long[2];
            for (int k = 0; k < 2; k++) {
                Scope s = k == 0 ? heavy : light;
                int idx = k;
                s.run(() -> {
                    for (int i = 0; i < 100; i++) { // each scope keeps 100 callbacks ready at all times
                        Runnable[] self = new Runnable[1];
                        self[0] = () -> {
                            runs[idx]++;
                            if (runs[0] + runs[1] < total) {
                                loop.callSoon(self[0]);
                            } else {
                                loop.stop();
                            }
                        };
                        loop.callSoon(self[0]);
                    }
                });
            }
            loop.runForever();
            double heavyShare = (double) runs[0] / (runs[0] + runs[1]);
            // Expected 0.75; the standard deviation over 40,000 draws is about 0.002, so this bound is ~15 sigma.
            assertTrue(heavyShare > 0.72 && heavyShare < 0.78, "heavy share " + heavyShare + " runs " + runs[0]
                    + ":" + runs[1]);
            ScopeStatistics hs = heavy.statistics();
            ScopeStatistics ls = light.statistics();
            assertEquals(runs[0], hs.callbacksRun());
            assertEquals(runs[1], ls.callbacksRun());
            assertTrue(ls.meanWaitNanos() >= 0 && hs.tickets() == 300);
        }
    }

    @Test
    void lotteryIsFifoWithinAScope() {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).schedulingPolicy(SchedulingPolicy.lottery(7))
                .build()) {
            Scope a = loop.rootScope().newChild("a");
            Scope b = loop.rootScope().newChild("b");
            List<Integer> seenA = new ArrayList<>();
            List<Integer> seenB = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                int n = i;
                a.run(() -> loop.callSoon(() -> seenA.add(n)));
                b.run(() -> loop.callSoon(() -> seenB.add(n)));
            }
            loop.runOnce();
            assertEquals(500, seenA.size());
            assertEquals(500, seenB.size());
            for (int i = 0; i < 500; i++) {
                assertEquals(i, seenA.get(i));
                assertEquals(i, seenB.get(i));
            }
        }
    }

    /** A LIFO policy that checks it is given every handle once. */
    private static final class RecordingLifo implements SchedulingPolicy {
        final ArrayDeque<Handle> stack = new ArrayDeque<>();
        final Set<Handle> offered = Collections.newSetFromMap(new IdentityHashMap<>());
        int duplicates;
        int polled;

        @Override
        public void offer(Handle handle) {
            if (!offered.add(handle)) {
                duplicates++;
            }
            stack.push(handle);
        }

        @Override
        public Handle poll() {
            Handle h = stack.poll();
            if (h != null) {
                polled++;
            }
            return h;
        }

        @Override
        public int size() {
            return stack.size();
        }
    }

    @Test
    void customPolicyGetsEveryHandleOnce() {
        RecordingLifo policy = new RecordingLifo();
        try (EventLoop loop = EventLoop.builder().virtualTime(true).schedulingPolicy(policy).build()) {
            List<Integer> seen = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                int n = i;
                loop.callSoon(() -> seen.add(n));
            }
            Future<String> f = loop.createFuture();
            f.addDoneCallback(x -> seen.add(-1));
            loop.callLater(Duration.ofSeconds(1), () -> f.setResult("x"));
            loop.runOnce();
            assertEquals(100, seen.size());
            assertEquals(99, seen.get(0), "the custom (LIFO) order was used");
            assertEquals(0, seen.get(99));
            loop.runUntilComplete(f);
            assertEquals(-1, seen.get(100));
            assertEquals(0, policy.duplicates);
            assertEquals(policy.offered.size(), policy.polled);
            assertTrue(policy.offered.size() >= 102, "handles, the timer and the done callbacks all went through it");
        }
    }
}
