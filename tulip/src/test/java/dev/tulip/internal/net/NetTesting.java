package dev.tulip.internal.net;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/** Helpers for the socket tests: bounded loop runs, fd counting, a protocol that records what happens. */
final class NetTesting {
    private NetTesting() {
    }

    /** Runs the loop until {@code f} is done or 10 s passed (then fails). */
    static <T> T run(EventLoop loop, Future<T> f) {
        return run(loop, f, Duration.ofSeconds(10));
    }

    static <T> T run(EventLoop loop, Future<T> f, Duration limit) {
        if (!f.isDone()) {
            AtomicBoolean timedOut = new AtomicBoolean();
            TimerHandle guard = loop.rootScope().loop().callLater(limit, () -> {
                timedOut.set(true);
                loop.stop();
            });
            try {
                return loop.runUntilComplete(f);
            } catch (IllegalStateException e) {
                if (timedOut.get()) {
                    throw new AssertionError("timed out after " + limit + " waiting for " + f, e);
                }
                throw e;
            } finally {
                guard.cancel();
            }
        }
        return f.result();
    }

    /** Runs loop passes until {@code cond} holds (at most 10 s). */
    static void runUntil(EventLoop loop, java.util.function.BooleanSupplier cond) {
        runUntil(loop, cond, () -> "condition not reached");
    }

    /** Runs loop passes until {@code cond} holds (at most 10 s); fails saying {@code what} was seen instead. */
    static void runUntil(EventLoop loop, java.util.function.BooleanSupplier cond,
            java.util.function.Supplier<String> what) {
        runUntil(loop, cond, Duration.ofSeconds(10), what);
    }

    /** Runs loop passes until {@code cond} holds (at most {@code limit}); fails saying {@code what} was seen. */
    static void runUntil(EventLoop loop, java.util.function.BooleanSupplier cond, Duration limit,
            java.util.function.Supplier<String> what) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what.get() + " in " + limit.toSeconds() + " s");
            }
            loop.callLater(Duration.ofMillis(5), () -> { });
            loop.runOnce();
        }
    }

    static int openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Records every callback; futures for the milestones. */
    static class Recorder implements Protocol {
        final EventLoop loop;
        final List<String> events = new ArrayList<>();
        final ByteArrayOutputStream data = new ByteArrayOutputStream();
        final Future<Transport> made;
        final Future<Throwable> lost;
        final Future<Void> eof;
        Transport transport;
        boolean keepOpenOnEof;
        int lostCalls;
        Throwable lostCause;

        Recorder(EventLoop loop) {
            this.loop = loop;
            made = loop.createFuture();
            lost = loop.createFuture();
            eof = loop.createFuture();
        }

        @Override
        public void connectionMade(Transport t) {
            events.add("made");
            transport = t;
            made.setResult(t);
        }

        @Override
        public void dataReceived(ByteBuffer b) {
            if (events.isEmpty() || !events.getLast().equals("data")) {
                events.add("data");
            }
            byte[] a = new byte[b.remaining()];
            b.get(a);
            data.writeBytes(a);
        }

        @Override
        public boolean eofReceived() {
            events.add("eof");
            eof.setResult(null);
            return keepOpenOnEof;
        }

        @Override
        public void connectionLost(Throwable cause) {
            events.add("lost");
            lostCalls++;
            lostCause = cause;
            if (!lost.isDone()) {
                lost.setResult(cause);
            }
        }

        @Override
        public void pauseWriting() {
            events.add("pause");
        }

        @Override
        public void resumeWriting() {
            events.add("resume");
        }

        String text() {
            return data.toString(StandardCharsets.UTF_8);
        }
    }

    /** Echoes every byte back. */
    static class Echo implements Protocol {
        Transport t;

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            t.write(data);
        }
    }
}
