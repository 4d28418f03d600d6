package dev.tulip.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/** Real signals sent to this JVM with kill(1), handled on the loop thread. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SignalHandlerTest {

    private static void kill(String signal) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kill", "-s", signal, Long.toString(ProcessHandle.current().pid()))
                .inheritIO().start();
        assertEquals(0, p.waitFor());
    }

    @Test
    void signalsRunOnTheLoopThreadInOrder() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            List<String> seen = new ArrayList<>();
            Thread[] loopThread = new Thread[1];
            Future<Void>[] next = new Future[1];
            for (String sig : List.of("USR2", "HUP", "SIGUSR2")) {
                loop.addSignalHandler(sig.equals("HUP") ? "SIGHUP" : "USR2", () -> {
                    seen.add(sig.equals("HUP") ? "HUP" : "USR2");
                    loopThread[0] = Thread.currentThread();
                    next[0].setResult(null);
                });
            }
            for (String sig : List.of("USR2", "HUP", "USR2", "HUP")) {
                next[0] = loop.createFuture();
                loop.callSoon(() -> {
                    try {
                        kill(sig);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                loop.runUntilComplete(next[0]);
            }
            assertEquals(List.of("USR2", "HUP", "USR2", "HUP"), seen);
            assertTrue(loop.removeSignalHandler("USR2"));
            assertTrue(loop.removeSignalHandler("HUP"));
            assertFalse(loop.removeSignalHandler("HUP"));
            assertTrue(loopThread[0] != null && !loopThread[0].getName().contains("SIG"));
        }
    }

    @Test
    void removingAHandlerRestoresThePreviousOne() {
        SignalHandler probe = s -> { };
        SignalHandler before = Signal.handle(new Signal("USR2"), SignalHandler.SIG_DFL);
        try (EventLoop loop = EventLoop.create()) {
            loop.addSignalHandler("USR2", () -> { });
            loop.addSignalHandler("USR2", () -> { }); // replacing keeps the original to restore
            assertTrue(loop.removeSignalHandler("USR2"));
            assertSame(SignalHandler.SIG_DFL, Signal.handle(new Signal("USR2"), probe));
        } finally {
            Signal.handle(new Signal("USR2"), before);
        }
    }

    @Test
    void closingTheLoopRemovesItsHandlers() {
        SignalHandler before = Signal.handle(new Signal("USR2"), SignalHandler.SIG_DFL);
        try {
            EventLoop loop = EventLoop.create();
            loop.addSignalHandler("USR2", () -> { });
            loop.close();
            assertSame(SignalHandler.SIG_DFL, Signal.handle(new Signal("USR2"), SignalHandler.SIG_DFL));
            assertThrows(IllegalStateException.class, () -> loop.addSignalHandler("USR2", () -> { }));
        } finally {
            Signal.handle(new Signal("USR2"), before);
        }
    }

    @Test
    void reservedUnknownAndMalformedSignalsAreClearErrors() {
        try (EventLoop loop = EventLoop.create()) {
            IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
                    () -> loop.addSignalHandler("QUIT", () -> { }));
            assertTrue(reserved.getMessage().contains("reserved"), reserved.getMessage());
            assertThrows(IllegalArgumentException.class, () -> loop.addSignalHandler("KILL", () -> { }));
            IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                    () -> loop.addSignalHandler("NOSUCHSIG", () -> { }));
            assertTrue(unknown.getMessage().contains("unknown signal"), unknown.getMessage());
            assertThrows(IllegalArgumentException.class, () -> loop.addSignalHandler("IN T", () -> { }));
            assertThrows(NullPointerException.class, () -> loop.addSignalHandler(null, () -> { }));
            assertThrows(NullPointerException.class, () -> loop.addSignalHandler("USR2", null));
        }
    }
}
