package dev.tulip.internal.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Chooses the I/O backend for a new loop: "nio" (the Selector backend), "epoll" (the FFM epoll backend, Linux
 * x86-64/aarch64 only) or "auto", which picks epoll when the JVM allows it and nio otherwise.
 *
 * <p>epoll needs native access ({@code --enable-native-access=dev.tulip}, or {@code =ALL-UNNAMED} when Tulip is on
 * the class path) and the JDK's channel internals for the fds ({@code --add-exports java.base/sun.nio.ch=dev.tulip},
 * or {@code =ALL-UNNAMED}). Each distinct choice is logged once per process on the "dev.tulip" logger, with the
 * reason: at INFO when epoll runs or a backend was requested, at DEBUG when "auto" falls back to nio (the
 * default for a JVM started without the flags, which should not print a line on stderr for every program).
 */
final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.tulip");
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

    private Backends() {
    }

    static IoBackend open(TulipLoop loop, String name) {
        return switch (name) {
            case "nio" -> {
                log(Level.INFO, "nio", "requested by tulip.backend=nio or EventLoop.Builder.backend");
                yield new SelectorBackend(loop);
            }
            case "epoll" -> {
                String why = epollUnavailable();
                if (why != null) {
                    throw new IllegalStateException("the epoll backend was requested but cannot run: " + why);
                }
                IoBackend b = openEpoll(loop);
                log(Level.INFO, "epoll", "requested by tulip.backend=epoll or EventLoop.Builder.backend");
                yield b;
            }
            case "auto" -> {
                String why = epollUnavailable();
                if (why == null) {
                    try {
                        IoBackend b = openEpoll(loop);
                        log(Level.INFO, "epoll", "native access enabled and sun.nio.ch exported");
                        yield b;
                    } catch (RuntimeException | Error e) {
                        why = "epoll failed to start: " + e;
                    }
                }
                log(Level.DEBUG, "nio", why); // the default: no line on stderr for every program
                yield new SelectorBackend(loop);
            }
            default -> throw new IllegalArgumentException("unknown I/O backend '" + name
                    + "' (known: auto, nio, epoll)");
        };
    }

    private static IoBackend openEpoll(TulipLoop loop) {
        try {
            return new EpollBackend(loop);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the epoll backend", e);
        }
    }

    /** Why the epoll backend cannot run in this JVM, or null if it can. */
    static String epollUnavailable() {
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("Linux")) {
            return "epoll is Linux only (os.name=" + os + ")";
        }
        if (!(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
            return "epoll backend supports x86-64 and aarch64 only (os.arch=" + arch + ")";
        }
        Module self = Backends.class.getModule();
        if (!self.isNativeAccessEnabled()) {
            return "native access is not enabled (run with --enable-native-access="
                    + (self.isNamed() ? self.getName() : "ALL-UNNAMED") + ")";
        }
        if (!Object.class.getModule().isExported("sun.nio.ch", self)) {
            return "the channels' fds are not reachable (run with --add-exports java.base/sun.nio.ch="
                    + (self.isNamed() ? self.getName() : "ALL-UNNAMED") + ")";
        }
        return null;
    }

    private static void log(Level level, String backend, String why) {
        String line = "I/O backend: " + backend + " (" + why + ")";
        if (LOGGED.add(line)) {
            LOG.log(level, line);
        }
    }
}
