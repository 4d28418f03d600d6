package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Failures nobody can catch go to the exception handler; the loop keeps running. */
@Timeout(30)
class ExceptionHandlingTest {

    private static EventLoop virtualLoop() {
        return EventLoop.builder().virtualTime(true).build();
    }

    @Test
    void throwingCallbackReachesTheHandlerAndTheLoopKeepsRunning() {
        try (EventLoop loop = virtualLoop()) {
            List<ExceptionContext> contexts = new ArrayList<>();
            List<EventLoop> loops = new ArrayList<>();
            BiConsumer<EventLoop, ExceptionContext> handler = (l, c) -> {
                loops.add(l);
                contexts.add(c);
            };
            loop.setExceptionHandler(handler);
            assertSame(handler, loop.getExceptionHandler());
            List<String> seen = new ArrayList<>();
            IllegalStateException boom = new IllegalStateException("boom");
            Handle h = loop.callSoon(() -> {
                throw boom;
            });
            loop.callSoon(() -> seen.add("next callback ran"));
            loop.runOnce();
            assertEquals(List.of("next callback ran"), seen);
            assertEquals(1, contexts.size());
            ExceptionContext c = contexts.get(0);
            assertSame(boom, c.exception());
            assertSame(h, c.handle());
            assertSame(loop, loops.get(0));
            assertTrue(c.message().contains("exception in callback"), c.message());
        }
    }

    @Test
    void throwingDoneCallbackNamesItsFuture() {
        try (EventLoop loop = virtualLoop()) {
            List<ExceptionContext> contexts = new ArrayList<>();
            loop.setExceptionHandler((l, c) -> contexts.add(c));
            Future<String> f = loop.createFuture();
            f.addDoneCallback(x -> {
                throw new IllegalArgumentException("in done callback");
            });
            f.setResult("x");
            loop.runOnce();
            assertEquals(1, contexts.size());
            assertSame(f, contexts.get(0).future());
        }
    }

    @Test
    void checkedExceptionsAndErrorsFromCallbacksAreReportedToo() {
        try (EventLoop loop = virtualLoop()) {
            List<Throwable> errors = new ArrayList<>();
            loop.setExceptionHandler((l, c) -> errors.add(c.exception()));
            loop.callSoon(() -> {
                throw new AssertionError("assertion");
            });
            loop.runOnce();
            assertEquals(1, errors.size());
            assertTrue(errors.get(0) instanceof AssertionError);
        }
    }

    @Test
    void virtualMachineErrorsStopTheLoopButLeaveItUsable() {
        try (EventLoop loop = virtualLoop()) {
            loop.callSoon(() -> {
                throw new OutOfMemoryError("simulated");
            });
            assertThrows(OutOfMemoryError.class, loop::runForever);
            assertFalse(loop.isRunning());
            Future<String> f = loop.createFuture();
            loop.callSoon(() -> f.setResult("still works"));
            assertEquals("still works", loop.runUntilComplete(f));
        }
    }

    @Test
    void throwingHandlerIsLoggedWithTheOriginalFailure() {
        try (EventLoop loop = virtualLoop(); LogCapture log = new LogCapture()) {
            loop.setExceptionHandler((l, c) -> {
                throw new IllegalStateException("handler broke");
            });
            loop.callSoon(() -> {
                throw new IllegalArgumentException("original");
            });
            List<String> seen = new ArrayList<>();
            loop.callSoon(() -> seen.add("still running"));
            loop.runOnce();
            assertEquals(List.of("still running"), seen);
            List<LogRecord> handlerFailure = log.matching("exception handler");
            assertEquals(1, handlerFailure.size());
            assertEquals("handler broke", handlerFailure.get(0).getThrown().getMessage());
            List<LogRecord> original = log.matching("exception in callback");
            assertEquals(1, original.size());
            assertEquals("original", original.get(0).getThrown().getMessage());
        }
    }

    @Test
    void defaultHandlerLogsThroughSystemLoggerAtError() {
        try (EventLoop loop = virtualLoop(); LogCapture log = new LogCapture()) {
            assertNull(loop.getExceptionHandler());
            loop.callSoon(() -> {
                throw new IllegalStateException("logged by default");
            });
            loop.runOnce();
            List<LogRecord> records = log.matching("exception in callback");
            assertEquals(1, records.size());
            assertEquals(Level.SEVERE, records.get(0).getLevel());
            assertEquals("logged by default", records.get(0).getThrown().getMessage());
            assertEquals("dev.tulip", records.get(0).getLoggerName());
            loop.setExceptionHandler((l, c) -> { });
            loop.setExceptionHandler(null); // back to the default
            loop.callExceptionHandler(ExceptionContext.of("by hand", null));
            assertEquals(1, log.matching("by hand").size());
        }
    }

    @Test
    void exceptionContextRequiresAMessage() {
        assertThrows(NullPointerException.class, () -> ExceptionContext.of(null, null));
        ExceptionContext c = ExceptionContext.of("m", null);
        assertNull(c.handle());
        assertNull(c.transport());
        assertNull(c.protocol());
    }
}
