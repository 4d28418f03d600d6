package dev.tulip.internal.net;

import static dev.tulip.internal.net.DatagramTestSupport.bytes;
import static dev.tulip.internal.net.DatagramTestSupport.local;
import static dev.tulip.internal.net.DatagramTestSupport.on;
import static dev.tulip.internal.net.DatagramTestSupport.open;
import static dev.tulip.internal.net.DatagramTestSupport.runFor;
import static dev.tulip.internal.net.DatagramTestSupport.runUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Scope;
import dev.tulip.internal.net.DatagramTestSupport.Recorder;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramOptions.Family;
import dev.tulip.transport.DatagramTransport;
import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class SelectorDatagramTransportTest {
    private EventLoop loop;
    private final List<ExceptionContext> handled = new ArrayList<>();
    private final List<AutoCloseable> peers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
        loop.setExceptionHandler((l, c) -> handled.add(c));
    }

    @AfterEach
    void tearDown() throws Exception {
        loop.close();
        for (AutoCloseable c : peers) {
            c.close();
        }
    }

    private DatagramSocket peer(String host) throws SocketException {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(host, 0));
        s.setSoTimeout(5000);
        peers.add(s);
        return s;
    }

    private static void send(DatagramSocket from, byte[] data, InetSocketAddress to) throws IOException {
        from.send(new DatagramPacket(data, data.length, to));
    }

    private static byte[] receive(DatagramSocket s) throws IOException {
        byte[] buf = new byte[70_000];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        s.receive(p);
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + (i >>> 8));
        }
        return b;
    }

    /** net.core.rmem_max, or Long.MAX_VALUE where /proc does not tell (not Linux). */
    private static long rmemMax() throws IOException {
        Path p = Path.of("/proc/sys/net/core/rmem_max");
        if (!Files.exists(p)) {
            return Long.MAX_VALUE;
        }
        try (var in = Files.newInputStream(p)) { // proc files report size 0: read the stream, not the size
            return Long.parseLong(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        }
    }

    private static boolean ipv6Loopback() {
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("::1", 0));
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Binding, info, call order
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void bindsPortZeroAndReportsTheRealPortAtOnce() throws IOException {
        int[] portSeenInConnectionMade = {-1};
        Recorder r = new Recorder() {
            @Override
            public void connectionMade(DatagramTransport t) {
                super.connectionMade(t);
                portSeenInConnectionMade[0] = ((InetSocketAddress) t.info().localAddress()).getPort();
            }
        };
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        assertEquals(List.of("made"), r.events);
        InetSocketAddress a = local(ep.transport());
        assertNotEquals(0, a.getPort());
        assertEquals(a.getPort(), portSeenInConnectionMade[0]);
        assertEquals(InetAddress.getByName("127.0.0.1"), a.getAddress());
        assertEquals(a, ((DatagramChannel) ep.transport().info().channel()).getLocalAddress());
        assertNull(ep.transport().info().peerAddress(), "unconnected endpoints have no peer");
        assertFalse(ep.transport().isClosing());
        assertEquals(r, ep.protocol());
    }

    @Test
    void echoesToAnySenderAndCallsBackInOrder() throws IOException {
        Recorder r = new Recorder().echoing();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        DatagramSocket a = peer("127.0.0.1");
        DatagramSocket b = peer("127.0.0.1");
        send(a, "from a".getBytes(StandardCharsets.UTF_8), local(ep.transport()));
        send(b, "from b".getBytes(StandardCharsets.UTF_8), local(ep.transport()));
        runUntil(loop, () -> r.datagrams.size() == 2);
        assertEquals("from a", new String(receive(a), StandardCharsets.UTF_8));
        assertEquals("from b", new String(receive(b), StandardCharsets.UTF_8));
        assertEquals(a.getLocalSocketAddress(), r.senders.get(0));
        assertEquals(b.getLocalSocketAddress(), r.senders.get(1));
        ep.transport().close();
        assertTrue(ep.transport().isClosing());
        runUntil(loop, () -> r.lost);
        assertNull(r.lostCause);
        assertEquals(List.of("made", "datagram", "lost"), r.events);
        assertFalse(ep.transport().info().channel().isOpen());
    }

    @Test
    void emptyDatagramsTravelBothWays() throws IOException {
        Recorder r = new Recorder().echoing();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        DatagramSocket a = peer("127.0.0.1");
        send(a, new byte[0], local(ep.transport()));
        runUntil(loop, () -> r.datagrams.size() == 1);
        assertEquals(0, r.datagrams.getFirst().length);
        assertEquals(0, receive(a).length);
    }

    @Test
    void largestIpv4DatagramArrivesWholeBothWays() throws IOException {
        Recorder r = new Recorder().echoing();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        DatagramSocket a = peer("127.0.0.1");
        a.setSendBufferSize(256 * 1024);
        a.setReceiveBufferSize(256 * 1024);
        byte[] big = pattern(DatagramTransport.MAX_IPV4_DATAGRAM);
        send(a, big, local(ep.transport()));
        runUntil(loop, () -> r.datagrams.size() == 1);
        assertArrayEquals(big, r.datagrams.getFirst());
        assertArrayEquals(big, receive(a));
    }

    @Test
    void largestIpv6DatagramArrivesWholeBothWays() throws IOException {
        assumeTrue(ipv6Loopback(), "::1 is not available on this machine");
        Recorder r = new Recorder().echoing();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("::1"));
        DatagramSocket a = peer("::1");
        a.setSendBufferSize(256 * 1024);
        a.setReceiveBufferSize(256 * 1024);
        byte[] big = pattern(DatagramTransport.MAX_IPV6_DATAGRAM);
        send(a, big, local(ep.transport()));
        runUntil(loop, () -> r.datagrams.size() == 1);
        assertArrayEquals(big, r.datagrams.getFirst());
        assertArrayEquals(big, receive(a));
    }

    @Test
    void datagramLargerThanMaxDatagramSizeIsReportedNotTruncated() throws IOException {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r,
                DatagramOptions.builder().localAddress("127.0.0.1", 0).maxDatagramSize(100).build());
        DatagramSocket a = peer("127.0.0.1");
        send(a, pattern(101), local(ep.transport()));
        send(a, pattern(100), local(ep.transport()));
        runUntil(loop, () -> r.datagrams.size() == 1);
        assertEquals(1, r.errors.size());
        assertTrue(r.errors.getFirst().getMessage().contains("101 bytes"), r.errors.getFirst().getMessage());
        assertTrue(r.errors.getFirst().getMessage().contains("maxDatagramSize 100"));
        assertArrayEquals(pattern(100), r.datagrams.getFirst());
        assertFalse(ep.transport().isClosing());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Receive buffer and batching
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void burstOfAThousandDatagramsToAnIdleEndpointIsNotDropped() throws IOException {
        long rmemMax = rmemMax();
        // 1,000 loopback datagrams of 1 KiB take about 2.3 MB of receive-buffer accounting (kernel truesize).
        assumeTrue(rmemMax >= 2 * 1024 * 1024, "net.core.rmem_max is " + rmemMax
                + ": the kernel caps SO_RCVBUF below what a burst of 1,000 x 1 KiB needs");
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        int rcvbuf = ((DatagramChannel) ep.transport().info().channel()).getOption(StandardSocketOptions.SO_RCVBUF);
        assertTrue(rcvbuf >= 2 * 1024 * 1024, "SO_RCVBUF " + rcvbuf);
        DatagramSocket a = peer("127.0.0.1");
        byte[] d = new byte[1024];
        for (int i = 0; i < 1000; i++) { // the loop is not running: the endpoint is idle, the kernel must hold all
            d[0] = (byte) i;
            d[1] = (byte) (i >> 8);
            send(a, d, local(ep.transport()));
        }
        runUntil(loop, () -> r.datagrams.size() == 1000);
        for (int i = 0; i < 1000; i++) {
            byte[] got = r.datagrams.get(i);
            assertEquals(i, (got[0] & 0xFF) | (got[1] & 0xFF) << 8, "datagram " + i + " out of order or lost");
        }
    }

    @Test
    void readsAreBatchedAndBoundedPerReadinessEvent() throws IOException {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        DatagramSocket a = peer("127.0.0.1");
        int total = SelectorDatagramTransport.READ_BATCH * 3 + 5;
        for (int i = 0; i < total; i++) {
            send(a, new byte[]{(byte) i}, local(ep.transport()));
        }
        List<Integer> perPass = new ArrayList<>();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (r.datagrams.size() < total && System.nanoTime() < deadline) {
            int before = r.datagrams.size();
            var tick = loop.callLater(Duration.ofMillis(20), () -> { });
            loop.runOnce();
            tick.cancel();
            perPass.add(r.datagrams.size() - before);
        }
        assertEquals(total, r.datagrams.size());
        assertTrue(perPass.stream().allMatch(n -> n <= SelectorDatagramTransport.READ_BATCH), perPass.toString());
        assertTrue(perPass.contains(SelectorDatagramTransport.READ_BATCH), "one event reads a whole batch: " + perPass);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Connected endpoints and ICMP errors
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void connectedEndpointSendsToItsPeerAndReportsPortUnreachable() throws IOException {
        InetSocketAddress closedPort;
        try (DatagramChannel gone = DatagramChannel.open()) {
            gone.bind(new InetSocketAddress("127.0.0.1", 0));
            closedPort = (InetSocketAddress) gone.getLocalAddress();
        }
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder()
                .localAddress("127.0.0.1", 0).remoteAddress(closedPort).build());
        assertEquals(closedPort, ep.transport().info().peerAddress());
        ep.transport().send(bytes("anyone there?"));
        runUntil(loop, () -> !r.errors.isEmpty());
        assertInstanceOf(PortUnreachableException.class, r.errors.getFirst());
        assertFalse(ep.transport().isClosing(), "an ICMP error must not close the endpoint");
        assertFalse(r.lost);
        // The endpoint and the loop go on: more sends, more (reported) errors, nothing thrown.
        ep.transport().sendTo(bytes("again"), closedPort);
        runUntil(loop, () -> r.errors.size() >= 2);
        assertInstanceOf(PortUnreachableException.class, r.errors.get(1));
        assertTrue(handled.isEmpty(), handled.toString());
        ep.transport().close();
        runUntil(loop, () -> r.lost);
        assertNull(r.lostCause);
    }

    @Test
    void anErrorReceivedThatThrowsAbortsTheEndpointButNotTheLoop() throws IOException {
        InetSocketAddress closedPort;
        try (DatagramChannel gone = DatagramChannel.open()) {
            gone.bind(new InetSocketAddress("127.0.0.1", 0));
            closedPort = (InetSocketAddress) gone.getLocalAddress();
        }
        RuntimeException boom = new IllegalStateException("errorReceived failed");
        Recorder r = new Recorder() {
            @Override
            public void errorReceived(Exception error) {
                super.errorReceived(error);
                throw boom;
            }
        };
        DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder().remoteAddress(closedPort).build());
        ep.transport().send(bytes("x"));
        runUntil(loop, () -> r.lost);
        assertEquals(boom, r.lostCause);
        assertEquals(1, handled.size());
        boolean[] ran = {false};
        loop.callSoon(() -> ran[0] = true);
        runUntil(loop, () -> ran[0]);
    }

    @Test
    void connectedEndpointTalksWithItsPeer() throws IOException {
        DatagramSocket a = peer("127.0.0.1");
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder()
                .remoteAddress((InetSocketAddress) a.getLocalSocketAddress()).build());
        assertEquals(InetAddress.getByName("127.0.0.1"), local(ep.transport()).getAddress(),
                "connecting picks the local address");
        ep.transport().send(bytes("hi peer"));
        assertEquals("hi peer", new String(receive(a), StandardCharsets.UTF_8));
        send(a, "hi endpoint".getBytes(StandardCharsets.UTF_8), local(ep.transport()));
        runUntil(loop, () -> r.datagrams.size() == 1);
        assertEquals("hi endpoint", r.lastText());
        assertThrows(IllegalArgumentException.class, () -> ep.transport().sendTo(bytes("x"),
                new InetSocketAddress("127.0.0.1", 9)), "a connected endpoint sends only to its peer");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Send queue, flow control, closing
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void sendsThatWouldBlockAreQueuedWithFlowControlAndFlushedInOrderOnClose() throws IOException {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        SelectorDatagramTransport t = (SelectorDatagramTransport) ep.transport();
        DatagramSocket a = peer("127.0.0.1");
        InetSocketAddress to = (InetSocketAddress) a.getLocalSocketAddress();
        t.setWriteBufferLimits(4000, 1000);
        t.sendWouldBlockForTest = true;
        ByteBuffer reused = ByteBuffer.allocate(1000);
        for (int i = 0; i < 5; i++) {
            reused.clear();
            reused.put(0, (byte) i).limit(1000);
            t.sendTo(reused, to);
            assertEquals(1000, reused.position(), "the buffer is consumed");
        }
        assertEquals(5 * (1000 + 8), t.writeBufferSize());
        assertEquals(List.of("made", "pause"), r.events, "paused once above the high-water mark");
        runFor(loop, Duration.ofMillis(50)); // the socket is writable, the kernel still says "would block"
        assertEquals(5 * 1008, t.writeBufferSize());
        t.close();
        assertTrue(t.isClosing());
        assertThrows(IllegalStateException.class, () -> t.sendTo(bytes("late"), to));
        runFor(loop, Duration.ofMillis(50));
        assertFalse(r.lost, "close waits for the queue");
        t.sendWouldBlockForTest = false;
        runUntil(loop, () -> r.lost);
        assertEquals(0, t.writeBufferSize());
        assertNull(r.lostCause);
        assertEquals(List.of("made", "pause", "resume", "lost"), r.events);
        for (int i = 0; i < 5; i++) {
            byte[] got = receive(a);
            assertEquals(1000, got.length);
            assertEquals(i, got[0], "queued datagrams keep their order");
        }
    }

    @Test
    void abortDropsQueuedDatagrams() throws IOException {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        SelectorDatagramTransport t = (SelectorDatagramTransport) ep.transport();
        DatagramSocket a = peer("127.0.0.1");
        a.setSoTimeout(200);
        t.sendWouldBlockForTest = true;
        t.sendTo(bytes("dropped"), a.getLocalSocketAddress());
        assertEquals(7 + 8, t.writeBufferSize());
        t.abort();
        t.sendWouldBlockForTest = false;
        assertEquals(0, t.writeBufferSize());
        runUntil(loop, () -> r.lost);
        assertNull(r.lostCause);
        assertThrows(SocketTimeoutException.class, () -> receive(a));
        assertThrows(IllegalStateException.class, () -> t.send(bytes("x")));
        t.abort();
        t.close(); // idempotent
    }

    @Test
    void waterMarksValidateAndApplyAtOnce() {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        SelectorDatagramTransport t = (SelectorDatagramTransport) ep.transport();
        assertThrows(IllegalArgumentException.class, () -> t.setWriteBufferLimits(10, 11));
        assertThrows(IllegalArgumentException.class, () -> t.setWriteBufferLimits(-1, 0));
        t.sendWouldBlockForTest = true;
        t.sendTo(bytes("0123456789"), new InetSocketAddress("127.0.0.1", 9));
        t.setWriteBufferLimits(5, 0);
        assertEquals(1, r.pauses);
        t.setWriteBufferLimits(100, 50);
        assertEquals(1, r.resumes);
        t.abort();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Bad input
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void badInputFailsClearlyBeforeAnythingIsSent() throws IOException {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        DatagramTransport t = ep.transport();
        DatagramSocket a = peer("127.0.0.1");
        InetSocketAddress to = (InetSocketAddress) a.getLocalSocketAddress();

        NullPointerException npe = assertThrows(NullPointerException.class, () -> t.sendTo(bytes("x"), null));
        assertTrue(npe.getMessage().contains("address"), npe.getMessage());
        assertThrows(NullPointerException.class, () -> t.sendTo(null, to));
        ByteBuffer tooBig = ByteBuffer.allocate(DatagramTransport.MAX_IPV4_DATAGRAM + 1);
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class, () -> t.sendTo(tooBig, to));
        assertTrue(big.getMessage().contains("65508") && big.getMessage().contains("65507"), big.getMessage());
        assertEquals(0, tooBig.position(), "nothing consumed");
        assertThrows(IllegalArgumentException.class,
                () -> t.sendTo(bytes("x"), InetSocketAddress.createUnresolved("localhost", 9)));
        assertThrows(IllegalArgumentException.class, () -> t.sendTo(bytes("x"), new InetSocketAddress("127.0.0.1", 0)));
        assertThrows(IllegalArgumentException.class, () -> t.sendTo(bytes("x"), new InetSocketAddress("::1", 9)),
                "an IPv4 endpoint cannot send to IPv6");
        assertThrows(IllegalArgumentException.class, () -> t.sendTo(bytes("x"), UnixDomainSocketAddress.of("/tmp/x")));
        IllegalStateException notConnected = assertThrows(IllegalStateException.class, () -> t.send(bytes("x")));
        assertTrue(notConnected.getMessage().contains("not connected"), notConnected.getMessage());

        t.sendTo(bytes("first"), to);
        assertEquals("first", new String(receive(a), StandardCharsets.UTF_8), "nothing was sent before");
        assertTrue(r.errors.isEmpty());

        t.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> t.sendTo(bytes("x"), to));
        assertTrue(closed.getMessage().contains("clos"), closed.getMessage());
        runUntil(loop, () -> r.lost);
        assertThrows(IllegalStateException.class, () -> t.sendTo(bytes("x"), to));
        assertThrows(IllegalStateException.class,
                () -> t.joinGroup(InetAddress.getByName("239.1.2.3"), NetworkInterface.getByIndex(1)));
    }

    @Test
    void oversizeIpv6DatagramIsRefused() {
        assumeTrue(ipv6Loopback(), "::1 is not available on this machine");
        DatagramEndpoint<Recorder> ep = open(loop, new Recorder(), on("::1"));
        ByteBuffer tooBig = ByteBuffer.allocate(DatagramTransport.MAX_IPV6_DATAGRAM + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ep.transport().sendTo(tooBig, new InetSocketAddress("::1", 9)));
        assertTrue(e.getMessage().contains("65527"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ep.transport().sendTo(bytes("x"), new InetSocketAddress("127.0.0.1", 9)),
                "an IPv6 endpoint refuses IPv4 addresses");
    }

    @Test
    void createRejectsNullsAndFailsTheFutureOnSocketErrors() {
        assertThrows(NullPointerException.class, () -> loop.createDatagramEndpoint(null, DatagramOptions.defaults()));
        assertThrows(NullPointerException.class,
                () -> loop.createDatagramEndpoint(Recorder::new, (DatagramOptions) null));
        Future<DatagramEndpoint<Recorder>> f = loop.createDatagramEndpoint(() -> null, on("127.0.0.1"));
        assertTrue(f.isDone());
        assertThrows(NullPointerException.class, f::result);
        Future<DatagramEndpoint<Recorder>> unknown = loop.createDatagramEndpoint(Recorder::new,
                DatagramOptions.builder().localAddress("no-such-host.invalid", 0).build());
        runUntil(loop, unknown::isDone);
        assertInstanceOf(java.net.UnknownHostException.class, unknown.exception());
    }

    @Test
    void adoptsAChannelTheCallerBound() throws IOException {
        DatagramChannel ch = DatagramChannel.open();
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        Recorder r = new Recorder().echoing();
        DatagramEndpoint<Recorder> ep = loop.runUntilComplete(loop.createDatagramEndpoint(() -> r, ch));
        assertFalse(ch.isBlocking());
        assertEquals(ch.getLocalAddress(), ep.transport().info().localAddress());
        DatagramSocket a = peer("127.0.0.1");
        send(a, "adopted".getBytes(StandardCharsets.UTF_8), local(ep.transport()));
        runUntil(loop, () -> r.datagrams.size() == 1);
        assertEquals("adopted", new String(receive(a), StandardCharsets.UTF_8));
        ep.transport().close();
        runUntil(loop, () -> r.lost);
        assertFalse(ch.isOpen(), "the endpoint owns the channel");

        try (DatagramChannel unbound = DatagramChannel.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> loop.createDatagramEndpoint(Recorder::new, unbound));
            assertTrue(e.getMessage().contains("not bound"), e.getMessage());
            assertTrue(unbound.isOpen(), "bad input leaves the caller's channel alone");
        }
        assertThrows(IllegalStateException.class, () -> loop.createDatagramEndpoint(Recorder::new, ch));
        assertThrows(NullPointerException.class, () -> loop.createDatagramEndpoint(Recorder::new, (DatagramChannel) null));
    }

    @Test
    void adoptsAConnectedChannelAsAConnectedEndpoint() throws IOException {
        DatagramSocket a = peer("127.0.0.1");
        DatagramChannel ch = DatagramChannel.open();
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        ch.connect(a.getLocalSocketAddress());
        DatagramEndpoint<Recorder> ep = loop.runUntilComplete(loop.createDatagramEndpoint(Recorder::new, ch));
        assertEquals(a.getLocalSocketAddress(), ep.transport().info().peerAddress());
        ep.transport().send(bytes("connected"));
        assertEquals("connected", new String(receive(a), StandardCharsets.UTF_8));
    }

    @Test
    void hostNamesAreResolvedOffTheLoop() {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r,
                DatagramOptions.builder().localAddress("localhost", 0).family(Family.IPV4).build());
        assertTrue(local(ep.transport()).getAddress().isLoopbackAddress());
        assertEquals(List.of("made"), r.events);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Socket options
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void reuseAddressIsOffAndASecondBindFails() throws IOException {
        DatagramEndpoint<Recorder> ep = open(loop, new Recorder(), on("127.0.0.1"));
        DatagramChannel ch = (DatagramChannel) ep.transport().info().channel();
        assertFalse(ch.getOption(StandardSocketOptions.SO_REUSEADDR));
        assertFalse(ch.getOption(StandardSocketOptions.SO_REUSEPORT));
        assertFalse(ch.getOption(StandardSocketOptions.SO_BROADCAST));
        Future<DatagramEndpoint<Recorder>> second = loop.createDatagramEndpoint(Recorder::new,
                DatagramOptions.builder().localAddress(local(ep.transport())).build());
        assertTrue(second.isDone());
        assertInstanceOf(BindException.class, second.exception());
        // Nor can a socket that does set SO_REUSEADDR hijack the port.
        try (DatagramChannel thief = DatagramChannel.open()) {
            thief.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            assertThrows(BindException.class, () -> thief.bind(local(ep.transport())));
        }
    }

    @Test
    void reusePortIsOptIn() throws IOException {
        DatagramOptions shared = DatagramOptions.builder().localAddress("127.0.0.1", 0).reusePort(true).build();
        DatagramEndpoint<Recorder> first = open(loop, new Recorder(), shared);
        assertTrue(((DatagramChannel) first.transport().info().channel()).getOption(StandardSocketOptions.SO_REUSEPORT));
        DatagramEndpoint<Recorder> second = open(loop, new Recorder(),
                shared.toBuilder().localAddress(local(first.transport())).build());
        assertEquals(local(first.transport()), local(second.transport()));
    }

    @Test
    void broadcastIsOptIn() throws IOException {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        // Without SO_BROADCAST the kernel refuses a broadcast address (nothing leaves the host): an error, not a death.
        ep.transport().sendTo(bytes("x"), new InetSocketAddress("255.255.255.255", 9));
        assertEquals(1, r.errors.size());
        assertInstanceOf(SocketException.class, r.errors.getFirst());
        assertFalse(ep.transport().isClosing());
        DatagramEndpoint<Recorder> b = open(loop, new Recorder(),
                DatagramOptions.builder().localAddress("127.0.0.1", 0).allowBroadcast(true).build());
        assertTrue(((DatagramChannel) b.transport().info().channel()).getOption(StandardSocketOptions.SO_BROADCAST));
    }

    @Test
    void socketBufferSizesAreSettable() throws IOException {
        DatagramEndpoint<Recorder> ep = open(loop, new Recorder(), DatagramOptions.builder()
                .localAddress("127.0.0.1", 0).receiveBufferSize(64 * 1024).sendBufferSize(32 * 1024).build());
        DatagramChannel ch = (DatagramChannel) ep.transport().info().channel();
        // Linux doubles the value asked for (bookkeeping overhead); other systems report it as is.
        int rcv = ch.getOption(StandardSocketOptions.SO_RCVBUF);
        int snd = ch.getOption(StandardSocketOptions.SO_SNDBUF);
        assertTrue(rcv == 64 * 1024 || rcv == 128 * 1024, "SO_RCVBUF " + rcv);
        assertTrue(snd == 32 * 1024 || snd == 64 * 1024, "SO_SNDBUF " + snd);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Families
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void dualStackEndpointTalksToIpv4AndIpv6Peers() throws IOException {
        assumeTrue(ipv6Loopback(), "::1 is not available on this machine");
        Recorder r = new Recorder().echoing();
        // The dual-stack socket binds the wildcard address (the only way to receive both families), but only
        // loopback peers talk to it here.
        DatagramEndpoint<Recorder> ep = open(loop, r, DatagramOptions.builder().family(Family.DUAL_STACK).build());
        int port = local(ep.transport()).getPort();
        DatagramSocket v4 = peer("127.0.0.1");
        DatagramSocket v6 = peer("::1");
        send(v4, "v4".getBytes(StandardCharsets.UTF_8), new InetSocketAddress("127.0.0.1", port));
        send(v6, "v6".getBytes(StandardCharsets.UTF_8), new InetSocketAddress("::1", port));
        runUntil(loop, () -> r.datagrams.size() == 2);
        assertEquals("v4", new String(receive(v4), StandardCharsets.UTF_8));
        assertEquals("v6", new String(receive(v6), StandardCharsets.UTF_8));
        InetSocketAddress from4 = (InetSocketAddress) r.senders.get(0);
        InetSocketAddress from6 = (InetSocketAddress) r.senders.get(1);
        assertInstanceOf(Inet4Address.class, from4.getAddress(), "IPv4 peers appear as IPv4 addresses");
        assertInstanceOf(Inet6Address.class, from6.getAddress());
    }

    @Test
    void ipv4FamilyIsIpv4Only() {
        DatagramEndpoint<Recorder> ep = open(loop, new Recorder(),
                DatagramOptions.builder().localAddress("127.0.0.1", 0).family(Family.IPV4).build());
        assertInstanceOf(Inet4Address.class, local(ep.transport()).getAddress());
        assertThrows(IllegalArgumentException.class,
                () -> ep.transport().sendTo(bytes("x"), new InetSocketAddress("::1", 9)));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Multicast
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void joinsAndLeavesAMulticastGroupOnLoopback() throws IOException {
        NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("127.0.0.1"));
        assumeTrue(lo != null, "no loopback interface found");
        InetAddress group = InetAddress.getByName("239.255.43.21");
        Recorder rx = new Recorder();
        // Bound to the group address (not a host interface): it receives the group's datagrams only.
        DatagramEndpoint<Recorder> receiver = open(loop, rx, DatagramOptions.builder()
                .localAddress(new InetSocketAddress(group, 0)).family(Family.IPV4).build());
        try {
            receiver.transport().joinGroup(group, lo);
        } catch (SocketException e) {
            assumeTrue(false, "this machine's loopback interface refuses multicast membership: " + e);
        }
        receiver.transport().joinGroup(group, lo); // idempotent
        Recorder tx = new Recorder();
        DatagramEndpoint<Recorder> sender = open(loop, tx, DatagramOptions.builder().localAddress("127.0.0.1", 0)
                .multicastInterface(lo).multicastTtl(0).build());
        InetSocketAddress target = new InetSocketAddress(group, local(receiver.transport()).getPort());
        sender.transport().sendTo(bytes("to the group"), target);
        if (!tx.errors.isEmpty()) {
            assumeTrue(false, "this machine cannot route multicast over loopback: " + tx.errors.getFirst());
        }
        runUntil(loop, () -> rx.datagrams.size() == 1, Duration.ofSeconds(5));
        assertEquals("to the group", rx.lastText());
        assertEquals(local(sender.transport()), rx.senders.getFirst());

        assertTrue(receiver.transport().leaveGroup(group, lo));
        assertFalse(receiver.transport().leaveGroup(group, lo), "already left");
        sender.transport().sendTo(bytes("after leaving"), target);
        runFor(loop, Duration.ofMillis(200));
        assertEquals(1, rx.datagrams.size(), "no delivery after leaving the group");
        assertThrows(IllegalArgumentException.class,
                () -> receiver.transport().joinGroup(InetAddress.getByName("127.0.0.1"), lo));
    }

    @Test
    void joinsAnIpv6MulticastGroupOnLoopbackWhereTheMachineRoutesIt() throws IOException {
        assumeTrue(ipv6Loopback(), "::1 is not available on this machine");
        NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("::1"));
        assumeTrue(lo != null, "no IPv6 loopback interface found");
        // A site-local group, scoped to the loopback interface; the receiver binds the group itself.
        Inet6Address group = Inet6Address.getByAddress(null, InetAddress.getByName("ff15::4321").getAddress(), lo);
        Recorder rx = new Recorder();
        Future<DatagramEndpoint<Recorder>> f = loop.createDatagramEndpoint(() -> rx, DatagramOptions.builder()
                .localAddress(new InetSocketAddress(group, 0)).family(Family.IPV6).build());
        runUntil(loop, f::isDone);
        assumeTrue(f.exception() == null, "cannot bind IPv6 multicast group " + group + ": " + f.exception());
        DatagramTransport receiver = f.result().transport();
        try {
            receiver.joinGroup(group, lo);
        } catch (SocketException e) {
            assumeTrue(false, "this machine's loopback interface refuses IPv6 multicast membership: " + e);
        }
        Recorder tx = new Recorder();
        DatagramEndpoint<Recorder> sender = open(loop, tx, DatagramOptions.builder().localAddress("::1", 0)
                .multicastInterface(lo).build());
        sender.transport().sendTo(bytes("to the v6 group"), new InetSocketAddress(group, local(receiver).getPort()));
        // Linux routes IPv6 multicast over lo only if lo has the MULTICAST flag (often not, in containers).
        assumeTrue(tx.errors.isEmpty(), "this machine cannot route IPv6 multicast over loopback: "
                + (tx.errors.isEmpty() ? "" : tx.errors.getFirst()));
        runUntil(loop, () -> rx.datagrams.size() == 1, Duration.ofSeconds(5));
        assertEquals("to the v6 group", rx.lastText());
        assertTrue(receiver.leaveGroup(group, lo));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Scopes, protocol failures, loop close
    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void cancellingTheScopeClosesTheEndpoint() throws Exception {
        Scope scope = loop.rootScope().newChild("udp");
        Recorder r = new Recorder();
        Future<DatagramEndpoint<Recorder>> f = scope.call(() ->
                loop.createDatagramEndpoint(() -> r, on("127.0.0.1")));
        DatagramEndpoint<Recorder> ep = loop.runUntilComplete(f);
        scope.cancel();
        assertTrue(ep.transport().isClosing());
        assertFalse(ep.transport().info().channel().isOpen());
        runUntil(loop, () -> r.lost); // connectionLost runs in the system scope, although the scope is cancelled
        assertInstanceOf(CancellationException.class, r.lostCause);
        assertEquals(List.of("made", "lost"), r.events);
    }

    @Test
    void cancellingTheScopeBeforeTheEndpointIsReadyCancelsTheFuture() throws Exception {
        Scope scope = loop.rootScope().newChild("udp");
        Recorder r = new Recorder();
        Future<DatagramEndpoint<Recorder>> f = scope.call(() ->
                loop.createDatagramEndpoint(() -> r, on("127.0.0.1")));
        scope.cancel();
        assertTrue(f.isCancelled());
        runFor(loop, Duration.ofMillis(20));
        assertEquals(List.of(), r.events, "neither connectionMade nor connectionLost");
    }

    @Test
    void cancellingTheFutureBeforeTheEndpointIsReadyClosesIt() {
        Recorder r = new Recorder();
        Future<DatagramEndpoint<Recorder>> f = loop.createDatagramEndpoint(() -> r, on("127.0.0.1"));
        f.cancel();
        runFor(loop, Duration.ofMillis(20));
        assertEquals(List.of(), r.events);
    }

    @Test
    void aProtocolThatThrowsAbortsOnlyItsEndpoint() throws IOException {
        RuntimeException boom = new IllegalStateException("boom");
        Recorder bad = new Recorder() {
            @Override
            public void datagramReceived(ByteBuffer data, java.net.SocketAddress from) {
                super.datagramReceived(data, from);
                throw boom;
            }
        };
        Recorder good = new Recorder().echoing();
        DatagramEndpoint<Recorder> b = open(loop, bad, on("127.0.0.1"));
        DatagramEndpoint<Recorder> g = open(loop, good, on("127.0.0.1"));
        DatagramSocket a = peer("127.0.0.1");
        send(a, new byte[]{1}, local(b.transport()));
        send(a, new byte[]{2}, local(b.transport()));
        runUntil(loop, () -> bad.lost);
        assertEquals(boom, bad.lostCause);
        assertEquals(1, bad.datagrams.size(), "nothing delivered after the failure");
        assertEquals(1, handled.size());
        assertEquals(boom, handled.getFirst().exception());
        assertEquals(b.transport(), handled.getFirst().transport());
        send(a, new byte[]{3}, local(g.transport()));
        runUntil(loop, () -> good.datagrams.size() == 1);
        assertArrayEquals(new byte[]{3}, receive(a));
    }

    @Test
    void connectionMadeThatThrowsFailsTheFutureAndEndsTheEndpoint() {
        RuntimeException boom = new IllegalStateException("boom in connectionMade");
        Recorder r = new Recorder() {
            @Override
            public void connectionMade(DatagramTransport t) {
                super.connectionMade(t);
                throw boom;
            }
        };
        Future<DatagramEndpoint<Recorder>> f = loop.createDatagramEndpoint(() -> r, on("127.0.0.1"));
        runUntil(loop, () -> f.isDone() && r.lost);
        assertEquals(boom, f.exception());
        assertEquals(boom, r.lostCause);
        assertFalse(r.transport.info().channel().isOpen());
        assertEquals(1, handled.size(), "reported to the loop's exception handler");
    }

    @Test
    void aProtocolMayCloseItsEndpointInConnectionMade() throws IOException {
        DatagramSocket a = peer("127.0.0.1");
        Recorder r = new Recorder() {
            @Override
            public void connectionMade(DatagramTransport t) {
                super.connectionMade(t);
                t.sendTo(bytes("one-shot"), a.getLocalSocketAddress());
                t.close();
            }
        };
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        assertTrue(ep.transport().isClosing());
        runUntil(loop, () -> r.lost);
        assertNull(r.lostCause);
        assertEquals("one-shot", new String(receive(a), StandardCharsets.UTF_8));
    }

    @Test
    void closingTheLoopClosesItsEndpoints() {
        Recorder r = new Recorder();
        DatagramEndpoint<Recorder> ep = open(loop, r, on("127.0.0.1"));
        loop.close();
        assertTrue(r.lost);
        assertInstanceOf(CancellationException.class, r.lostCause);
        assertFalse(ep.transport().info().channel().isOpen());
    }
}
