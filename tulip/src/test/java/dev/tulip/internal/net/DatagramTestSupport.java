package dev.tulip.internal.net;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.TimerHandle;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramProtocol;
import dev.tulip.transport.DatagramTransport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Helpers for the datagram tests: a recording protocol, running a loop until a condition holds. */
final class DatagramTestSupport {
    private DatagramTestSupport() {
    }

    /** Runs passes of {@code loop} until {@code done} holds; fails after 10 s of wall time. */
    static void runUntil(EventLoop loop, BooleanSupplier done) {
        runUntil(loop, done, Duration.ofSeconds(10));
    }

    static void runUntil(EventLoop loop, BooleanSupplier done, Duration max) {
        runUntil(loop, done, max, () -> "");
    }

    /** As {@link #runUntil(EventLoop, BooleanSupplier, Duration)}, saying {@code state} when it fails. */
    static void runUntil(EventLoop loop, BooleanSupplier done, Duration max, java.util.function.Supplier<String> state) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("condition not met within " + max + " " + state.get());
            }
            // A short timer bounds the pass: poll() blocks at most this long when no I/O comes.
            TimerHandle tick = loop.callLater(Duration.ofMillis(20), () -> { });
            loop.runOnce();
            tick.cancel();
        }
    }

    /** Runs passes for about {@code d} of wall time (to show that nothing arrives). */
    static void runFor(EventLoop loop, Duration d) {
        long end = System.nanoTime() + d.toNanos();
        runUntil(loop, () -> System.nanoTime() >= end, d.plusSeconds(5));
    }

    static <P extends DatagramProtocol> DatagramEndpoint<P> open(EventLoop loop, P protocol, DatagramOptions options) {
        Future<DatagramEndpoint<P>> f = loop.createDatagramEndpoint(() -> protocol, options);
        return loop.runUntilComplete(f);
    }

    static DatagramOptions on(String host) {
        return DatagramOptions.builder().localAddress(host, 0).build();
    }

    static InetSocketAddress local(DatagramTransport t) {
        return (InetSocketAddress) t.info().localAddress();
    }

    static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    static String text(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }

    /** A protocol that records everything it is told, and optionally echoes. */
    static class Recorder implements DatagramProtocol {
        final List<String> events = new ArrayList<>();
        final List<byte[]> datagrams = new ArrayList<>();
        final List<SocketAddress> senders = new ArrayList<>();
        final List<Exception> errors = new ArrayList<>();
        DatagramTransport transport;
        boolean echo;
        boolean lost;
        Throwable lostCause;
        int pauses;
        int resumes;

        Recorder echoing() {
            echo = true;
            return this;
        }

        @Override
        public void connectionMade(DatagramTransport t) {
            events.add("made");
            transport = t;
        }

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress from) {
            if (events.isEmpty() || !events.getLast().equals("datagram")) {
                events.add("datagram");
            }
            byte[] b = new byte[data.remaining()];
            data.duplicate().get(b);
            datagrams.add(b);
            senders.add(from);
            if (echo) {
                transport.sendTo(data, from);
            }
        }

        @Override
        public void errorReceived(Exception error) {
            events.add("error");
            errors.add(error);
        }

        @Override
        public void pauseWriting() {
            events.add("pause");
            pauses++;
        }

        @Override
        public void resumeWriting() {
            events.add("resume");
            resumes++;
        }

        @Override
        public void connectionLost(Throwable cause) {
            events.add("lost");
            if (lost) {
                throw new AssertionError("connectionLost called twice");
            }
            lost = true;
            lostCause = cause;
        }

        String describe() {
            return "events=" + events + " sizes=" + datagrams.stream().map(d -> d.length).toList() + " from="
                    + senders + " errors=" + errors;
        }

        String lastText() {
            return new String(datagrams.getLast(), StandardCharsets.UTF_8);
        }
    }
}
