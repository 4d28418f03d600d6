package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.TimerHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The {@link IoBackend} contract, written once and run against each backend (subclasses name it): readiness for
 * read, write, accept and connect with SelectionKey bits, interest changes, deregistration, closed channels, fd
 * reuse, errors reported as readiness, and wake-ups from other threads.
 */
@Timeout(30)
abstract class IoBackendContractTest {
    TulipLoop loop;

    /** The backend's name for EventLoop.Builder.backend. */
    abstract String backend();

    @BeforeEach
    void open() {
        loop = (TulipLoop) EventLoop.builder().backend(backend()).build();
    }

    @AfterEach
    void close() {
        loop.close();
    }

    /** Runs passes (each bounded by a 10 ms timer) until the condition holds; fails after 5 s. */
    void runUntil(BooleanSupplier cond) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached");
            }
            TimerHandle t = loop.callLater(Duration.ofMillis(10), () -> { });
            loop.runOnce();
            t.cancel();
        }
    }

    /** Runs a few passes (about 50 ms) for "nothing must happen" checks. */
    void runIdle() {
        for (int i = 0; i < 5; i++) {
            TimerHandle t = loop.callLater(Duration.ofMillis(10), () -> { });
            loop.runOnce();
            t.cancel();
        }
    }

    static final class Recorder implements IoHandler {
        final List<Integer> events = new ArrayList<>();
        Runnable action = () -> { };

        @Override
        public void ioReady(int readyOps) {
            events.add(readyOps);
            action.run();
        }

        int last() {
            return events.isEmpty() ? 0 : events.get(events.size() - 1);
        }
    }

    static Pipe pipe() throws Exception {
        Pipe p = Pipe.open();
        p.source().configureBlocking(false);
        p.sink().configureBlocking(false);
        return p;
    }

    @Test
    void reportsTheBackendItWasAskedFor() {
        assertEquals(backend(), loop.backendName());
    }

    @Test
    void readReadinessIsLevelTriggeredAndStopsWhenDrained() throws Exception {
        Pipe p = pipe();
        try (var src = p.source(); var sink = p.sink()) {
            Recorder r = new Recorder();
            IoRegistration reg = loop.register(src, SelectionKey.OP_READ, r);
            runIdle();
            assertTrue(r.events.isEmpty(), "nothing to read yet");
            sink.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            runUntil(() -> r.events.size() >= 2); // level-triggered: reported again while data remains
            assertEquals(SelectionKey.OP_READ, r.last());
            src.read(ByteBuffer.allocate(16));
            int n = r.events.size();
            runIdle();
            assertEquals(n, r.events.size(), "drained: no more readiness");
            reg.deregister();
        }
    }

    @Test
    void writeReadinessAndInterestChanges() throws Exception {
        Pipe p = pipe();
        try (var src = p.source(); var sink = p.sink()) {
            Recorder r = new Recorder();
            IoRegistration reg = loop.register(sink, 0, r);
            runIdle();
            assertTrue(r.events.isEmpty(), "no interest, no events");
            reg.interestOps(SelectionKey.OP_WRITE);
            assertEquals(SelectionKey.OP_WRITE, reg.interestOps());
            runUntil(() -> !r.events.isEmpty());
            assertEquals(SelectionKey.OP_WRITE, r.last());
            reg.interestOps(0);
            runIdle(); // a pass may still deliver what was queued before the change
            int n = r.events.size();
            runIdle();
            assertEquals(n, r.events.size(), "interest off: no more events");
            // Fill the pipe: not writable until the reader drains it.
            ByteBuffer chunk = ByteBuffer.allocate(65536);
            while (sink.write(chunk.clear()) > 0) {
                // fill
            }
            reg.interestOps(SelectionKey.OP_WRITE);
            runIdle();
            assertEquals(n, r.events.size(), "full pipe is not writable");
            ByteBuffer in = ByteBuffer.allocate(65536);
            while (src.read(in.clear()) > 0) {
                // drain
            }
            runUntil(() -> r.events.size() > n);
            assertEquals(SelectionKey.OP_WRITE, r.last());
        }
    }

    @Test
    void acceptAndConnectReadiness() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open();
             SocketChannel client = SocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            server.configureBlocking(false);
            Recorder acc = new Recorder();
            IoRegistration sreg = loop.register(server, SelectionKey.OP_ACCEPT, acc);
            client.configureBlocking(false);
            Recorder con = new Recorder();
            boolean now = client.connect(server.getLocalAddress());
            IoRegistration creg = loop.register(client, SelectionKey.OP_CONNECT, con);
            List<SocketChannel> accepted = new ArrayList<>();
            acc.action = () -> {
                try {
                    SocketChannel c = server.accept();
                    if (c != null) {
                        accepted.add(c);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            };
            con.action = () -> {
                try {
                    if (client.finishConnect()) {
                        creg.interestOps(0);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            };
            runUntil(() -> !accepted.isEmpty() && (now || client.isConnected()));
            assertEquals(SelectionKey.OP_ACCEPT, acc.last());
            if (!now) {
                assertEquals(SelectionKey.OP_CONNECT, con.last());
            }
            accepted.get(0).close();
            sreg.deregister();
            creg.deregister();
        }
    }

    @Test
    void failedConnectIsReportedAsConnectReadiness() throws Exception {
        int port;
        try (ServerSocketChannel s = ServerSocketChannel.open()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            port = ((InetSocketAddress) s.getLocalAddress()).getPort();
        } // closed: connecting is refused
        try (SocketChannel client = SocketChannel.open()) {
            client.configureBlocking(false);
            Recorder con = new Recorder();
            List<Exception> failures = new ArrayList<>();
            boolean now;
            try {
                now = client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            } catch (java.net.ConnectException e) {
                return; // refused synchronously: nothing for the backend to report
            }
            assertFalse(now);
            IoRegistration reg = loop.register(client, SelectionKey.OP_CONNECT, con);
            con.action = () -> {
                try {
                    client.finishConnect();
                } catch (Exception e) {
                    failures.add(e);
                    reg.deregister();
                }
            };
            runUntil(() -> !failures.isEmpty());
            assertEquals(SelectionKey.OP_CONNECT, con.last());
            assertTrue(failures.get(0) instanceof java.net.ConnectException, failures.toString());
        }
    }

    @Test
    void resetIsReportedAsReadReadiness() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel client = SocketChannel.open(server.getLocalAddress());
            SocketChannel peer = server.accept();
            client.configureBlocking(false);
            Recorder r = new Recorder();
            List<Object> outcome = new ArrayList<>();
            IoRegistration reg = loop.register(client, SelectionKey.OP_READ, r);
            r.action = () -> {
                try {
                    outcome.add(client.read(ByteBuffer.allocate(16)));
                } catch (Exception e) {
                    outcome.add(e);
                }
                reg.deregister();
            };
            peer.setOption(StandardSocketOptions.SO_LINGER, 0);
            peer.close(); // RST
            runUntil(() -> !outcome.isEmpty());
            assertTrue(outcome.get(0) instanceof java.io.IOException || Integer.valueOf(-1).equals(outcome.get(0)),
                    outcome.toString());
            client.close();
        }
    }

    @Test
    void deregisterStopsEventsAndIsIdempotent() throws Exception {
        Pipe p = pipe();
        try (var src = p.source(); var sink = p.sink()) {
            Recorder r = new Recorder();
            IoRegistration reg = loop.register(src, SelectionKey.OP_READ, r);
            assertTrue(reg.isRegistered());
            reg.deregister();
            reg.deregister();
            assertFalse(reg.isRegistered());
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            runIdle();
            assertTrue(r.events.isEmpty());
            // and it can be registered again, with a new handler
            Recorder r2 = new Recorder();
            IoRegistration reg2 = loop.register(src, SelectionKey.OP_READ, r2);
            runUntil(() -> !r2.events.isEmpty());
            assertTrue(r.events.isEmpty());
            reg2.deregister();
        }
    }

    @Test
    void aSecondRegistrationOfTheSameChannelIsRefusedAndTheFirstKeepsItsEvents() throws Exception {
        Pipe p = pipe();
        try (var src = p.source(); var sink = p.sink()) {
            Recorder first = new Recorder();
            IoRegistration reg = loop.register(src, SelectionKey.OP_READ, first);
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> loop.register(src, SelectionKey.OP_READ, new Recorder()));
            assertTrue(e.getMessage().contains("already registered"), e.getMessage());
            assertTrue(reg.isRegistered());
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            runUntil(() -> !first.events.isEmpty());
            reg.deregister();
        }
    }

    @Test
    void closedChannelStopsReportingAndItsFdNumberCanBeReused() throws Exception {
        // Close a registered channel without deregistering (as another thread might), then open new channels until
        // one gets a descriptor that may reuse the number: the old registration must not report for the new one
        // and the new one must work.
        Pipe p = pipe();
        Recorder old = new Recorder();
        IoRegistration oldReg = loop.register(p.source(), SelectionKey.OP_READ, old);
        p.sink().write(ByteBuffer.wrap(new byte[] {1}));
        p.source().close();
        p.sink().close();
        assertFalse(oldReg.isRegistered(), "a closed channel is not registered");
        runIdle();
        int before = old.events.size();
        Pipe q = pipe();
        try (var src = q.source(); var sink = q.sink()) {
            Recorder r = new Recorder();
            IoRegistration reg = loop.register(src, SelectionKey.OP_READ, r);
            oldReg.deregister(); // late deregistration of the closed channel must not remove the new one
            oldReg.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            runUntil(() -> !r.events.isEmpty());
            assertEquals(before, old.events.size(), "the closed channel's handler never runs again");
            assertTrue(reg.isRegistered());
            reg.deregister();
        }
    }

    @Test
    void channelClosedFromAnotherThreadWhileTheLoopWaits() throws Exception {
        Pipe p = pipe();
        Recorder r = new Recorder();
        IoRegistration reg = loop.register(p.source(), SelectionKey.OP_READ, r);
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(20);
                p.source().close();
                p.sink().close();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        runUntil(() -> !p.source().isOpen());
        t.join();
        runIdle();
        assertFalse(reg.isRegistered());
        reg.deregister();
        // the loop still works
        Pipe q = pipe();
        try (var src = q.source(); var sink = q.sink()) {
            Recorder r2 = new Recorder();
            loop.register(src, SelectionKey.OP_READ, r2);
            sink.write(ByteBuffer.wrap(new byte[] {1}));
            runUntil(() -> !r2.events.isEmpty());
        }
    }

    @Test
    void wakeupFromAnotherThreadIsCoalesced() throws Exception {
        int threads = 4;
        int each = 200;
        CountDownLatch start = new CountDownLatch(1);
        int[] ran = new int[1];
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int k = 0; k < each; k++) {
                    loop.callSoonThreadsafe(() -> ran[0]++);
                }
            }));
        }
        start.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ran[0] < threads * each && System.nanoTime() < deadline) {
            loop.runOnce(); // no timer: blocks until a producer wakes it
        }
        for (Thread t : ts) {
            t.join();
        }
        assertEquals(threads * each, ran[0]);
        assertTrue(loop.wakeupCount() < threads * each, "wake-ups coalesced: " + loop.wakeupCount());
    }

    @Test
    void wakeupAndCloseAfterCloseAreHarmless() throws Exception {
        IoBackend b = Backends.open(loop, backend());
        Pipe p = pipe();
        try (var src = p.source(); var sink = p.sink()) {
            IoRegistration reg = b.register(src, SelectionKey.OP_READ, new Recorder(), loop.currentScopeImpl());
            b.wakeup();
            b.close();
            b.wakeup();
            b.close();
            reg.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE); // harmless after close
            reg.deregister();
            assertFalse(reg.isRegistered());
            org.junit.jupiter.api.Assertions.assertThrows(java.nio.channels.ClosedSelectorException.class,
                    () -> b.register(src, SelectionKey.OP_READ, new Recorder(), loop.currentScopeImpl()));
        }
    }

    @Test
    void closingLoopsLeaksNoDescriptors() throws Exception {
        java.nio.file.Path fds = java.nio.file.Path.of("/proc/self/fd");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isDirectory(fds), "no /proc/self/fd");
        long before;
        try (var s = java.nio.file.Files.list(fds)) {
            before = s.count();
        }
        for (int i = 0; i < 50; i++) {
            TulipLoop l = (TulipLoop) EventLoop.builder().backend(backend()).build();
            Pipe p = pipe();
            l.register(p.source(), SelectionKey.OP_READ, new Recorder());
            l.close(); // registrations are dropped; the channels stay open (they are not the backend's)
            assertTrue(p.source().isOpen());
            p.source().close();
            p.sink().close();
        }
        long after;
        try (var s = java.nio.file.Files.list(fds)) {
            after = s.count();
        }
        assertTrue(after <= before + 2, "descriptors before " + before + ", after " + after);
    }

    @Test
    void manyRegistrationsGrowTheTable() throws Exception {
        List<Pipe> pipes = new ArrayList<>();
        List<Recorder> recs = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Pipe p = pipe();
                pipes.add(p);
                Recorder r = new Recorder();
                recs.add(r);
                loop.register(p.source(), SelectionKey.OP_READ, r);
                p.sink().write(ByteBuffer.wrap(new byte[] {1}));
            }
            runUntil(() -> recs.stream().allMatch(r -> !r.events.isEmpty()));
        } finally {
            for (Pipe p : pipes) {
                p.source().close();
                p.sink().close();
            }
        }
    }
}
