package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Timeout(value = 20, unit = TimeUnit.SECONDS)
class TimeoutTest {
    EventLoop loop;
    final List<String> log = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loop = EventLoop.builder().virtualTime(true).build();
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    private <T> T run(Coroutine<T> body) {
        return loop.runUntilComplete(loop.createTask("main", body));
    }

    private static final long S = 1_000_000_000L;

    @Test
    void expiryThrowsTimeoutExceptionAtTheAwaitAndLeavesNoCancellation() {
        String r = run(() -> {
            try (Timeout t = Tulip.timeout(Duration.ofSeconds(2))) {
                last = t;
                try {
                    Tulip.sleep(Duration.ofSeconds(10));
                } finally {
                    log.add("finally at " + loop.time() / S);
                }
                return "no";
            } catch (TimeoutException e) {
                assertTrue(last.expired());
                assertEquals(0, Task.current().cancelling());
                Tulip.sleep(Duration.ofSeconds(1)); // the task goes on normally
                return "timed out at " + loop.time() / S;
            }
        });
        assertEquals("timed out at 3", r);
        assertEquals(List.of("finally at 2"), log);
    }

    private Timeout last;

    @Test
    void noExpiryNoException() {
        assertEquals("ok", run(() -> {
            try (Timeout t = Tulip.timeout(Duration.ofSeconds(5))) {
                last = t;
                Tulip.sleep(Duration.ofSeconds(1));
            }
            assertFalse(last.expired());
            return "ok";
        }));
    }

    @Test
    void rescheduleMovesTheDeadline() {
        assertEquals(6L, run(() -> {
            try (Timeout t = Tulip.timeout(Duration.ofSeconds(2))) {
                Tulip.sleep(Duration.ofSeconds(1));
                t.reschedule(loop.time() + 5 * S);
                Tulip.sleep(Duration.ofSeconds(3));
                assertEquals(loop.time() + 2 * S, t.when());
                t.reschedule(Long.MAX_VALUE);
                Tulip.sleep(Duration.ofSeconds(100));
            } catch (TimeoutException e) {
                return -1L;
            }
            return loop.time() / S - 98;
        }));
    }

    @Test
    void rescheduleAfterExpiryFails() {
        run(() -> {
            try (Timeout t = Tulip.timeout(Duration.ofSeconds(1))) {
                last = t;
                Tulip.sleep(Duration.ofSeconds(2));
            } catch (TimeoutException expected) {
                log.add("timeout");
            }
            assertThrows(IllegalStateException.class, () -> last.reschedule(0));
            return null;
        });
        assertEquals(List.of("timeout"), log);
    }

    @Test
    void innerTimeoutExpiresFirst() {
        assertEquals("inner", run(() -> {
            try (Timeout outer = Tulip.timeout(Duration.ofSeconds(10))) {
                try (Timeout inner = Tulip.timeout(Duration.ofSeconds(1))) {
                    Tulip.sleep(Duration.ofSeconds(5));
                } catch (TimeoutException e) {
                    Tulip.sleep(Duration.ofSeconds(1)); // still inside the outer deadline
                    return "inner";
                }
            }
            return "none";
        }));
    }

    @Test
    void outerTimeoutPassesThroughTheInnerBlock() {
        assertEquals("outer", run(() -> {
            try (Timeout outer = Tulip.timeout(Duration.ofSeconds(1))) {
                try (Timeout inner = Tulip.timeout(Duration.ofSeconds(10))) {
                    Tulip.sleep(Duration.ofSeconds(5));
                }
            } catch (TimeoutException e) {
                return "outer";
            }
            return "none";
        }));
    }

    @Test
    void expiryAfterTheLastAwaitThrowsNothing() {
        assertEquals("fine", run(() -> {
            try (Timeout t = Tulip.timeoutAt(loop.time())) {
                log.add("no await");
            }
            Tulip.sleep(Duration.ofSeconds(1));
            return "fine";
        }));
    }

    @Test
    void anOutsideCancellationIsNotATimeout() {
        Task<Object> main = loop.createTask(() -> {
            try (Timeout t = Tulip.timeout(Duration.ofSeconds(10))) {
                Tulip.sleep(Duration.ofSeconds(100));
            }
            return null;
        });
        loop.callLater(Duration.ofSeconds(1), () -> main.cancel("outside"));
        CancellationException e = assertThrows(CancellationException.class, () -> loop.runUntilComplete(main));
        assertFalse(e instanceof TimeoutException);
        assertTrue(main.isCancelled());
    }

    @Test
    void aTaskEndingWithTimeoutExceptionFailed() {
        Task<Object> main = loop.createTask(() -> {
            try (Timeout t = Tulip.timeout(Duration.ofSeconds(1))) {
                Tulip.sleep(Duration.ofSeconds(100));
            }
            return null;
        });
        assertThrows(TimeoutException.class, () -> loop.runUntilComplete(main));
        assertFalse(main.isCancelled());
        assertInstanceOf(TimeoutException.class, main.exception());
    }

    @Test
    void timeoutOutsideATaskFails() {
        assertThrows(IllegalStateException.class, () -> Tulip.timeoutAt(0));
    }
}
