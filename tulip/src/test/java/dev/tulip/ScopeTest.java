package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Scopes: ownership of handles, timers and registrations; cancel; nesting; onCancel; statistics; entering. */
@Timeout(30)
class ScopeTest {

    private static EventLoop virtualLoop() {
        return EventLoop.builder().virtualTime(true).build();
    }

    @Test
    void cancelCancelsEveryHandleTimerAndRegistrationOfTheScope() throws Exception {
        try (EventLoop loop = virtualLoop(); PipeFixture pipe = PipeFixture.open()) {
            Scope s = loop.rootScope().newChild("work");
            AtomicInteger runs = new AtomicInteger();
            List<Handle> handles = new ArrayList<>();
            s.run(() -> {
                handles.add(loop.callSoon(runs::incrementAndGet));
                handles.add(loop.callLater(Duration.ofSeconds(1), runs::incrementAndGet));
                handles.add(loop.callAt(5, runs::incrementAndGet));
                handles.add(loop.addReader(pipe.source(), runs::incrementAndGet));
                handles.add(loop.addWriter(pipe.sink(), runs::incrementAndGet));
            });
            Handle outside = loop.callSoon(() -> { });
            for (Handle h : handles) {
                assertSame(s, h.scope());
            }
            pipe.write(1);
            s.cancel();
            for (Handle h : handles) {
                assertTrue(h.isCancelled(), h.toString());
            }
            assertFalse(outside.isCancelled());
            assertFalse(loop.removeReader(pipe.source()), "the scope's cancel removed the reader registration");
            assertFalse(loop.removeWriter(pipe.sink()));
            loop.callLater(Duration.ofSeconds(2), loop::stop);
            loop.runForever();
            assertEquals(0, runs.get());
        }
    }

    @Test
    void workScheduledFromACallbackJoinsTheCallbacksScope() {
        try (EventLoop loop = virtualLoop()) {
            Scope s = loop.rootScope().newChild("s");
            List<Scope> seen = new ArrayList<>();
            s.run(() -> loop.callSoon(() -> {
                seen.add(loop.currentScope());
                loop.callLater(Duration.ofSeconds(1), () -> seen.add(Scope.current()));
            }));
            loop.callLater(Duration.ofSeconds(2), loop::stop);
            loop.runForever();
            assertEquals(List.of(s, s), seen);
            assertSame(loop.rootScope(), loop.currentScope(), "the root scope is current between callbacks");
        }
    }

    @Test
    void nestedScopesAreCancelledWithTheirParent() {
        try (EventLoop loop = virtualLoop()) {
            Scope parent = loop.rootScope().newChild("parent");
            Scope child = parent.newChild("child");
            Scope grandchild = child.newChild("grandchild");
            Scope sibling = loop.rootScope().newChild("sibling");
            assertSame(parent, child.parent());
            assertSame(loop, child.loop());
            assertEquals("grandchild", grandchild.name());
            AtomicInteger runs = new AtomicInteger();
            List<String> actions = new ArrayList<>();
            grandchild.run(() -> loop.callSoon(runs::incrementAndGet));
            grandchild.onCancel(() -> actions.add("grandchild"));
            child.onCancel(() -> actions.add("child"));
            sibling.onCancel(() -> actions.add("sibling"));
            parent.cancel();
            assertTrue(child.isCancelled());
            assertTrue(grandchild.isCancelled());
            assertFalse(sibling.isCancelled());
            assertFalse(loop.rootScope().isCancelled());
            assertEquals(List.of("child", "grandchild"), actions);
            loop.callSoon(() -> { });
            loop.runOnce();
            assertEquals(0, runs.get());
        }
    }

    @Test
    void cancelledScopeRefusesNewWorkWithAClearError() throws Exception {
        try (EventLoop loop = virtualLoop(); PipeFixture pipe = PipeFixture.open()) {
            Scope s = loop.rootScope().newChild("closed-for-business");
            s.cancel();
            s.cancel(); // idempotent
            for (Runnable attempt : List.<Runnable>of(
                    () -> loop.callSoon(() -> { }),
                    () -> loop.callLater(Duration.ZERO, () -> { }),
                    () -> loop.callAt(0, () -> { }),
                    () -> loop.addReader(pipe.source(), () -> { }),
                    () -> s.newChild("late"))) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.run(attempt));
                assertTrue(e.getMessage().contains("closed-for-business") && e.getMessage().contains("cancelled"),
                        e.getMessage());
            }
        }
    }

    @Test
    void callSoonThreadsafeOnTheLoopThreadRefusesACancelledScope() {
        try (EventLoop loop = virtualLoop()) {
            Scope s = loop.rootScope().newChild("s");
            AtomicInteger errors = new AtomicInteger();
            s.run(() -> loop.callSoon(() -> {
                s.cancel();
                try {
                    loop.callSoonThreadsafe(() -> { });
                } catch (IllegalStateException expected) {
                    errors.incrementAndGet();
                }
            }));
            loop.runOnce();
            assertEquals(1, errors.get());
        }
    }

    @Test
    void onCancelActionsRunOnceAndHandleCancelUnregisters() {
        try (EventLoop loop = virtualLoop()) {
            Scope s = loop.rootScope().newChild("s");
            List<String> seen = new ArrayList<>();
            s.onCancel(() -> seen.add("a"));
            Handle b = s.onCancel(() -> seen.add("b"));
            s.onCancel(() -> {
                seen.add("c in " + loop.currentScope().name());
            });
            assertSame(s, b.scope());
            b.cancel();
            assertTrue(b.isCancelled());
            s.cancel();
            s.cancel();
            assertEquals(List.of("a", "c in system"), seen);
            s.onCancel(() -> seen.add("late"));
            assertEquals("late", seen.get(2), "an action added to a cancelled scope runs at once");
        }
    }

    @Test
    void failingCancelActionGoesToTheExceptionHandlerAndOthersStillRun() {
        try (EventLoop loop = virtualLoop()) {
            List<ExceptionContext> errors = new ArrayList<>();
            loop.setExceptionHandler((l, c) -> errors.add(c));
            Scope s = loop.rootScope().newChild("s");
            List<String> seen = new ArrayList<>();
            s.onCancel(() -> {
                throw new IllegalStateException("cleanup failed");
            });
            s.onCancel(() -> seen.add("second"));
            s.cancel();
            assertEquals(List.of("second"), seen);
            assertEquals(1, errors.size());
            assertEquals("cleanup failed", errors.get(0).exception().getMessage());
        }
    }

    @Test
    void enterRunAndCallRestoreThePreviousScope() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            Scope root = loop.rootScope();
            Scope a = root.newChild("a");
            Scope b = root.newChild("b");
            assertSame(root, loop.currentScope());
            try (Scope.Entered ea = a.enter()) {
                assertSame(a, loop.currentScope());
                assertEquals("b", b.call(() -> loop.currentScope().name()));
                assertSame(a, loop.currentScope());
                assertThrows(IllegalStateException.class, () -> b.run(() -> {
                    throw new IllegalStateException("thrown inside");
                }));
                assertSame(a, loop.currentScope(), "restored after an exception");
                try (Scope.Entered eb = b.enter()) {
                    assertSame(b, loop.currentScope());
                    eb.close();
                    eb.close(); // idempotent
                    assertSame(a, loop.currentScope());
                }
            }
            assertSame(root, loop.currentScope());
            assertNull(root.parent());
            assertEquals("root", root.name());
        }
    }

    @Test
    void rootScopeCannotBeCancelledByHand() {
        try (EventLoop loop = virtualLoop()) {
            assertThrows(UnsupportedOperationException.class, () -> loop.rootScope().cancel());
            assertFalse(loop.rootScope().isCancelled());
        }
    }

    @Test
    void statisticsCountRunsAndWaits() {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).collectStatistics(true).build()) {
            Scope s = loop.rootScope().newChild("stats");
            s.setTickets(7);
            assertEquals(7, s.tickets());
            assertThrows(IllegalArgumentException.class, () -> s.setTickets(0));
            s.run(() -> {
                for (int i = 0; i < 5; i++) {
                    loop.callSoon(() -> { });
                }
                loop.callLater(Duration.ofSeconds(1), () -> { });
            });
            loop.callLater(Duration.ofSeconds(2), loop::stop);
            loop.runForever();
            ScopeStatistics st = s.statistics();
            assertEquals("stats", st.name());
            assertEquals(6, st.callbacksRun());
            assertEquals(7, st.tickets());
            assertFalse(st.cancelled());
            assertTrue(st.totalWaitNanos() >= 0 && st.maxWaitNanos() <= st.totalWaitNanos());
            s.cancel();
            assertTrue(s.statistics().cancelled());
            assertEquals(0, new ScopeStatistics("x", 0, 0, 0, 1, false).meanWaitNanos());
        }
    }

    @Test
    void waitTimesAreMeasuredInLoopTime() {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).collectStatistics(true).build()) {
            Scope s = loop.rootScope().newChild("waits");
            var clock = (dev.tulip.internal.loop.VirtualClock) ((dev.tulip.internal.loop.TulipLoop) loop).clock();
            s.run(() -> loop.callSoon(() -> { }));
            loop.callSoon(() -> { }); // root, runs first... the scope's callback was queued first
            clock.advance(1_000);
            loop.runOnce();
            assertEquals(1_000, s.statistics().maxWaitNanos());
            assertEquals(1_000.0, s.statistics().meanWaitNanos());
        }
    }
}
