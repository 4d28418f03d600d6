package dev.tulip.internal.net;

import static dev.tulip.internal.net.NetTesting.bytes;
import static dev.tulip.internal.net.NetTesting.openFds;
import static dev.tulip.internal.net.NetTesting.run;
import static dev.tulip.internal.net.NetTesting.runUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Scope;
import dev.tulip.internal.net.NetTesting.Echo;
import dev.tulip.internal.net.NetTesting.Recorder;
import dev.tulip.transport.BufferedProtocol;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The stream transport's contract over real TCP sockets on loopback: call order, write buffering and flow control,
 * half-close, errors, closing, scopes, and no file descriptor leaks.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SelectorSocketTransportTest {
    EventLoop loop;
    final List<ExceptionContext> errors = new ArrayList<>();
    int fdsBefore;

    @org.junit.jupiter.api.BeforeAll
    static void warmUp() {
        warmUp0();
    }

    static void warmUp0() {
        // The JDK opens a few descriptors lazily on first network use; let that happen before fds are counted.
        try (EventLoop l = EventLoop.create(); var s = java.nio.channels.ServerSocketChannel.open()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            SocketChannel.open(s.getLocalAddress()).close();
            s.accept().close();
            java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.INET6).close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @BeforeEach
    void setUp() {
        fdsBefore = openFds();
        loop = EventLoop.create();
        loop.setExceptionHandler((l, c) -> errors.add(c));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    /** After the test's own cleanup: nothing leaked, nothing escaped to the loop. */
    void assertClean() {
        loop.close();
        assertEquals(List.of(), errors, "exceptions reached the loop's handler");
        runUntilFds();
    }

    private void runUntilFds() {
        // The selector's own fds are released by loop.close(); give the JDK a moment to drop cancelled keys (by the
        // clock, generously: a loaded machine can be slow to, and the assertion below says what was left).
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (openFds() > fdsBefore && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(fdsBefore, openFds(), "file descriptors leaked");
    }

    /**
     * Starts a thread that reads {@code total} bytes from {@code peer}, checking they are 0, 1, 2, ... (mod 256),
     * counting them in {@code readCount}; a mismatch or an error goes to {@code bad}.
     */
    static Thread sequenceReader(SocketChannel peer, long total, AtomicLong readCount, AtomicReference<Throwable> bad) {
        return Thread.ofPlatform().start(() -> {
            ByteBuffer in = ByteBuffer.allocate(64 * 1024);
            byte expect = 0;
            try {
                while (readCount.get() < total) {
                    in.clear();
                    int n = peer.read(in);
                    if (n < 0) {
                        break;
                    }
                    for (int i = 0; i < n; i++) {
                        if (in.get(i) != expect++) {
                            throw new AssertionError("byte " + (readCount.get() + i) + " differs");
                        }
                    }
                    readCount.addAndGet(n);
                }
            } catch (Throwable e) {
                bad.set(e);
            }
        });
    }

    Server server(java.util.function.Supplier<? extends Protocol> f) {
        return run(loop, loop.createServer(f, "127.0.0.1", 0));
    }

    static int port(Server s) {
        return ((InetSocketAddress) s.addresses().getFirst()).getPort();
    }

    @Test
    void echoRoundTripInCallOrder() {
        Server srv = server(Echo::new);
        Recorder client = new Recorder(loop);
        Connection<Recorder> c = run(loop, loop.createConnection(() -> client, "127.0.0.1", port(srv)));
        assertEquals(List.of("made"), client.events, "connectionMade ran before the future completed");
        assertTrue(c.transport().info().peerAddress() instanceof InetSocketAddress);
        assertEquals(c.transport(), client.transport);
        c.transport().write(bytes("hello"));
        assertEquals(0, c.transport().writeBufferSize(), "a small write goes out at once");
        runUntil(loop, () -> client.data.size() == 5);
        assertEquals("hello", client.text());
        c.transport().close();
        assertTrue(c.transport().isClosing());
        assertNull(run(loop, client.lost));
        assertEquals(List.of("made", "data", "lost"), client.events);
        srv.close();
        run(loop, srv.waitClosed());
        assertClean();
    }

    /**
     * The channel closed behind the transport's back, from another thread (the one case where a transport's fd can
     * go away off the loop thread): the next write fails with ClosedChannelException and the protocol is told, no
     * byte goes to the file that reuses the fd number, nothing leaks. On the epoll backend this is the native data
     * path's "channel still open" check before each call.
     */
    @Test
    void aChannelClosedFromAnotherThreadFailsTheNextWriteAndTouchesNoReusedFd() throws Exception {
        Server srv = server(Echo::new);
        Recorder client = new Recorder(loop);
        Connection<Recorder> c = run(loop, loop.createConnection(() -> client, "127.0.0.1", port(srv)));
        java.nio.channels.Channel ch = c.transport().info().channel();
        Thread closer = new Thread(() -> {
            try {
                ch.close();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        closer.start();
        closer.join();
        // New sockets, one of which likely gets the closed fd's number.
        try (java.nio.channels.ServerSocketChannel ss = java.nio.channels.ServerSocketChannel.open()) {
            ss.bind(new InetSocketAddress("127.0.0.1", 0));
            try (SocketChannel p = SocketChannel.open(ss.getLocalAddress()); SocketChannel q = ss.accept()) {
                p.configureBlocking(false);
                q.configureBlocking(false);
                c.transport().write(bytes("stray"));
                Throwable cause = run(loop, client.lost);
                assertInstanceOf(java.nio.channels.ClosedChannelException.class, cause);
                assertEquals(0, p.read(ByteBuffer.allocate(16)), "bytes went to a socket that reused the fd");
                assertEquals(0, q.read(ByteBuffer.allocate(16)), "bytes went to a socket that reused the fd");
            }
        }
        srv.close();
        run(loop, srv.waitClosed());
        assertClean();
    }

    @Test
    void serverSideCallOrderAndPeerEof() throws Exception {
        List<Recorder> accepted = new ArrayList<>();
        Server srv = server(() -> {
            Recorder r = new Recorder(loop);
            accepted.add(r);
            return r;
        });
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            peer.write(bytes("abc"));
            peer.shutdownOutput();
            runUntil(loop, () -> !accepted.isEmpty() && accepted.getFirst().lost.isDone());
            Recorder r = accepted.getFirst();
            assertEquals(List.of("made", "data", "eof", "lost"), r.events);
            assertEquals("abc", r.text());
            assertNull(r.lostCause);
            assertEquals(-1, peer.read(ByteBuffer.allocate(1)), "eofReceived returning false closed the transport");
        }
        srv.close();
        assertClean();
    }

    @Test
    void halfCloseBothWays() throws Exception {
        // Server keeps the connection open after the client's FIN, answers, then closes.
        Server srv = server(() -> new Protocol() {
            Transport t;
            final StringBuilder got = new StringBuilder();

            @Override
            public void connectionMade(Transport transport) {
                t = transport;
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                got.append(StandardCharsets.UTF_8.decode(data));
            }

            @Override
            public boolean eofReceived() {
                t.write(bytes("got " + got));
                t.close();
                return true;
            }
        });
        Recorder client = new Recorder(loop);
        Connection<Recorder> c = run(loop, loop.createConnection(() -> client, "127.0.0.1", port(srv)));
        assertTrue(c.transport().canWriteEof());
        c.transport().write(bytes("ping"));
        c.transport().writeEof();
        assertThrows(IllegalStateException.class, () -> c.transport().write(bytes("x")));
        assertTrue(c.transport().isReading(), "reading goes on after writeEof");
        assertNull(run(loop, client.lost));
        assertEquals("got ping", client.text());
        assertEquals(List.of("made", "data", "eof", "lost"), client.events);
        srv.close();
        assertClean();
    }

    @Test
    void eofReceivedTrueKeepsWriting() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> {
            Recorder r = new Recorder(loop);
            r.keepOpenOnEof = true;
            holder[0] = r;
            return r;
        });
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            peer.shutdownOutput();
            runUntil(loop, () -> holder[0] != null && holder[0].eof.isDone());
            Transport t = holder[0].transport;
            assertFalse(t.isClosing());
            t.write(bytes("still here"));
            t.close();
            run(loop, holder[0].lost);
            ByteBuffer in = ByteBuffer.allocate(64);
            while (peer.read(in) >= 0) {
                // read to EOF
            }
            assertEquals("still here", new String(in.array(), 0, in.position(), StandardCharsets.UTF_8));
        }
        srv.close();
        assertClean();
    }

    @Test
    void writeBuffersOnlyTheRemainderAndFlowControlIsExact() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        try (SocketChannel peer = SocketChannel.open()) {
            peer.setOption(StandardSocketOptions.SO_RCVBUF, 32 * 1024); // before connect: the window starts small
            peer.connect(new InetSocketAddress("127.0.0.1", port(srv)));
            runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
            Recorder r = holder[0];
            Transport t = r.transport;
            t.setWriteBufferLimits(64 * 1024, 16 * 1024);
            // Fill the kernel buffers: writes go out at once until the socket refuses more.
            byte[] chunk = new byte[8 * 1024];
            long written = 0;
            int seq = 0;
            while (t.writeBufferSize() == 0) {
                for (int i = 0; i < chunk.length; i++) {
                    chunk[i] = (byte) (seq++);
                }
                t.write(ByteBuffer.wrap(chunk));
                written += chunk.length;
                assertFalse(written > 64L << 20, "the kernel took 64 MiB without pushing back");
            }
            assertTrue(t.writeBufferSize() <= chunk.length, "only the remainder is buffered");
            // Now every write is buffered; pauseWriting exactly when the size goes over the high mark.
            while (!r.events.contains("pause")) {
                long before = t.writeBufferSize();
                for (int i = 0; i < chunk.length; i++) {
                    chunk[i] = (byte) (seq++);
                }
                t.write(ByteBuffer.wrap(chunk));
                written += chunk.length;
                if (!r.events.contains("pause")) {
                    assertTrue(t.writeBufferSize() <= 64 * 1024, "over the high mark without pauseWriting");
                } else {
                    assertTrue(before <= 64 * 1024 && t.writeBufferSize() > 64 * 1024);
                }
            }
            // Ignore pauseWriting: keep writing 1 MiB more; nothing may be lost.
            for (int k = 0; k < 128; k++) {
                for (int i = 0; i < chunk.length; i++) {
                    chunk[i] = (byte) (seq++);
                }
                t.write(ByteBuffer.wrap(chunk));
                written += chunk.length;
            }
            assertEquals(1, r.events.stream().filter("pause"::equals).count());
            // Drain from another thread while the loop flushes.
            long total = written;
            AtomicLong readCount = new AtomicLong();
            AtomicReference<Throwable> bad = new AtomicReference<>();
            Thread reader = sequenceReader(peer, total, readCount, bad);
            runUntil(loop, () -> r.events.contains("resume"));
            assertTrue(t.writeBufferSize() <= 16 * 1024, "resumeWriting at the low mark");
            runUntil(loop, () -> t.writeBufferSize() == 0);
            reader.join(10_000);
            assertNull(bad.get());
            assertEquals(total, readCount.get(), () -> r.events + " " + r.lostCause + " " + t);
            assertEquals(List.of("made", "pause", "resume"), r.events);
            t.close();
            run(loop, r.lost);
        }
        srv.close();
        assertClean();
    }

    @Test
    void gatheringWriteKeepsOrder() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
            Transport t = holder[0].transport;
            t.write(bytes("a"), bytes("bc"), ByteBuffer.allocate(0), bytes("def"));
            t.write(bytes("g"));
            t.close();
            run(loop, holder[0].lost);
            ByteBuffer in = ByteBuffer.allocate(64);
            while (peer.read(in) >= 0) {
                // to EOF
            }
            assertEquals("abcdefg", new String(in.array(), 0, in.position(), StandardCharsets.UTF_8));
        }
        srv.close();
        assertClean();
    }

    @Test
    void pauseReadingStopsDeliveryEvenWithDataPending() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
            Recorder r = holder[0];
            r.transport.pauseReading();
            assertFalse(r.transport.isReading());
            peer.write(bytes("pending"));
            for (int i = 0; i < 20; i++) {
                loop.callLater(java.time.Duration.ofMillis(5), () -> { });
                loop.runOnce();
            }
            assertEquals(0, r.data.size(), "no dataReceived while paused");
            r.transport.resumeReading();
            runUntil(loop, () -> r.data.size() == 7);
            assertEquals("pending", r.text());
            r.transport.close();
            run(loop, r.lost);
        }
        srv.close();
        assertClean();
    }

    @Test
    void peerResetGivesConnectionLostWithTheErrorOnce() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)));
        runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
        peer.setOption(StandardSocketOptions.SO_LINGER, 0);
        peer.close(); // RST
        Throwable cause = run(loop, holder[0].lost);
        assertInstanceOf(IOException.class, cause);
        runUntil(loop, () -> true);
        assertEquals(1, holder[0].lostCalls);
        assertTrue(holder[0].transport.isClosing());
        srv.close();
        assertClean();
    }

    @Test
    void peerVanishingMidWrite() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)));
        runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
        Transport t = holder[0].transport;
        byte[] big = new byte[1 << 20];
        for (int i = 0; i < 8; i++) {
            t.write(ByteBuffer.wrap(big));
        }
        assertTrue(t.writeBufferSize() > 0);
        peer.setOption(StandardSocketOptions.SO_LINGER, 0);
        peer.close();
        Throwable cause = run(loop, holder[0].lost);
        assertInstanceOf(IOException.class, cause);
        assertEquals(0, t.writeBufferSize());
        // Writing after the connection was lost through an error is dropped, not thrown (the protocol knows).
        t.write(bytes("late"));
        assertEquals(1, holder[0].lostCalls);
        srv.close();
        assertClean();
    }

    @Test
    void connectRefused() throws Exception {
        int port;
        try (var s = java.nio.channels.ServerSocketChannel.open()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            port = ((InetSocketAddress) s.getLocalAddress()).getPort();
        }
        Recorder client = new Recorder(loop);
        Future<Connection<Recorder>> f = loop.createConnection(() -> client, "127.0.0.1", port);
        runUntil(loop, f::isDone);
        Throwable e = assertThrows(java.util.concurrent.CompletionException.class, f::result).getCause();
        assertInstanceOf(java.net.ConnectException.class, e);
        assertEquals(List.of(), client.events, "no protocol callbacks for a failed connect");
        assertClean();
    }

    @Test
    void closingDuringConnect() {
        Server srv = server(Echo::new);
        Recorder client = new Recorder(loop);
        Future<Connection<Recorder>> f = loop.createConnection(() -> client, "127.0.0.1", port(srv));
        assertTrue(f.cancel());
        for (int i = 0; i < 10; i++) {
            loop.callLater(java.time.Duration.ofMillis(2), () -> { });
            loop.runOnce();
        }
        assertTrue(f.isCancelled());
        assertEquals(List.of(), client.events);
        srv.close();
        srv.abortClients();
        run(loop, srv.waitClosed());
        assertClean();
    }

    /**
     * Large remainders are kept in the loop's pooled direct chunks, beyond the pool's bound in heap chunks, in order;
     * every chunk goes back to the pool when flushed, and when the transport is aborted with a full queue.
     */
    @Test
    void largeRemaindersUsePooledDirectChunksInOrderAndGiveThemBack() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        DirectChunks pool = ((dev.tulip.internal.loop.TulipLoop) loop).local(DirectChunks.class,
                l -> new DirectChunks());
        try (SocketChannel peer = SocketChannel.open()) {
            peer.setOption(StandardSocketOptions.SO_RCVBUF, 32 * 1024);
            peer.connect(new InetSocketAddress("127.0.0.1", port(srv)));
            runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
            Transport t = holder[0].transport;
            // Direct and heap sources, odd sizes (chunk boundaries fall mid-write), small writes between them.
            long total = 0;
            int seq = 0;
            int pastBound = 12; // writes after the pool ran out: those go to heap chunks
            for (int k = 0; pastBound > 0; k++) {
                if (pool.live() == DirectChunks.MAX_LIVE) {
                    pastBound--;
                }
                assertTrue(total < 512L << 20, "the kernel or the pool never pushed back");
                int size = k % 3 == 2 ? 100 : 300_001 + k;
                ByteBuffer b = k % 2 == 0 ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
                for (int i = 0; i < size; i++) {
                    b.put(i, (byte) seq++);
                }
                t.write(b);
                assertEquals(0, b.remaining(), "write consumes its argument");
                total += size;
            }
            assertEquals(DirectChunks.MAX_LIVE, pool.live(), "the pool stops at its bound");
            assertEquals(0, pool.free(), "all chunks are in use while the peer does not read");
            long expectTotal = total;
            AtomicReference<Throwable> bad = new AtomicReference<>();
            AtomicLong readCount = new AtomicLong();
            Thread reader = sequenceReader(peer, expectTotal, readCount, bad);
            runUntil(loop, () -> t.writeBufferSize() == 0);
            reader.join(30_000);
            assertNull(bad.get());
            assertEquals(expectTotal, readCount.get());
            assertEquals(pool.live(), pool.free(), "every chunk is back after the flush");
            // Abort with a full queue: the chunks come back too.
            for (int k = 0; k < 8; k++) {
                t.write(ByteBuffer.allocateDirect(1 << 20));
            }
            assertTrue(pool.free() < pool.live());
            t.abort();
            assertEquals(pool.live(), pool.free(), "abort gives the chunks back");
            run(loop, holder[0].lost);
        }
        srv.close();
        assertClean();
    }

    @Test
    void abortWithAFullBufferDropsItAndClosesNow() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
            Transport t = holder[0].transport;
            for (int i = 0; i < 16; i++) {
                t.write(ByteBuffer.allocate(1 << 20));
            }
            assertTrue(t.writeBufferSize() > 1 << 20);
            t.abort();
            t.abort();
            t.close();
            assertEquals(0, t.writeBufferSize());
            assertNull(run(loop, holder[0].lost));
            runUntil(loop, () -> true);
            assertEquals(1, holder[0].lostCalls);
        }
        srv.close();
        assertClean();
    }

    @Test
    void closeTwiceAndCloseFlushesFirst() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
            Transport t = holder[0].transport;
            byte[] big = new byte[4 << 20];
            big[big.length - 1] = 42;
            t.write(ByteBuffer.wrap(big));
            t.close();
            t.close();
            assertThrows(IllegalStateException.class, () -> t.write(bytes("x")));
            Thread reader = Thread.ofPlatform().start(() -> {
                ByteBuffer in = ByteBuffer.allocate(big.length + 1);
                try {
                    while (peer.read(in) >= 0) {
                        // to EOF
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                assertEquals(big.length, in.position());
                assertEquals(42, in.get(big.length - 1));
            });
            assertNull(run(loop, holder[0].lost));
            reader.join(10_000);
            assertFalse(reader.isAlive());
            assertEquals(1, holder[0].lostCalls);
        }
        srv.close();
        assertClean();
    }

    @Test
    void protocolExceptionGoesToHandlerAndClosesThatConnectionOnly() throws Exception {
        RuntimeException boom = new RuntimeException("boom");
        List<Throwable> lost = new ArrayList<>();
        Server srv = server(() -> new Protocol() {
            @Override
            public void dataReceived(ByteBuffer data) {
                throw boom;
            }

            @Override
            public void connectionLost(Throwable cause) {
                lost.add(cause);
            }
        });
        try (SocketChannel bad = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            bad.write(bytes("x"));
            runUntil(loop, () -> !lost.isEmpty());
            assertEquals(List.of(boom), lost);
            assertEquals(1, errors.size());
            assertEquals(boom, errors.getFirst().exception());
            assertNotNull(errors.getFirst().transport());
            assertEquals(-1, bad.read(ByteBuffer.allocate(1)));
            errors.clear();
        }
        assertTrue(srv.isServing(), "the server goes on");
        srv.close();
        assertClean();
    }

    @Test
    void cancellingTheScopeClosesServerAndConnections() throws Exception {
        Scope child = loop.rootScope().newChild("conn");
        Recorder[] holder = new Recorder[1];
        Recorder client = new Recorder(loop);
        Server[] srv = new Server[1];
        Future<Connection<Recorder>>[] conn = new Future[1];
        child.run(() -> {
            Future<Server> fs = loop.createServer(() -> holder[0] = new Recorder(loop), "127.0.0.1", 0);
            srv[0] = run(loop, fs);
        });
        child.run(() -> conn[0] = loop.createConnection(() -> client, "127.0.0.1", port(srv[0])));
        run(loop, conn[0]);
        runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
        assertEquals(List.of("made"), client.events);
        child.cancel();
        assertFalse(srv[0].isServing());
        assertInstanceOf(CancellationException.class, run(loop, client.lost));
        assertInstanceOf(CancellationException.class, run(loop, holder[0].lost));
        run(loop, srv[0].waitClosed());
        assertClean();
    }

    @Test
    void bufferedProtocolReadsIntoItsOwnBuffer() throws Exception {
        ByteBuffer mine = ByteBuffer.allocate(100);
        mine.position(10);
        List<Integer> updates = new ArrayList<>();
        Future<Void> done = loop.createFuture();
        Server srv = server(() -> new BufferedProtocol() {
            @Override
            public ByteBuffer getBuffer(int sizeHint) {
                assertTrue(sizeHint > 0);
                return mine;
            }

            @Override
            public void bufferUpdated(int n) {
                updates.add(n);
                assertEquals(10, mine.position(), "the transport leaves the position unchanged");
                done.setResult(null);
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                throw new AssertionError("dataReceived is not called for a BufferedProtocol");
            }
        });
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            peer.write(bytes("xyz"));
            run(loop, done);
            assertEquals(List.of(3), updates);
            assertArrayEquals("xyz".getBytes(), java.util.Arrays.copyOfRange(mine.array(), 10, 13));
        }
        srv.close();
        srv.abortClients();
        assertClean();
    }

    @Test
    void ipv6LoopbackAndBracketedLiteral() {
        Server srv = run(loop, loop.createServer(Echo::new, "::1", 0));
        Recorder client = new Recorder(loop);
        Connection<Recorder> c = run(loop, loop.createConnection(() -> client, "[::1]", port(srv)));
        assertEquals("/0:0:0:0:0:0:0:1", ((InetSocketAddress) c.transport().info().peerAddress()).getAddress()
                .toString());
        c.transport().write(bytes("six"));
        runUntil(loop, () -> client.data.size() == 3);
        c.transport().close();
        run(loop, client.lost);
        srv.close();
        assertClean();
    }

    /** A peer that delivers one byte at a time (TCP_NODELAY, a flush per byte): every byte arrives, in order. */
    @Test
    void peerDeliveringOneByteAtATime() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> holder[0] = new Recorder(loop));
        String msg = "one byte at a time, in order";
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            peer.setOption(StandardSocketOptions.TCP_NODELAY, true);
            for (byte b : msg.getBytes(StandardCharsets.UTF_8)) {
                peer.write(ByteBuffer.wrap(new byte[] {b}));
                loop.callLater(java.time.Duration.ofMillis(1), () -> { });
                loop.runOnce();
            }
            peer.shutdownOutput();
            run(loop, holder[0].lost);
            assertEquals(msg, holder[0].text());
            assertEquals("eof", holder[0].events.get(holder[0].events.size() - 2));
        }
        srv.close();
        assertClean();
    }

    /** writeEof with a large buffered write: everything is sent, then the FIN. */
    @Test
    void writeEofAfterABufferedWriteSendsAllThenFin() throws Exception {
        Recorder[] holder = new Recorder[1];
        Server srv = server(() -> {
            Recorder r = new Recorder(loop);
            r.keepOpenOnEof = true;
            return holder[0] = r;
        });
        try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv)))) {
            runUntil(loop, () -> holder[0] != null && holder[0].made.isDone());
            Transport t = holder[0].transport;
            t.write(ByteBuffer.allocate(8 << 20));
            assertTrue(t.writeBufferSize() > 0);
            t.writeEof();
            t.writeEof();
            long[] got = new long[1];
            Thread reader = Thread.ofPlatform().start(() -> {
                ByteBuffer in = ByteBuffer.allocate(1 << 16);
                try {
                    int n;
                    while ((n = peer.read(in.clear())) >= 0) {
                        got[0] += n;
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
            });
            runUntil(loop, () -> t.writeBufferSize() == 0);
            reader.join(10_000);
            assertEquals(8 << 20, got[0], "all bytes, then EOF");
            assertFalse(t.isClosing(), "writeEof alone does not close");
            peer.write(bytes("still readable"));
            runUntil(loop, () -> holder[0].data.size() == 14);
            t.close();
            run(loop, holder[0].lost);
        }
        srv.close();
        assertClean();
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> loop.createConnection(Echo::new, "127.0.0.1", 70000));
        assertThrows(NullPointerException.class, () -> loop.createConnection(null, "127.0.0.1", 1));
        Server srv = server(Echo::new);
        Transport[] t = new Transport[1];
        Recorder r = new Recorder(loop);
        Connection<Recorder> c = run(loop, loop.createConnection(() -> r, "127.0.0.1", port(srv)));
        assertThrows(IllegalArgumentException.class, () -> c.transport().setWriteBufferLimits(10, 20));
        assertThrows(IllegalArgumentException.class, () -> c.transport().setWriteBufferLimits(-1, 0));
        assertThrows(NullPointerException.class, () -> c.transport().write((ByteBuffer) null));
        c.transport().abort();
        run(loop, r.lost);
        srv.close();
        srv.abortClients();
        assertClean();
    }
}
