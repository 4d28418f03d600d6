package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Backend selection in a JVM where epoll cannot run (the default test execution: no native access flags). */
@Timeout(30)
class BackendsTest {

    @Test
    void autoFallsBackToNioWhenEpollCannotRun() {
        String why = Backends.epollUnavailable();
        Assumptions.assumeTrue(why != null, "epoll can run in this JVM");
        try (EventLoop l = EventLoop.builder().backend("auto").build()) {
            assertEquals("nio", ((TulipLoop) l).backendName());
        }
    }

    @Test
    void requestingEpollWhereItCannotRunIsAClearError() {
        String why = Backends.epollUnavailable();
        Assumptions.assumeTrue(why != null, "epoll can run in this JVM");
        var e = assertThrows(IllegalStateException.class, () -> EventLoop.builder().backend("epoll").build());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void unknownBackendIsAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> EventLoop.builder().backend("kqueue").build());
        assertTrue(e.getMessage().contains("kqueue"), e.getMessage());
    }
}
