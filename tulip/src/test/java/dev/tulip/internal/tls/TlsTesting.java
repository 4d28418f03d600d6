package dev.tulip.internal.tls;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/** Helpers for TLS tests over real sockets. */
final class TlsTesting {
    private TlsTesting() {
    }

    static <T> T run(EventLoop loop, Future<T> f, Duration limit) {
        if (f.isDone()) {
            return f.result();
        }
        AtomicBoolean timedOut = new AtomicBoolean();
        TimerHandle guard = loop.callLater(limit, () -> {
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

    static <T> T run(EventLoop loop, Future<T> f) {
        return run(loop, f, Duration.ofSeconds(20));
    }

    /** Runs the loop until {@code f} is done; returns its exception (null if it succeeded). */
    static Throwable failure(EventLoop loop, Future<?> f) {
        runUntil(loop, f::isDone, Duration.ofSeconds(20));
        return f.isCancelled() ? new java.util.concurrent.CancellationException() : f.exception();
    }

    static void runUntil(EventLoop loop, java.util.function.BooleanSupplier cond, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached in " + limit);
            }
            loop.callLater(Duration.ofMillis(5), () -> { });
            loop.runOnce();
        }
    }

    static int port(dev.tulip.transport.Server s) {
        return ((InetSocketAddress) s.addresses().get(0)).getPort();
    }

    static int openFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Echoes what it receives, with backpressure: stops reading while its writes are paused. */
    static class Echo implements Protocol {
        Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            transport.write(data);
        }

        @Override
        public void pauseWriting() {
            transport.pauseReading();
        }

        @Override
        public void resumeWriting() {
            transport.resumeReading();
        }
    }

    /**
     * Sends {@code total} pseudo-random bytes as fast as flow control allows, and digests what it sends and what
     * it receives; {@link #done} completes when {@code expectBack} bytes came back.
     */
    static class Pump implements Protocol {
        final long total;
        final long expectBack;
        final MessageDigest sent = sha256();
        final MessageDigest got = sha256();
        final Future<Void> done;
        final Future<Throwable> lost;
        final Random random = new Random(42);
        final byte[] chunk = new byte[64 * 1024];
        Transport transport;
        long written;
        long received;
        boolean paused;

        Pump(EventLoop loop, long total, long expectBack) {
            this.total = total;
            this.expectBack = expectBack;
            this.done = loop.createFuture();
            this.lost = loop.createFuture();
        }

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            send();
        }

        void send() {
            while (!paused && written < total) {
                int n = (int) Math.min(chunk.length, total - written);
                random.nextBytes(chunk);
                sent.update(chunk, 0, n);
                transport.write(ByteBuffer.wrap(chunk, 0, n));
                written += n;
            }
        }

        @Override
        public void pauseWriting() {
            paused = true;
        }

        @Override
        public void resumeWriting() {
            paused = false;
            send();
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            received += data.remaining();
            got.update(data);
            if (received >= expectBack && !done.isDone()) {
                done.setResult(null);
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            lost.setResult(cause);
            if (!done.isDone()) {
                done.setException(cause != null ? cause : new IOException("lost after " + received + " bytes"));
            }
        }
    }
}
