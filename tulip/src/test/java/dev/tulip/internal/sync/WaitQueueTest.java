package dev.tulip.internal.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.internal.loop.TulipLoop;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The shared wait-queue: FIFO grants, O(1) removal of cancelled waiters, failure fan-out. No tasks needed. */
@Timeout(10)
class WaitQueueTest {
    private final TulipLoop loop = (TulipLoop) EventLoop.builder().virtualTime(true).build();

    @AfterEach
    void close() {
        loop.close();
    }

    @Test
    void grantsInArrivalOrder() {
        WaitQueue<String> q = new WaitQueue<>();
        List<WaitQueue.Waiter<String>> ws = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ws.add(q.add(loop, "w" + i));
        }
        assertEquals(4, q.size());
        assertSame(ws.get(0), q.peek());
        assertSame(ws.get(0), q.grantFirst("a"));
        assertSame(ws.get(1), q.grantFirst("b"));
        assertEquals("a", ws.get(0).result());
        assertTrue(ws.get(0).isGranted());
        assertEquals("w1", ws.get(1).attachment());
        assertEquals(2, q.grantAll("c"));
        assertTrue(q.isEmpty());
        assertNull(q.grantFirst("d"));
        assertEquals("c", ws.get(3).result());
    }

    @Test
    void cancelledWaiterUnlinksAtOnceFromAnyPosition() {
        WaitQueue<Integer> q = new WaitQueue<>();
        var a = q.add(loop, null);
        var b = q.add(loop, null);
        var c = q.add(loop, null);
        var d = q.add(loop, null);
        assertTrue(b.cancel());          // middle
        assertTrue(a.cancel("head"));     // head
        assertTrue(d.cancel());          // tail
        assertEquals(1, q.size());
        assertSame(c, q.peek());
        assertSame(c, q.grantFirst(7));
        assertTrue(q.isEmpty());
        assertFalse(c.cancel(), "a granted waiter cannot be cancelled");
        assertFalse(b.isGranted());
        // the list is consistent after removals: appending and granting still works
        var e = q.add(loop, null);
        assertSame(e, q.grantFirst(8));
        assertTrue(q.isEmpty());
    }

    @Test
    void failAllGivesEachWaiterItsOwnException() {
        WaitQueue<Void> q = new WaitQueue<>();
        var a = q.add(loop, null);
        var b = q.add(loop, null);
        assertEquals(2, q.failAll(() -> new IllegalStateException("broken")));
        assertTrue(q.isEmpty());
        assertEquals("broken", a.exception().getMessage());
        assertTrue(a.exception() != b.exception());
        assertFalse(a.isGranted());
    }

    @Test
    void waitingOutsideATaskIsRefusedClearly() {
        LoopBinding binding = new LoopBinding("Thing");
        var e = assertThrows(IllegalStateException.class, () -> binding.forWaiting("op"));
        assertTrue(e.getMessage().contains("runs no event loop"), e.getMessage());
        List<String> seen = new ArrayList<>();
        loop.callSoon(() -> {
            try {
                binding.forWaiting("op");
            } catch (IllegalStateException x) {
                seen.add(x.getMessage());
            }
            loop.stop();
        });
        loop.runForever();
        assertEquals(1, seen.size());
        assertTrue(seen.get(0).contains("only a task can wait"), seen.get(0));
    }

    @Test
    void bindsToTheFirstLoopAndRefusesAnother() {
        LoopBinding binding = new LoopBinding("Thing");
        loop.callSoon(() -> {
            assertSame(loop, binding.check());
            loop.stop();
        });
        loop.runForever();
        try (TulipLoop other = (TulipLoop) EventLoop.builder().virtualTime(true).build()) {
            List<String> seen = new ArrayList<>();
            other.callSoon(() -> {
                try {
                    binding.forWaiting("op");
                } catch (IllegalStateException x) {
                    seen.add(x.getMessage());
                }
                other.stop();
            });
            other.runForever();
            assertTrue(seen.get(0).contains("bound to a different event loop"), seen.get(0));
        }
    }

    @Test
    void debugModeRefusesAnotherLoopEvenWithoutWaiting() {
        loop.setDebug(true);
        LoopBinding binding = new LoopBinding("Thing");
        loop.callSoon(() -> {
            binding.check();
            loop.stop();
        });
        loop.runForever();
        try (TulipLoop other = (TulipLoop) EventLoop.builder().virtualTime(true).debug(true).build()) {
            List<String> seen = new ArrayList<>();
            other.callSoon(() -> {
                try {
                    binding.check();
                } catch (IllegalStateException x) {
                    seen.add(x.getMessage());
                }
                other.stop();
            });
            other.runForever();
            assertTrue(seen.get(0).contains("bound to a different event loop"), seen.get(0));
        }
    }

    @Test
    void debugModeRefusesOtherThreadsWhileTheLoopRuns() {
        loop.setDebug(true);
        LoopBinding binding = new LoopBinding("Thing");
        Throwable[] seen = new Throwable[1];
        loop.callSoon(() -> {
            binding.check();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    binding.check();
                } catch (Throwable x) {
                    seen[0] = x;
                }
            });
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            loop.stop();
        });
        loop.runForever();
        assertTrue(seen[0] instanceof IllegalStateException, String.valueOf(seen[0]));
        assertTrue(seen[0].getMessage().contains("loop thread only"), seen[0].getMessage());
        binding.check(); // the idle loop is nobody's: inspection from the test thread is fine
    }
}
