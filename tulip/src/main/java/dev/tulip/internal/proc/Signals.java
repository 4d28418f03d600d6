package dev.tulip.internal.proc;

import dev.tulip.internal.loop.TulipLoop;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Signal handlers for loops, on top of {@code sun.misc.Signal}: the JVM runs a handler on a thread of its own, so the
 * handler installed here only schedules the user's callback with {@code callSoonThreadsafe} (the design notes'
 * "heavy-weight call_soon" for signals); the callback runs on the loop thread.
 *
 * <p>Signals are process-wide: one handler per signal, whichever loop installed it last. Removing it restores the
 * handler that was in place before Tulip's first (the JVM default, which for INT/TERM/HUP runs the shutdown hooks).
 * Several deliveries of the same signal in a burst may be merged by the kernel (POSIX); distinct deliveries reach the
 * loop in the order the JVM dispatched them.
 *
 * <p>Any thread (guarded by the class lock).
 */
public final class Signals {
    private record Installed(TulipLoop loop, SignalHandler handler, SignalHandler original) {
    }

    private static final Map<String, Installed> INSTALLED = new ConcurrentHashMap<>();
    /** The signals the JVM uses for shutdown hooks: it leaves them ignored if the process started ignoring them. */
    private static final java.util.Set<String> SHUTDOWN_SIGNALS = java.util.Set.of("INT", "TERM", "HUP");
    /** Loops that already remove their handlers when they close. */
    private static final java.util.Set<TulipLoop> HOOKED =
            java.util.Collections.newSetFromMap(new java.util.WeakHashMap<>());

    private Signals() {
    }

    /** "SIGINT", "sigint", "INT" -> "INT"; rejects names that cannot be signal names. */
    public static String normalize(String signal) {
        Objects.requireNonNull(signal, "signal");
        String s = signal.strip().toUpperCase(Locale.ROOT);
        if (s.startsWith("SIG")) {
            s = s.substring(3);
        }
        if (s.isEmpty() || !s.chars().allMatch(c -> (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            throw new IllegalArgumentException("not a signal name: '" + signal + "'");
        }
        return s;
    }

    /** Installs {@code callback} for {@code signal} on {@code loop}, replacing any earlier Tulip handler. */
    public static synchronized void add(TulipLoop loop, String signal, Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        if (loop.isClosed()) {
            throw new IllegalStateException("event loop is closed");
        }
        String name = normalize(signal);
        Signal sig;
        try {
            sig = new Signal(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown signal SIG" + name, e);
        }
        SignalHandler handler = s -> {
            try {
                loop.callSoonThreadsafe(callback);
            } catch (IllegalStateException loopClosed) {
                // the loop closed between the signal and now: nothing to run it on
            }
        };
        SignalHandler previous;
        try {
            previous = Signal.handle(sig, handler);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("SIG" + name + " is reserved by the JVM and cannot be handled by an "
                    + "application (" + e.getMessage() + "); the JVM lets applications handle INT, TERM, HUP, USR2, "
                    + "CHLD, CONT, WINCH, PIPE, ALRM and other non-reserved signals", e);
        }
        if (previous == SignalHandler.SIG_IGN && SHUTDOWN_SIGNALS.contains(name)) {
            // The JVM installs nothing over a shutdown signal that the process ignores (started with nohup, or as a
            // background job of a shell without job control): the handler would never run. Say so instead of
            // accepting it silently, and take the Java-side registration back.
            Signal.handle(sig, SignalHandler.SIG_IGN);
            throw new IllegalArgumentException("SIG" + name + " is ignored by this process (it was started with "
                    + "nohup, or in the background by a shell without job control), and the JVM does not let "
                    + "applications handle a shutdown signal the process ignores");
        }
        if (HOOKED.add(loop)) {
            loop.addCloseHook(() -> removeAll(loop));
        }
        Installed earlier = INSTALLED.get(name);
        INSTALLED.put(name, new Installed(loop, handler, earlier != null ? earlier.original() : previous));
    }

    /** Removes {@code loop}'s handler for {@code signal}; true if there was one. */
    public static synchronized boolean remove(TulipLoop loop, String signal) {
        String name = normalize(signal);
        Installed in = INSTALLED.get(name);
        if (in == null || in.loop() != loop) {
            return false;
        }
        Signal.handle(new Signal(name), in.original());
        INSTALLED.remove(name);
        return true;
    }

    /** Removes every handler {@code loop} installed (the loop is closing). */
    public static synchronized void removeAll(TulipLoop loop) {
        for (Map.Entry<String, Installed> e : Map.copyOf(INSTALLED).entrySet()) {
            if (e.getValue().loop() == loop) {
                remove(loop, e.getKey());
            }
        }
    }

    /**
     * For {@code Tulip.run}: makes SIGINT cancel {@code task} (once; a second SIGINT while it unwinds cancels it
     * again, as asyncio does). Does nothing if the JVM reserves INT (-Xrs) or another Tulip handler owns it.
     *
     * @return whether the handler was installed (and must be removed afterwards)
     */
    public static synchronized boolean interruptCancels(TulipLoop loop, dev.tulip.Future<?> task) {
        if (INSTALLED.containsKey("INT")) {
            return false;
        }
        try {
            add(loop, "INT", () -> {
                if (!task.isDone()) {
                    task.cancel("interrupted by SIGINT");
                }
            });
            return true;
        } catch (IllegalArgumentException reserved) {
            return false;
        }
    }
}
