package dev.tulip.internal.net;

import static dev.tulip.internal.net.DatagramTestSupport.local;
import static dev.tulip.internal.net.DatagramTestSupport.open;
import static dev.tulip.internal.net.DatagramTestSupport.runUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.EventLoop;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.net.DatagramTestSupport.Recorder;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramTransport;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * How datagram endpoints receive: the channel's receive on the Selector backend, recvmmsg batches on the epoll backend
 * (the struct layouts checked by real datagrams: sizes, bytes, sources of both families, truncation). The epoll half
 * runs where epoll can (the "epoll-backend" surefire execution) and is skipped elsewhere.
 */
@Timeout(30)
class DatagramIoTest {

    private static String epollUnavailable() {
        try (EventLoop loop = EventLoop.builder().backend("auto").build()) {
            return "epoll".equals(((TulipLoop) loop).backendName()) ? null : "auto chose nio";
        }
    }

    private static EventLoop loop(String backend) {
        if (backend.equals("epoll")) {
            String why = epollUnavailable();
            assumeTrue(why == null, () -> "epoll unavailable: " + why);
            assumeTrue(StreamIo.NATIVE_ON_EPOLL, "run with -Dtulip.nativeIo=false");
        }
        return EventLoop.builder().backend(backend).build();
    }

    private static boolean ipv6Loopback() {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("::1", 0));
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    static Stream<Arguments> backendsAndHosts() {
        return Stream.of(Arguments.of("nio", "127.0.0.1"), Arguments.of("nio", "::1"),
                Arguments.of("epoll", "127.0.0.1"), Arguments.of("epoll", "::1"));
    }

    private static byte[] datagram(int sender, int seq) {
        byte[] b = new byte[2 + (seq * 37 + sender * 11) % 300];
        b[0] = (byte) sender;
        b[1] = (byte) seq;
        for (int i = 2; i < b.length; i++) {
            b[i] = (byte) (i * 31 + sender + seq);
        }
        return b;
    }

    private static void send(DatagramSocket from, byte[] data, InetSocketAddress to) throws IOException {
        from.send(new DatagramPacket(data, data.length, to));
    }

    /** Blocks until {@code ch} is readable (a datagram or a pending socket error), without receiving. */
    private static void awaitReadable(DatagramChannel ch) throws IOException {
        try (Selector s = Selector.open()) {
            ch.register(s, SelectionKey.OP_READ);
            assertTrue(s.select(10_000) > 0, "nothing arrived within 10 s");
        }
    }

    @Test
    void theSelectorBackendReceivesThroughTheChannel() throws IOException {
        try (EventLoop loop = loop("nio"); DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0)).configureBlocking(false);
            assertInstanceOf(DatagramIo.Channel.class, DatagramIo.of((TulipLoop) loop, ch, 65_535));
        }
    }

    /**
     * One recvmmsg takes what is waiting from several senders, with each datagram's bytes, size and source; a sender
     * that repeats gets the same (cached) address object; a closed channel is never touched.
     */
    @Test
    void theEpollBackendReceivesABatchWithRecvmmsg() throws IOException {
        try (EventLoop loop = loop("epoll"); DatagramChannel ch = DatagramChannel.open();
             DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             DatagramSocket b = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0)).configureBlocking(false);
            InetSocketAddress to = (InetSocketAddress) ch.getLocalAddress();
            DatagramIo io = DatagramIo.of((TulipLoop) loop, ch, 65_535);
            assertInstanceOf(DatagramIo.Native.class, io);
            assertEquals(0, io.receive(64), "nothing waiting: would block, reported as none");
            send(a, datagram(1, 0), to);
            send(a, datagram(1, 1), to);
            send(b, datagram(2, 0), to);
            send(a, new byte[0], to);
            List<byte[]> got = new ArrayList<>();
            List<SocketAddress> from = new ArrayList<>();
            while (got.size() < 4) {
                awaitReadable(ch);
                int n = io.receive(64);
                assertTrue(io.drained(n, 64), "a short batch means the socket is empty");
                for (int i = 0; i < n; i++) {
                    ByteBuffer d = io.data(i);
                    assertEquals(0, d.position());
                    assertEquals(io.length(i), d.remaining());
                    byte[] copy = new byte[d.remaining()];
                    d.get(copy);
                    got.add(copy);
                    from.add(io.source(i));
                }
            }
            assertEquals(4, got.size());
            assertArrayEquals(datagram(1, 0), got.get(0));
            assertArrayEquals(datagram(1, 1), got.get(1));
            assertArrayEquals(datagram(2, 0), got.get(2));
            assertEquals(0, got.get(3).length);
            assertEquals(a.getLocalSocketAddress(), from.get(0));
            assertSame(from.get(0), from.get(1), "a repeating sender's address is decoded once");
            assertEquals(b.getLocalSocketAddress(), from.get(2));
            assertNotSame(from.get(1), from.get(2));
            assertEquals(a.getLocalSocketAddress(), from.get(3));
            ch.close();
            assertThrows(ClosedChannelException.class, () -> io.receive(64));
        }
    }

    /** ECONNREFUSED from recvmmsg on a connected socket: a PortUnreachableException, once; the socket lives on. */
    @Test
    void theEpollBackendReportsPortUnreachableOnAConnectedSocket() throws IOException {
        InetSocketAddress closedPort;
        try (DatagramChannel gone = DatagramChannel.open()) {
            gone.bind(new InetSocketAddress("127.0.0.1", 0));
            closedPort = (InetSocketAddress) gone.getLocalAddress();
        }
        try (EventLoop loop = loop("epoll"); DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0)).connect(closedPort).configureBlocking(false);
            DatagramIo io = DatagramIo.of((TulipLoop) loop, ch, 65_535);
            ch.write(ByteBuffer.wrap(new byte[] {1}));
            awaitReadable(ch); // the ICMP error makes the socket readable
            assertThrows(PortUnreachableException.class, () -> io.receive(64));
            assertEquals(0, io.receive(64), "the error is reported once");
            assertTrue(ch.isOpen());
        }
    }

    /**
     * More than a batch of datagrams from several senders, queued while the loop is idle, arrive whole, in order per
     * sender, each with its sender's address; on epoll a whole batch of 64 comes from one readiness event. The echoes
     * (gathered into one sendmmsg per batch on epoll) reach each sender whole and in order.
     */
    @ParameterizedTest
    @MethodSource("backendsAndHosts")
    void aBurstFromSeveralSendersArrivesWholeInOrderWithItsSources(String backend, String host) throws IOException {
        if (host.equals("::1")) {
            assumeTrue(ipv6Loopback(), "::1 is not available on this machine");
        }
        int senders = 3;
        int each = 30; // 90 datagrams of at most 301 bytes: well within the default receive buffer's accounting
        List<DatagramSocket> peers = new ArrayList<>();
        try (EventLoop loop = loop(backend)) {
            Recorder r = new Recorder().echoing();
            DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder().localAddress(host, 0)
                    .receiveBufferSize(1 << 20).build());
            for (int s = 0; s < senders; s++) {
                DatagramSocket p = new DatagramSocket(new InetSocketAddress(host, 0));
                p.setSoTimeout(5000);
                p.setReceiveBufferSize(1 << 20);
                peers.add(p);
            }
            for (int seq = 0; seq < each; seq++) { // interleaved senders
                for (int s = 0; s < senders; s++) {
                    send(peers.get(s), datagram(s, seq), local(ep.transport()));
                }
            }
            int total = senders * each;
            List<Integer> seen = new ArrayList<>();
            runUntil(loop, () -> {
                seen.add(r.datagrams.size());
                return r.datagrams.size() == total;
            }, java.time.Duration.ofSeconds(10), r::describe);
            Map<SocketAddress, Integer> bySender = new HashMap<>();
            for (int s = 0; s < senders; s++) {
                bySender.put(peers.get(s).getLocalSocketAddress(), s);
            }
            int[] next = new int[senders];
            for (int k = 0; k < total; k++) {
                Integer s = bySender.get(r.senders.get(k));
                assertTrue(s != null, "unknown source " + r.senders.get(k) + " of datagram " + k);
                assertArrayEquals(datagram(s, next[s]), r.datagrams.get(k),
                        "datagram " + next[s] + " of sender " + s + " (from " + r.senders.get(k) + ")");
                next[s]++;
            }
            assertTrue(r.errors.isEmpty(), r.describe());
            assertTrue(seen.contains(SelectorDatagramTransport.READ_BATCH),
                    "the first readiness event reads a whole batch; delivered before each pass: " + seen);
            for (int s = 0; s < senders; s++) {
                for (int seq = 0; seq < each; seq++) {
                    assertArrayEquals(datagram(s, seq), receive(peers.get(s)), "echo " + seq + " to sender " + s);
                }
            }
            assertEquals(0, ep.transport().writeBufferSize());
        } finally {
            for (DatagramSocket p : peers) {
                p.close();
            }
        }
    }

    /** A connected endpoint's replies during a batch go to its peer (no address in the gathered sends), in order. */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll"})
    void aConnectedEndpointEchoesABurstToItsPeer(String backend) throws IOException {
        try (EventLoop loop = loop(backend);
             DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(5000);
            peer.setReceiveBufferSize(1 << 20);
            Recorder r = new Recorder() {
                @Override
                public void datagramReceived(ByteBuffer data, SocketAddress from) {
                    super.datagramReceived(data, from);
                    transport.send(data);
                }
            };
            DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder().localAddress("127.0.0.1", 0)
                    .remoteAddress((InetSocketAddress) peer.getLocalSocketAddress()).build());
            int total = SelectorDatagramTransport.READ_BATCH + 10;
            for (int seq = 0; seq < total; seq++) {
                send(peer, datagram(7, seq), local(ep.transport()));
            }
            runUntil(loop, () -> r.datagrams.size() == total, java.time.Duration.ofSeconds(10), r::describe);
            for (int seq = 0; seq < total; seq++) {
                assertArrayEquals(datagram(7, seq), receive(peer), "echo " + seq);
            }
            assertTrue(r.errors.isEmpty(), r.describe());
        }
    }

    /** A protocol that replies and then closes its endpoint within one batch: the replies leave before the close. */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll"})
    void repliesMadeBeforeACloseInTheSameBatchAreSent(String backend) throws IOException {
        try (EventLoop loop = loop(backend);
             DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(5000);
            Recorder r = new Recorder() {
                @Override
                public void datagramReceived(ByteBuffer data, SocketAddress from) {
                    super.datagramReceived(data, from);
                    transport.sendTo(data, from);
                    if (datagrams.size() == 3) {
                        transport.close();
                    }
                }
            };
            DatagramEndpoint<Recorder> ep = open(loop, r, DatagramTestSupport.on("127.0.0.1"));
            for (int seq = 0; seq < 5; seq++) {
                send(peer, datagram(4, seq), local(ep.transport()));
            }
            runUntil(loop, () -> r.lost, java.time.Duration.ofSeconds(10), r::describe);
            assertEquals(3, r.datagrams.size(), "nothing is delivered after close: " + r.describe());
            for (int seq = 0; seq < 3; seq++) {
                assertArrayEquals(datagram(4, seq), receive(peer), "reply " + seq);
            }
            assertEquals(null, r.lostCause);
        }
    }

    /**
     * Replies staged during a batch that the kernel has no room for wait in the endpoint's queue, in order, counted in
     * its write buffer, and leave when the socket is writable (the kernel never says "would block" to a loopback UDP
     * send, so a test seam says it here).
     */
    @Test
    void stagedRepliesThatWouldBlockAreQueuedInOrder() throws IOException {
        try (EventLoop loop = loop("epoll");
             DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(5000);
            long[] queuedAfterBatch = {-1};
            Recorder r = new Recorder().echoing();
            DatagramEndpoint<Recorder> ep = open(loop, r, DatagramTestSupport.on("127.0.0.1"));
            SelectorDatagramTransport t = (SelectorDatagramTransport) ep.transport();
            t.stagedSendWouldBlockForTest = true;
            for (int seq = 0; seq < 5; seq++) {
                send(peer, datagram(3, seq), local(t));
            }
            runUntil(loop, () -> r.datagrams.size() == 5, java.time.Duration.ofSeconds(10), r::describe);
            queuedAfterBatch[0] = t.writeBufferSize();
            assertTrue(queuedAfterBatch[0] > 0, "the staged replies are queued: " + queuedAfterBatch[0]);
            runUntil(loop, () -> t.writeBufferSize() == 0);
            for (int seq = 0; seq < 5; seq++) {
                assertArrayEquals(datagram(3, seq), receive(peer), "echo " + seq);
            }
            assertTrue(r.errors.isEmpty(), r.describe());
        }
    }

    /**
     * A datagram larger than maxDatagramSize is reported with its real size and dropped, never delivered cut; the
     * datagrams around it, in the same batch, arrive whole (the largest allowed, and an empty one).
     */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll"})
    void oversizeDatagramsAreReportedWithTheirSizeAndTheRestOfTheBatchArrives(String backend) throws IOException {
        try (EventLoop loop = loop(backend);
             DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            Recorder r = new Recorder();
            DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder().localAddress("127.0.0.1", 0)
                    .maxDatagramSize(100).build());
            InetSocketAddress to = local(ep.transport());
            send(a, datagram(0, 1), to); // 39 bytes
            send(a, new byte[1000], to);
            send(a, new byte[101], to);
            send(a, pattern(100), to);
            send(a, new byte[0], to);
            runUntil(loop, () -> r.datagrams.size() == 3, java.time.Duration.ofSeconds(10), r::describe);
            assertEquals(2, r.errors.size(), r.describe());
            assertTrue(r.errors.get(0).getMessage().contains("datagram of 1000 bytes"), r.errors.get(0).getMessage());
            assertTrue(r.errors.get(0).getMessage().contains(a.getLocalSocketAddress().toString()),
                    r.errors.get(0).getMessage());
            assertTrue(r.errors.get(1).getMessage().contains("datagram of 101 bytes"), r.errors.get(1).getMessage());
            assertTrue(r.errors.get(1).getMessage().contains("maxDatagramSize 100"));
            assertArrayEquals(datagram(0, 1), r.datagrams.get(0));
            assertArrayEquals(pattern(100), r.datagrams.get(1));
            assertEquals(0, r.datagrams.get(2).length);
            assertFalse(ep.transport().isClosing());
        }
    }

    /** 65,507 bytes, the largest IPv4 payload, between small datagrams: whole, in one batch's slots, and back. */
    @ParameterizedTest
    @ValueSource(strings = {"nio", "epoll"})
    void theLargestIpv4DatagramArrivesWholeAmongSmallOnes(String backend) throws IOException {
        try (EventLoop loop = loop(backend);
             DatagramSocket a = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            a.setSendBufferSize(256 * 1024);
            a.setReceiveBufferSize(512 * 1024);
            a.setSoTimeout(5000);
            Recorder r = new Recorder().echoing();
            DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder().localAddress("127.0.0.1", 0)
                    .receiveBufferSize(1 << 20).build());
            InetSocketAddress to = local(ep.transport());
            byte[] big = pattern(DatagramTransport.MAX_IPV4_DATAGRAM);
            send(a, datagram(0, 1), to);
            send(a, big, to);
            send(a, datagram(0, 2), to);
            runUntil(loop, () -> r.datagrams.size() == 3, java.time.Duration.ofSeconds(10), r::describe);
            assertArrayEquals(datagram(0, 1), r.datagrams.get(0));
            assertArrayEquals(big, r.datagrams.get(1));
            assertArrayEquals(datagram(0, 2), r.datagrams.get(2));
            assertTrue(r.errors.isEmpty(), r.describe());
            assertArrayEquals(datagram(0, 1), receive(a)); // the echoes, gathered on epoll
            assertArrayEquals(big, receive(a));
            assertArrayEquals(datagram(0, 2), receive(a));
        }
    }

    /**
     * The native datagram path allocates nothing per datagram once compiled: recvmmsg into the loop's slots, the
     * repeating peer's address from the cache, the reply staged with its encoded address reused and sent by sendmmsg.
     * A client and an echo endpoint on one loop keep 8 datagrams of 1 KiB in flight.
     */
    @Test
    void steadyStateEchoOnEpollAllocatesNothing() throws Exception {
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                .invoke(null);
        java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getCurrentThreadAllocatedBytes");
        try (EventLoop loop = loop("epoll")) {
            DatagramEndpoint<dev.tulip.transport.DatagramProtocol> server = open(loop,
                    new dev.tulip.transport.DatagramProtocol() {
                        private DatagramTransport t;

                        @Override
                        public void connectionMade(DatagramTransport transport) {
                            t = transport;
                        }

                        @Override
                        public void datagramReceived(ByteBuffer data, SocketAddress from) {
                            t.sendTo(data, from);
                        }
                    }, DatagramTestSupport.on("127.0.0.1"));
            Window client = new Window();
            open(loop, client, DatagramOptions.builder().localAddress("127.0.0.1", 0)
                    .remoteAddress(local(server.transport())).build());
            long bytes = -1;
            for (int round = 0; round < 100; round++) {
                client.done = loop.createFuture();
                client.start(5_000);
                long before = (long) allocated.invoke(threads);
                loop.runUntilComplete(client.done);
                bytes = (long) allocated.invoke(threads) - before;
                if (bytes < 1024) {
                    break;
                }
            }
            assertTrue(bytes < 1024, bytes + " bytes allocated for 5000 datagram echoes after warm-up");
        }
    }

    /** Keeps 8 datagrams in flight to its peer until {@code total} have come back. */
    private static final class Window implements dev.tulip.transport.DatagramProtocol {
        final ByteBuffer message = ByteBuffer.allocateDirect(1024);
        DatagramTransport t;
        dev.tulip.Future<Void> done;
        int sent;
        int received;
        int total;

        @Override
        public void connectionMade(DatagramTransport transport) {
            t = transport;
        }

        void start(int n) {
            total = n;
            sent = 0;
            received = 0;
            for (int i = 0; i < 8; i++) {
                sendOne();
            }
        }

        private void sendOne() {
            message.clear();
            t.send(message);
            sent++;
        }

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress from) {
            received++;
            if (sent < total) {
                sendOne();
            } else if (received == total) {
                done.setResult(null);
            }
        }

        @Override
        public void errorReceived(Exception error) {
            done.setException(error);
        }
    }

    private static byte[] receive(DatagramSocket s) throws IOException {
        byte[] buf = new byte[70_000];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        s.receive(p);
        return java.util.Arrays.copyOf(p.getData(), p.getLength());
    }

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + (i >>> 8));
        }
        return b;
    }
}
