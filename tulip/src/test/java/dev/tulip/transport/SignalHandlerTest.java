package dev.tulip.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import java.io.IOException;
import java.time.Duration;
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

    /**
     * Whether this process ignores SIGHUP (started with nohup): the JVM then installs no handler for it, and a test
     * that sent it would wait forever.
     */
    private static boolean hupIgnoredByTheProcess() {
        Signal hup = new Signal("HUP");
        SignalHandler before = Signal.handle(hup, s -> { });
        Signal.handle(hup, before);
        return before == SignalHandler.SIG_IGN;
    }

    @Test
    void signalsRunOnTheLoopThreadInOrder() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            // HUP (a shutdown signal, which the JVM handles specially) unless the process ignores it: then adding a
            // handler for it is a clear error, and WINCH stands in.
            String other = hupIgnoredByTheProcess() ? "WINCH" : "HUP";
            if (other.equals("WINCH")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> loop.addSignalHandler("HUP", () -> { }));
                assertTrue(e.getMessage().contains("ignored by this process"), e.getMessage());
            }
            List<String> seen = new ArrayList<>();
            Thread[] loopThread = new Thread[1];
            Future<Void>[] next = new Future[1];
            for (String sig : List.of("USR2", other, "SIGUSR2")) {
                loop.addSignalHandler(sig.equals(other) ? "SIG" + other : "USR2", () -> {
                    seen.add(sig.equals(other) ? other : "USR2");
                    loopThread[0] = Thread.currentThread();
                    next[0].setResult(null);
                });
            }
            for (String sig : List.of("USR2", other, "USR2", other)) {
                next[0] = loop.createFuture();
                loop.callSoon(() -> {
                    try {
                        kill(sig);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Future<Void> awaited = next[0];
                TimerHandle guard = loop.callLater(Duration.ofSeconds(20), () -> awaited.setException(
                        new AssertionError("SIG" + sig + " was sent but its handler did not run in 20 s; seen " + seen)));
                loop.runUntilComplete(awaited);
                guard.cancel();
            }
            assertEquals(List.of("USR2", other, "USR2", other), seen);
            assertTrue(loop.removeSignalHandler("USR2"));
            assertTrue(loop.removeSignalHandler(other));
            assertFalse(loop.removeSignalHandler(other));
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
