package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tulip.EventLoop;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
}
