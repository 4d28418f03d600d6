package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void unknownBackendIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> EventLoop.builder().backend("kqueue").build());
        assertTrue(e.getMessage().contains("kqueue"));
    }
}
