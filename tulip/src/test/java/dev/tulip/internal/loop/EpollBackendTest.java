package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;

/**
 * The backend contract against the FFM epoll backend. Runs where epoll can run (Linux x86-64/aarch64 with
 * --enable-native-access and --add-exports java.base/sun.nio.ch: the "epoll-backend" surefire execution); skipped,
 * with the reason, elsewhere.
 */
class EpollBackendTest extends IoBackendContractTest {
    @BeforeAll
    static void needsEpoll() {
        String why = Backends.epollUnavailable();
        Assumptions.assumeTrue(why == null, () -> "epoll backend unavailable: " + why);
    }

    @Override
    String backend() {
        return "epoll";
    }

    @Test
    void autoPicksEpollWhenItCanRun() {
        assertNull(Backends.epollUnavailable());
        try (EventLoop l = EventLoop.builder().backend("auto").build()) {
            assertEquals("epoll", ((TulipLoop) l).backendName());
        }
    }

    @Test
    void theSystemPropertyChoosesTheDefault() {
        // The "epoll-backend" surefire execution sets -Dtulip.backend=epoll: every loop the I/O suites build is epoll.
        String prop = System.getProperty("tulip.backend");
        Assumptions.assumeTrue("epoll".equals(prop), "tulip.backend is " + prop);
        try (EventLoop l = EventLoop.create()) {
            assertEquals("epoll", ((TulipLoop) l).backendName());
        }
    }

    /** No allocation per readiness event in steady state: epoll_wait, the event array and the ready queue. */
    @Test
    void steadyStateReadinessAllocatesNothing() throws Exception {
        // Through reflection: the tests are compiled into module dev.tulip, which does not read jdk.management.
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                .invoke(null);
        java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getCurrentThreadAllocatedBytes");
        Pipe p = pipe();
        try (var src = p.source(); var sink = p.sink()) {
            sink.write(ByteBuffer.wrap(new byte[] {1})); // never read: level-triggered, ready on every poll
            // Counted inside one run (runOnce itself sets and removes a ThreadLocal per call, which allocates).
            int[] events = new int[1];
            int[] target = new int[1];
            dev.tulip.Future<?>[] done = new dev.tulip.Future<?>[1];
            IoRegistration reg = loop.register(src, SelectionKey.OP_READ, ops -> {
                if (++events[0] == target[0]) {
                    done[0].setResult(null);
                }
            });
            // Steady state is after the JIT compiled the path (the downcalls allocate while interpreted): rounds of
            // 20,000 events until one allocates (almost) nothing, at most 100 rounds.
            long bytes = -1;
            for (int round = 0; round < 100; round++) {
                target[0] = events[0] + 20_000;
                done[0] = loop.createFuture();
                long before = (long) allocated.invoke(threads);
                loop.runUntilComplete(done[0]);
                bytes = (long) allocated.invoke(threads) - before;
                if (bytes < 1024) {
                    break;
                }
            }
            assertTrue(bytes < 1024, bytes + " bytes allocated for 20000 readiness events after warm-up");
            reg.deregister();
        }
    }
}
