package dev.tulip.internal.net;

import static dev.tulip.internal.net.NetTesting.bytes;
import static dev.tulip.internal.net.NetTesting.openFds;
import static dev.tulip.internal.net.NetTesting.run;
import static dev.tulip.internal.net.NetTesting.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.internal.net.NetTesting.Echo;
import dev.tulip.internal.net.NetTesting.Recorder;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.api.io.TempDir;

/** Servers over real sockets: serving later, closing, reuse flags, UNIX socket files, EMFILE back-off. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SelectorServerTest {
    EventLoop loop;
    final List<ExceptionContext> errors = new ArrayList<>();
    @TempDir
    Path dir;

    @BeforeAll
    static void warmUp() {
        SelectorSocketTransportTest.warmUp0();
    }

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
        loop.setExceptionHandler((l, c) -> errors.add(c));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    static int port(Server s) {
        return ((InetSocketAddress) s.addresses().getFirst()).getPort();
    }

    /** One request/response through a fresh client connection. */
    String roundTrip(Future<? extends Connection<Recorder>> fc, Recorder r, String msg) {
        Connection<Recorder> c = run(loop, fc);
        c.transport().write(bytes(msg));
        runUntil(loop, () -> r.data.size() >= msg.length());
        c.transport().close();
        run(loop, r.lost);
        return r.text();
    }

    @Test
    void startServingLaterAndServeForever() throws Exception {
        Server srv = run(loop, loop.createServer(Echo::new, "127.0.0.1", 0,
                ServerOptions.defaults().withStartServing(false)));
        assertFalse(srv.isServing());
        assertEquals(1, srv.sockets().size());
        Recorder r = new Recorder(loop);
        Future<Connection<Recorder>> fc = loop.createConnection(() -> r, "127.0.0.1", port(srv));
        run(loop, fc); // the kernel completes the handshake from the backlog
        r.transport.write(bytes("x"));
        for (int i = 0; i < 10; i++) {
            loop.callLater(Duration.ofMillis(2), () -> { });
            loop.runOnce();
        }
        assertEquals(0, r.data.size(), "not accepted before startServing");
        Future<Void> forever = srv.serveForever();
        assertTrue(srv.isServing());
        runUntil(loop, () -> r.data.size() == 1);
        forever.cancel();
        runUntil(loop, () -> !srv.isServing());
        assertTrue(srv.sockets().isEmpty());
        assertFalse(srv.waitClosed().isDone(), "waitClosed waits for the accepted connection");
        r.transport.close();
        run(loop, srv.waitClosed());
        assertThrows(IllegalStateException.class, srv::startServing);
        assertEquals(List.of(), errors);
    }

    @Test
    void closeClientsAndBindErrors() {
        Server srv = run(loop, loop.createServer(Echo::new, "127.0.0.1", 0));
        Recorder r = new Recorder(loop);
        run(loop, loop.createConnection(() -> r, "127.0.0.1", port(srv)));
        runUntil(loop, () -> srv.toString().contains("clients=1"));
        // Same port without SO_REUSEPORT: address in use.
        Future<Server> clash = loop.createServer(Echo::new, "127.0.0.1", port(srv));
        runUntil(loop, clash::isDone);
        assertInstanceOf(BindException.class, assertThrows(CompletionException.class, clash::result).getCause());
        srv.close();
        srv.close();
        srv.closeClients();
        assertNull(run(loop, r.lost));
        run(loop, srv.waitClosed());
    }

    @Test
    void aNameWithSeveralAddressesListensOnOnePort() {
        List<InetSocketAddress> all = run(loop, loop.getAddrInfo("localhost", 0));
        Server srv = run(loop, loop.createServer(Echo::new, "localhost", 0));
        assertEquals(new java.util.HashSet<>(all).size(), srv.sockets().size());
        assertEquals(1, srv.addresses().stream().map(a -> ((InetSocketAddress) a).getPort()).distinct().count());
        for (var a : srv.addresses()) {
            Recorder r = new Recorder(loop);
            InetSocketAddress isa = (InetSocketAddress) a;
            assertEquals("x", roundTrip(loop.createConnection(() -> r, isa.getAddress().getHostAddress(),
                    isa.getPort()), r, "x"));
        }
        srv.close();
    }

    @Test
    void reusePortLetsTwoServersShareAPort() {
        ServerOptions o = ServerOptions.defaults().withReusePort(true);
        Server a = run(loop, loop.createServer(Echo::new, "127.0.0.1", 0, o));
        Server b = run(loop, loop.createServer(Echo::new, "127.0.0.1", port(a), o));
        assertEquals(port(a), port(b));
        Recorder r = new Recorder(loop);
        assertEquals("hi", roundTrip(loop.createConnection(() -> r, "127.0.0.1", port(a)), r, "hi"));
        a.close();
        b.close();
    }

    @Test
    void unixServerEchoAndSocketFileLifecycle() throws Exception {
        Path sock = dir.resolve("echo.sock");
        Server srv = run(loop, loop.createUnixServer(Echo::new, sock));
        assertTrue(SelectorServer.isSocket(sock));
        assertEquals(UnixDomainSocketAddress.of(sock), srv.addresses().getFirst());
        Recorder r = new Recorder(loop);
        assertEquals("unix", roundTrip(loop.createUnixConnection(() -> r, sock), r, "unix"));
        // A second server on a live socket is refused; the file stays.
        Future<Server> live = loop.createUnixServer(Echo::new, sock);
        assertInstanceOf(BindException.class, assertThrows(CompletionException.class, live::result).getCause());
        srv.close();
        assertFalse(Files.exists(sock), "close removes the socket file");
    }

    @Test
    void staleUnixSocketIsReplacedAndOtherFilesAreNeverDeleted() throws Exception {
        Path sock = dir.resolve("stale.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(sock));
        dead.close(); // the file stays: a stale socket
        assertTrue(Files.exists(sock));
        Server srv = run(loop, loop.createUnixServer(Echo::new, sock));
        Recorder r = new Recorder(loop);
        assertEquals("again", roundTrip(loop.createUnixConnection(() -> r, sock), r, "again"));
        srv.close();

        Path plain = dir.resolve("data.txt");
        Files.writeString(plain, "precious");
        Future<Server> f = loop.createUnixServer(Echo::new, plain);
        assertInstanceOf(FileAlreadyExistsException.class,
                assertThrows(CompletionException.class, f::result).getCause());
        assertEquals("precious", Files.readString(plain));
    }

    @Test
    void unixConnectToNothingFails() {
        Recorder r = new Recorder(loop);
        Future<Connection<Recorder>> f = loop.createUnixConnection(() -> r, dir.resolve("nobody.sock"));
        runUntil(loop, f::isDone);
        assertInstanceOf(IOException.class, assertThrows(CompletionException.class, f::result).getCause());
        assertEquals(List.of(), r.events);
    }

    @Test
    void wrapsExistingChannels() throws Exception {
        ServerSocketChannel ss = ServerSocketChannel.open();
        ss.bind(new InetSocketAddress("127.0.0.1", 0));
        Server srv = run(loop, loop.createServer(Echo::new, ss, ServerOptions.defaults()));
        SocketChannel ch = SocketChannel.open(ss.getLocalAddress());
        Recorder r = new Recorder(loop);
        assertEquals("own", roundTrip(loop.createConnection(() -> r, ch), r, "own"));
        assertFalse(ch.isOpen(), "the transport owned and closed the channel");
        srv.close();
        assertFalse(ss.isOpen());
        assertThrows(IllegalArgumentException.class, () -> loop.createConnection(Echo::new, SocketChannel.open()));
    }

    /**
     * EMFILE: with the process's descriptor limit lowered to what is open now, accept fails; the server reports it,
     * backs off, and serves the waiting clients once descriptors are available again.
     */
    @Test
    void acceptBacksOffUnderDescriptorExhaustionAndRecovers() throws Exception {
        Path prlimit = Path.of("/usr/bin/prlimit");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(prlimit), "prlimit (util-linux) is missing");
        long pid = ProcessHandle.current().pid();
        // Every pipe of this process is closed before the limit is lowered: left to the JVM, the process reaper
        // thread closes them when it gets to it, and on a loaded machine that was after the limit was computed,
        // freeing three descriptor numbers below it (three accepts then succeeded).
        Process query = new ProcessBuilder(prlimit.toString(), "--pid", "" + pid, "--nofile", "--raw",
                "--noheadings", "--output=SOFT,HARD").redirectErrorStream(true).start();
        query.getOutputStream().close();
        String old;
        try (var in = query.getInputStream()) {
            old = new String(in.readAllBytes()).trim();
        }
        assertEquals(0, query.waitFor(), "prlimit said: " + old);
        String[] softHard = old.split("\\s+");
        Server srv = run(loop, loop.createServer(Echo::new, "127.0.0.1", 0));
        List<SocketChannel> clients = new ArrayList<>();
        // More waiting clients than descriptors anything else in the JVM is likely to free meanwhile (a cleaner
        // closing something a collection found): each freed number lets one accept through.
        int waiting = 8;
        try {
            for (int i = 0; i < waiting; i++) {
                clients.add(SocketChannel.open(new InetSocketAddress("127.0.0.1", port(srv))));
            }
            // One helper shell lowers the limit to the lowest free descriptor number, then restores it when told: it
            // is started while descriptors are available, and talks through pipes that are already open. A new
            // descriptor takes the lowest free number and must be below the limit, so none can be made. (The count
            // of open descriptors was not enough: every descriptor numbered at or above the count leaves a free
            // number below it, and a JVM that has run other tests holds such descriptors, so accepts succeeded.)
            String script = "n=0; while [ -L /proc/" + pid + "/fd/$n ]; do n=$((n+1)); done; " + prlimit + " --pid "
                    + pid + " --nofile=$n:" + softHard[1] + " && echo lowered to $n; read x; " + prlimit + " --pid "
                    + pid + " --nofile=" + softHard[0] + ":" + softHard[1] + "; echo restored";
            Process p = new ProcessBuilder("/bin/sh", "-c", script).redirectErrorStream(true).start();
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            try {
                String lowered = out.readLine();
                assertTrue(lowered != null && lowered.startsWith("lowered to "), "the helper said: " + lowered);
                runUntil(loop, () -> !errors.isEmpty(), () -> "no accept failed with the descriptor limit "
                        + lowered + " (" + srv + ")");
            } finally {
                p.getOutputStream().write('\n');
                p.getOutputStream().flush();
                assertEquals("restored", out.readLine());
                assertEquals(0, p.waitFor());
            }
            assertTrue(errors.getFirst().message().contains("not accepting"), errors.getFirst().message());
            assertTrue(errors.getFirst().exception().getMessage().contains("Too many open files"));
            // After the back-off every waiting client is served.
            for (SocketChannel c : clients) {
                c.write(bytes("ok"));
            }
            runUntil(loop, () -> srv.toString().contains("clients=" + waiting), () -> "not every waiting client was "
                    + "served after the limit was restored (" + srv + ")");
            for (SocketChannel c : clients) {
                ByteBuffer in = ByteBuffer.allocate(2);
                while (in.hasRemaining()) {
                    loop.callLater(Duration.ofMillis(1), () -> { });
                    loop.runOnce();
                    c.configureBlocking(false);
                    c.read(in);
                }
                assertEquals("ok", new String(in.array()));
            }
        } finally {
            for (SocketChannel c : clients) {
                c.close();
            }
            srv.close();
        }
        assertTrue(errors.size() >= 1);
    }
}
