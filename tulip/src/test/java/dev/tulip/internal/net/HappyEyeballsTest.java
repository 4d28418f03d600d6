package dev.tulip.internal.net;

import static dev.tulip.internal.net.NetTesting.openFds;
import static dev.tulip.internal.net.NetTesting.run;
import static dev.tulip.internal.net.NetTesting.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.net.NetTesting.Recorder;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Connection;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Name resolution and connection racing on loopback. A "black hole" address is a listening socket whose accept
 * queue is full (backlog 1, never accepted): Linux drops further SYNs, so a connect to it hangs like one to an
 * unreachable host.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HappyEyeballsTest {
    EventLoop loop;
    TulipLoop tl;
    final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeAll
    static void warmUp() {
        SelectorSocketTransportTest.warmUp0();
    }

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
        tl = (TulipLoop) loop;
    }

    @AfterEach
    void tearDown() throws Exception {
        loop.close();
        for (AutoCloseable c : cleanup) {
            c.close();
        }
    }

    InetSocketAddress listening() throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.bind(new InetSocketAddress("127.0.0.1", 0), 50);
        cleanup.add(s);
        return (InetSocketAddress) s.getLocalAddress();
    }

    InetSocketAddress refusing() throws IOException {
        try (ServerSocketChannel s = ServerSocketChannel.open()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return (InetSocketAddress) s.getLocalAddress();
        }
    }

    InetSocketAddress blackHole() throws IOException {
        ServerSocketChannel s = ServerSocketChannel.open();
        s.bind(new InetSocketAddress("127.0.0.1", 0), 1);
        cleanup.add(s);
        InetSocketAddress a = (InetSocketAddress) s.getLocalAddress();
        List<SocketChannel> fillers = new ArrayList<>();
        for (int i = 0; i < 4; i++) { // fill the accept queue
            SocketChannel c = SocketChannel.open();
            c.configureBlocking(false);
            c.connect(a);
            cleanup.add(c);
            fillers.add(c);
        }
        // The queue holds backlog + 1 = 2 connections; later SYNs are dropped, so a connect to it hangs. Wait until the
        // kernel has completed those two handshakes (a fixed pause was a guess: on a loaded machine the softirq work
        // can run late, and the attempt under test then took a free place in the queue and connected).
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (int connected = 0; ; connected = 0) {
            for (SocketChannel c : fillers) {
                connected += c.isConnected() || c.finishConnect() ? 1 : 0;
            }
            if (connected >= 2) {
                return a;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the kernel completed " + connected + " of the 2 handshakes that fill the "
                        + "accept queue in 10 s");
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }

    @Test
    void literalsAreParsedWithoutLookup() throws Exception {
        assertEquals(List.of(new InetSocketAddress(InetAddress.ofLiteral("::1"), 80)),
                run(loop, loop.getAddrInfo("[::1]", 80)));
        assertEquals(List.of(new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 1)),
                run(loop, loop.getAddrInfo("127.0.0.1", 1)));
        InetSocketAddress scoped = run(loop, loop.getAddrInfo("fe80::1%lo", 7)).getFirst();
        Inet6Address a = (Inet6Address) scoped.getAddress();
        assertEquals(NetworkInterface.getByName("lo").getIndex(), a.getScopeId());
        assertEquals(7, scoped.getPort());
        assertEquals(3, ((Inet6Address) run(loop, loop.getAddrInfo("fe80::1%3", 7)).getFirst().getAddress())
                .getScopeId());
        Future<List<InetSocketAddress>> bad = loop.getAddrInfo("fe80::1%nosuchif0", 7);
        assertInstanceOf(UnknownHostException.class, assertThrows(CompletionException.class, bad::result).getCause());
        assertThrows(IllegalArgumentException.class, () -> loop.getAddrInfo("::1", -1));
    }

    @Test
    void namesResolveOffTheLoopToAllAddresses() {
        Future<List<InetSocketAddress>> f = loop.getAddrInfo("localhost", 443);
        assertTrue(!f.isDone() || !f.result().isEmpty());
        List<InetSocketAddress> all = run(loop, f);
        assertTrue(all.stream().allMatch(a -> a.getAddress().isLoopbackAddress() && a.getPort() == 443), all::toString);
        Future<List<InetSocketAddress>> none = loop.getAddrInfo("no-such-host.invalid", 1);
        runUntil(loop, none::isDone);
        assertInstanceOf(UnknownHostException.class, assertThrows(CompletionException.class, none::result).getCause());
    }

    @Test
    void interleavesFamilies() throws Exception {
        InetSocketAddress a4 = new InetSocketAddress(InetAddress.ofLiteral("127.0.0.1"), 1);
        InetSocketAddress b4 = new InetSocketAddress(InetAddress.ofLiteral("127.0.0.2"), 1);
        InetSocketAddress a6 = new InetSocketAddress(InetAddress.ofLiteral("::1"), 1);
        InetSocketAddress b6 = new InetSocketAddress(InetAddress.ofLiteral("::2"), 1);
        assertEquals(List.of(a6, a4, b6, b4), Resolver.interleave(List.of(a6, b6, a4, b4)));
        assertEquals(List.of(a4, a6, b4), Resolver.interleave(List.of(a4, b4, a6)));
    }

    @Test
    void aFailureStartsTheNextAttemptAtOnce() throws Exception {
        InetSocketAddress good = listening();
        int fds = openFds();
        Future<SocketChannel> f = HappyEyeballs.connect(tl, List.of(refusing(), refusing(), good),
                ConnectOptions.defaults().withHappyEyeballsDelay(Duration.ofSeconds(20)));
        SocketChannel ch = run(loop, f, Duration.ofSeconds(5)); // far less than the 20 s delay
        assertEquals(good, ch.getRemoteAddress());
        ch.close();
        assertEquals(fds, openFds());
    }

    @Test
    void aHangingAttemptIsOvertakenAfterTheDelayAndClosed() throws Exception {
        InetSocketAddress hole = blackHole();
        InetSocketAddress good = listening();
        int fds = openFds();
        long t0 = System.nanoTime();
        Future<SocketChannel> f = HappyEyeballs.connect(tl, List.of(hole, good),
                ConnectOptions.defaults().withHappyEyeballsDelay(Duration.ofMillis(100)));
        SocketChannel ch = run(loop, f);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(good, ch.getRemoteAddress());
        assertTrue(ms >= 90, "the second attempt waited for the delay: " + ms + " ms");
        ch.close();
        runUntil(loop, () -> openFds() == fds);
    }

    @Test
    void withoutADelayAttemptsAreSequential() throws Exception {
        InetSocketAddress hole = blackHole();
        InetSocketAddress good = listening();
        Future<Connection<Recorder>> f = loop.createConnection(() -> new Recorder(loop), "127.0.0.1", hole.getPort(),
                ConnectOptions.defaults().withHappyEyeballsDelay(null).withConnectTimeout(Duration.ofMillis(300)));
        runUntil(loop, f::isDone);
        assertInstanceOf(SocketTimeoutException.class, assertThrows(CompletionException.class, f::result).getCause());
        Future<SocketChannel> seq = HappyEyeballs.connect(tl, List.of(refusing(), good),
                ConnectOptions.defaults().withHappyEyeballsDelay(null));
        run(loop, seq).close();
    }

    @Test
    void connectTimeoutClosesTheAttempts() throws Exception {
        InetSocketAddress hole = blackHole();
        int fds = openFds();
        Recorder r = new Recorder(loop);
        Future<Connection<Recorder>> f = loop.createConnection(() -> r, "127.0.0.1", hole.getPort(),
                ConnectOptions.defaults().withConnectTimeout(Duration.ofMillis(200)));
        runUntil(loop, f::isDone);
        Throwable e = assertThrows(CompletionException.class, f::result).getCause();
        assertInstanceOf(SocketTimeoutException.class, e);
        assertTrue(e.getMessage().contains("timed out"), e.getMessage());
        runUntil(loop, () -> openFds() == fds);
        assertEquals(List.of(), r.events);
    }

    /** A link-local address nobody has on the loopback interface: unreachable, refused or timed out, never a hang. */
    @Test
    void unreachableFailsWithoutLeaks() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(NetworkInterface.getByName("lo") != null, "no interface 'lo'");
        int fds = openFds();
        Recorder r = new Recorder(loop);
        Future<Connection<Recorder>> f = loop.createConnection(() -> r, "fe80::1%lo", 9,
                ConnectOptions.defaults().withConnectTimeout(Duration.ofSeconds(2)));
        runUntil(loop, f::isDone);
        assertInstanceOf(IOException.class, assertThrows(CompletionException.class, f::result).getCause());
        assertEquals(List.of(), r.events);
        runUntil(loop, () -> openFds() == fds);
    }

    @Test
    void cancellingTheScopeDuringConnectClosesTheAttempt() throws Exception {
        InetSocketAddress hole = blackHole();
        int fds = openFds();
        dev.tulip.Scope child = loop.rootScope().newChild("connecting");
        Recorder r = new Recorder(loop);
        @SuppressWarnings("unchecked") Future<Connection<Recorder>>[] f = new Future[1];
        child.run(() -> f[0] = loop.createConnection(() -> r, "127.0.0.1", hole.getPort()));
        for (int i = 0; i < 5; i++) {
            loop.callLater(Duration.ofMillis(2), () -> { });
            loop.runOnce();
        }
        assertTrue(openFds() > fds, "the attempt's socket is open");
        child.cancel();
        assertTrue(f[0].isCancelled());
        runUntil(loop, () -> openFds() == fds);
        assertEquals(List.of(), r.events);
    }

    @Test
    void allFailing() throws Exception {
        Future<SocketChannel> f = HappyEyeballs.connect(tl, List.of(refusing(), refusing()), ConnectOptions.defaults());
        runUntil(loop, f::isDone);
        Throwable e = assertThrows(CompletionException.class, f::result).getCause();
        assertInstanceOf(ConnectException.class, e);
        assertEquals(2, e.getSuppressed().length);
    }

    @Test
    void optionsValidate() {
        assertThrows(IllegalArgumentException.class, () -> ConnectOptions.defaults().withConnectTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> ConnectOptions.defaults().withHappyEyeballsDelay(Duration.ofMillis(-1)));
        assertTrue(ConnectOptions.defaults().tcpNoDelay());
        assertThrows(IllegalArgumentException.class,
                () -> dev.tulip.transport.ServerOptions.defaults().withBacklog(0));
    }
}
