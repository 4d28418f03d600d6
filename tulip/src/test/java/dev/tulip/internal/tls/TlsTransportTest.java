package dev.tulip.internal.tls;

import static dev.tulip.internal.tls.TlsTesting.failure;
import static dev.tulip.internal.tls.TlsTesting.openFds;
import static dev.tulip.internal.tls.TlsTesting.port;
import static dev.tulip.internal.tls.TlsTesting.run;
import static dev.tulip.internal.tls.TlsTesting.runUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Scope;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsException;
import dev.tulip.transport.TlsException.Reason;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TLS over real TCP on loopback: createConnection/createServer with TLS, startTls, TLS over TLS, failures, fds. */
@Timeout(120)
class TlsTransportTest {
    private EventLoop loop;
    private final List<Throwable> loopErrors = new ArrayList<>();

    @BeforeAll
    @Timeout(600)
    static void makeCertificates() {
        TestCerts.get();
    }

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
        loop.setExceptionHandler((l, c) -> loopErrors.add(c.exception() != null ? c.exception()
                : new AssertionError(c.message())));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    static TlsOptions.Builder client() {
        return TlsOptions.client().context(TestCerts.get().clientContext);
    }

    static TlsOptions.Builder server() {
        return TlsOptions.server(TestCerts.get().serverContext);
    }

    private Server tlsServer(TlsOptions opts, java.util.function.Supplier<? extends Protocol> factory) {
        return run(loop, loop.createServer(factory, "127.0.0.1", 0, ServerOptions.defaults(), opts));
    }

    private Server plainServer(java.util.function.Supplier<? extends Protocol> factory) {
        return run(loop, loop.createServer(factory, "127.0.0.1", 0));
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private static TlsException tls(Throwable t) {
        Throwable c = t;
        while (c != null && !(c instanceof TlsException)) {
            c = c.getCause();
        }
        return assertInstanceOf(TlsException.class, c, "expected a TlsException in " + t);
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void echoOverTcpThenCleanClose(String version) {
        Server s = tlsServer(server().build(), TlsTesting.Echo::new);
        Recorder r = new Recorder(loop);
        Connection<Recorder> c = run(loop, loop.createConnection(() -> r, "localhost", port(s),
                ConnectOptions.defaults(), client().protocols(version).build()));
        assertEquals(List.of("made"), r.events, "connectionMade ran before the future completed");
        assertEquals(version, c.transport().info().sslSession().getProtocol());
        assertNotNull(c.transport().info().channel());
        c.transport().write(ascii("hello over TLS"));
        runUntil(loop, () -> r.text().equals("hello over TLS"), Duration.ofSeconds(10));
        c.transport().close();
        run(loop, r.lost);
        assertNull(r.lostCause);
        s.close();
        assertEquals(List.of(), loopErrors);
    }

    @Test
    void connectByIpLiteralVerifiesTheIpAddress() {
        Server s = tlsServer(server().build(), TlsTesting.Echo::new);
        Recorder r = new Recorder(loop);
        run(loop, loop.createConnection(() -> r, "127.0.0.1", port(s), ConnectOptions.defaults(), client().build()));
        assertNotNull(r.transport.info().sslSession());
        r.transport.abort();
        s.close();
    }

    @Test
    @Timeout(300)
    void hundredMebibytesBothWaysWithChecksums() {
        Server s = tlsServer(server().build(), TlsTesting.Echo::new);
        long total = 100L * 1024 * 1024;
        TlsTesting.Pump p = new TlsTesting.Pump(loop, total, total);
        run(loop, loop.createConnection(() -> p, "localhost", port(s), ConnectOptions.defaults(), client().build()));
        run(loop, p.done, Duration.ofSeconds(240));
        assertEquals(total, p.received);
        assertArrayEquals(p.sent.digest(), p.got.digest());
        p.transport.close();
        run(loop, p.lost);
        s.close();
    }

    @Test
    void failuresSayWhyAndLeakNoFileDescriptors() {
        Server good = tlsServer(server().build(), TlsTesting.Echo::new);
        Server untrusted = tlsServer(TlsOptions.server(TestCerts.get().untrustedServerContext).build(),
                TlsTesting.Echo::new);
        Server wrongName = tlsServer(TlsOptions.server(TestCerts.get().wrongNameServerContext).build(),
                TlsTesting.Echo::new);
        Server plaintext = plainServer(() -> new Protocol() {
            @Override
            public void dataReceived(ByteBuffer data) {
                // a plain HTTP server answering a ClientHello
            }

            @Override
            public void connectionMade(Transport t) {
                t.write(ascii("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
            }
        });
        Server silent = plainServer(() -> new Protocol() { });
        // Warm up (class loading, first handshake) before counting fds.
        Recorder w = new Recorder(loop);
        run(loop, loop.createConnection(() -> w, "localhost", port(good), ConnectOptions.defaults(), client().build()));
        w.transport.abort();
        run(loop, w.lost);
        int fds = openFds();
        for (int i = 0; i < 3; i++) {
            assertEquals(Reason.UNTRUSTED_CERTIFICATE, tls(failure(loop, loop.createConnection(() -> new Recorder(loop),
                    "localhost", port(untrusted), ConnectOptions.defaults(), client().build()))).reason());
            assertEquals(Reason.HOSTNAME_MISMATCH, tls(failure(loop, loop.createConnection(() -> new Recorder(loop),
                    "localhost", port(wrongName), ConnectOptions.defaults(), client().build()))).reason());
            assertEquals(Reason.NOT_TLS, tls(failure(loop, loop.createConnection(() -> new Recorder(loop),
                    "localhost", port(plaintext), ConnectOptions.defaults(), client().build()))).reason());
            assertEquals(Reason.HANDSHAKE_TIMEOUT, tls(failure(loop, loop.createConnection(() -> new Recorder(loop),
                    "localhost", port(silent), ConnectOptions.defaults(),
                    client().handshakeTimeout(Duration.ofMillis(200)).build()))).reason());
            // A plaintext client on the TLS server: the server drops it (the client sees EOF or a reset).
            Recorder raw = new Recorder(loop);
            run(loop, loop.createConnection(() -> raw, "127.0.0.1", port(good)));
            raw.transport.write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
            run(loop, raw.lost);
        }
        runUntil(loop, () -> openFds() <= fds, Duration.ofSeconds(5));
        for (Server s : List.of(good, untrusted, wrongName, plaintext, silent)) {
            s.close();
        }
    }

    @Test
    void cancellingTheConnectDuringTheHandshakeClosesTheSocket() {
        Server silent = plainServer(() -> new Protocol() { });
        int fds = openFds();
        Future<Connection<Recorder>> f = loop.createConnection(() -> new Recorder(loop), "localhost", port(silent),
                ConnectOptions.defaults(), client().build());
        runUntil(loop, () -> openFds() > fds + 1, Duration.ofSeconds(5)); // connected, handshaking
        f.cancel();
        runUntil(loop, () -> openFds() <= fds, Duration.ofSeconds(5));
        silent.close();
    }

    @Test
    void cancellingTheScopeClosesTheTlsConnection() {
        Server s = tlsServer(server().build(), TlsTesting.Echo::new);
        Scope scope = loop.rootScope().newChild("conn");
        Recorder r = new Recorder(loop);
        Future<Connection<Recorder>> f;
        try (Scope.Entered e = scope.enter()) {
            f = loop.createConnection(() -> r, "localhost", port(s), ConnectOptions.defaults(), client().build());
        }
        run(loop, f);
        scope.cancel();
        run(loop, r.lost);
        assertInstanceOf(CancellationException.class, r.lostCause);
        s.close();
    }

    @Test
    void optionsInTheWrongModeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> loop.createConnection(() -> new Recorder(loop),
                "localhost", 1, ConnectOptions.defaults(), server().build()));
        assertThrows(IllegalArgumentException.class, () -> loop.createServer(() -> new Recorder(loop),
                "127.0.0.1", 0, ServerOptions.defaults(), client().build()));
    }

    @Test
    void startTlsUpgradesAPlainConnection() {
        // A STARTTLS-like exchange: plaintext "STARTTLS\n", then both sides upgrade.
        List<Recorder> serverApps = new ArrayList<>();
        Server s = plainServer(() -> new Protocol() {
            Transport t;

            @Override
            public void connectionMade(Transport transport) {
                t = transport;
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                String line = StandardCharsets.US_ASCII.decode(data).toString();
                assertEquals("STARTTLS\n", line);
                t.write(ascii("GO\n"));
                Recorder app = new Recorder(loop);
                app.onData = b -> app.transport.write(b);
                serverApps.add(app);
                loop.startTls(t, app, server().build());
            }
        });
        Recorder plain = new Recorder(loop);
        run(loop, loop.createConnection(() -> plain, "127.0.0.1", port(s)));
        plain.transport.write(ascii("STARTTLS\n"));
        runUntil(loop, () -> plain.text().equals("GO\n"), Duration.ofSeconds(10));
        Recorder secure = new Recorder(loop);
        assertThrows(IllegalArgumentException.class, () -> loop.startTls(plain.transport, secure, client().build()),
                "a verifying client needs a server host name");
        Transport t = run(loop, loop.startTls(plain.transport, secure, client().serverHostname("localhost").build()));
        assertEquals(List.of("made"), secure.events);
        assertNotNull(t.info().sslSession());
        t.write(ascii("secret"));
        runUntil(loop, () -> secure.text().equals("secret"), Duration.ofSeconds(10));
        assertEquals(List.of("made", "data"), plain.events, "the old protocol gets nothing after the upgrade");
        t.close();
        run(loop, secure.lost);
        assertNull(secure.lostCause);
        s.close();
    }

    @Test
    void pauseReadingOnTheServerPausesTheClientsWritesOverTcp() {
        List<Recorder> apps = new ArrayList<>();
        Server s = tlsServer(server().build(), () -> {
            Recorder r = new Recorder(loop);
            apps.add(r);
            return r;
        });
        Recorder c = new Recorder(loop);
        run(loop, loop.createConnection(() -> c, "localhost", port(s), ConnectOptions.defaults(), client().build()));
        runUntil(loop, () -> apps.size() == 1 && apps.get(0).transport != null, Duration.ofSeconds(10));
        Recorder srv = apps.get(0);
        srv.transport.pauseReading();
        long sent = 0;
        ByteBuffer block = ByteBuffer.allocate(64 * 1024);
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!c.writingPaused && System.nanoTime() < deadline) {
            c.transport.write(block.clear());
            sent += 64 * 1024;
            loop.callLater(Duration.ofMillis(1), () -> { });
            loop.runOnce();
        }
        assertTrue(c.writingPaused, "kernel buffers filled, then the TLS write buffer: the client is paused");
        long before = srv.received.size();
        for (int i = 0; i < 20; i++) {
            loop.callLater(Duration.ofMillis(1), () -> { });
            loop.runOnce();
        }
        assertEquals(before, srv.received.size(), "a paused TLS transport delivers nothing");
        srv.transport.resumeReading();
        long total = sent;
        runUntil(loop, () -> srv.received.size() == total, Duration.ofSeconds(30));
        runUntil(loop, () -> !c.writingPaused, Duration.ofSeconds(10));
        c.transport.close();
        run(loop, c.lost);
        s.close();
    }

    @Test
    void dataSentWhileTheServersHandshakeIsSlowArrivesAfterConnectionMade() {
        // The server's delegated tasks take 100 ms each (a slow handshake); a TLS 1.3 client is done first and
        // writes at once. The server must hold those records and deliver them after its connectionMade.
        java.util.concurrent.ExecutorService slow = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Executor delayed = r -> slow.execute(() -> {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                r.run();
            });
            List<Recorder> apps = new ArrayList<>();
            Server s = tlsServer(server().delegatedTaskExecutor(delayed).build(), () -> {
                Recorder r = new Recorder(loop);
                apps.add(r);
                return r;
            });
            Recorder c = new Recorder(loop);
            c.made.addDoneCallback(f -> c.transport.write(ByteBuffer.allocate(300_000)));
            run(loop, loop.createConnection(() -> c, "localhost", port(s), ConnectOptions.defaults(),
                    client().build()));
            runUntil(loop, () -> apps.size() == 1 && apps.get(0).received.size() == 300_000, Duration.ofSeconds(20));
            assertEquals(List.of("made", "data"), apps.get(0).events);
            c.transport.close();
            run(loop, c.lost);
            s.close();
        } finally {
            slow.shutdownNow();
        }
    }

    @Test
    void tlsOverAUnixSocketByStartTls() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("tulip-tls-unix");
        java.nio.file.Path path = dir.resolve("s.sock");
        List<Recorder> serverApps = new ArrayList<>();
        Server s = run(loop, loop.createUnixServer(() -> new Protocol() {
            @Override
            public void connectionMade(Transport t) {
                Recorder app = new Recorder(loop);
                app.onData = b -> app.transport.write(b);
                serverApps.add(app);
                loop.startTls(t, app, server().build());
            }
        }, path));
        Recorder plain = new Recorder(loop);
        run(loop, loop.createUnixConnection(() -> plain, path));
        Recorder secure = new Recorder(loop);
        Transport t = run(loop, loop.startTls(plain.transport, secure, client().serverHostname("localhost").build()));
        t.write(ascii("over a UNIX socket"));
        runUntil(loop, () -> secure.text().equals("over a UNIX socket"), Duration.ofSeconds(10));
        assertNull(t.info().peerAddress() instanceof java.net.InetSocketAddress ? "inet" : null);
        t.close();
        run(loop, secure.lost);
        assertNull(secure.lostCause);
        s.close();
        java.nio.file.Files.deleteIfExists(path);
        java.nio.file.Files.deleteIfExists(dir);
    }

    @Test
    void tlsOverTlsThroughATlsTerminatingProxy() {
        // backend: TLS echo. proxy: terminates the client's outer TLS and relays the plaintext (which is the inner
        // TLS session) to the backend over TCP. client: outer TLS to the proxy, then startTls inside it.
        Server backend = tlsServer(server().build(), TlsTesting.Echo::new);
        int backendPort = port(backend);
        Server proxy = tlsServer(server().build(), () -> new Protocol() {
            Transport front;
            Transport back;
            final List<ByteBuffer> early = new ArrayList<>();

            @Override
            public void connectionMade(Transport t) {
                front = t;
                Protocol relay = new Protocol() {
                    @Override
                    public void dataReceived(ByteBuffer data) {
                        front.write(data);
                    }

                    @Override
                    public void connectionLost(Throwable cause) {
                        front.close();
                    }
                };
                loop.createConnection(() -> relay, "127.0.0.1", backendPort).addDoneCallback(f -> {
                    back = f.result().transport();
                    for (ByteBuffer b : early) {
                        back.write(b);
                    }
                });
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                if (back == null) {
                    ByteBuffer copy = ByteBuffer.allocate(data.remaining());
                    early.add(copy.put(data).flip());
                } else {
                    back.write(data);
                }
            }

            @Override
            public void connectionLost(Throwable cause) {
                if (back != null) {
                    back.close();
                }
            }
        });
        Recorder outer = new Recorder(loop);
        run(loop, loop.createConnection(() -> outer, "localhost", port(proxy), ConnectOptions.defaults(),
                client().build()));
        Recorder inner = new Recorder(loop);
        Transport t = run(loop, loop.startTls(outer.transport, inner, client().serverHostname("localhost")
                .protocols("TLSv1.2").build()));
        assertEquals("TLSv1.2", t.info().sslSession().getProtocol());
        assertEquals("TLSv1.3", outer.transport.info().sslSession().getProtocol());
        TlsTesting.Pump big = new TlsTesting.Pump(loop, 0, 0);
        t.write(ascii("through two layers"));
        runUntil(loop, () -> inner.text().equals("through two layers"), Duration.ofSeconds(10));
        t.close();
        run(loop, inner.lost);
        assertNull(inner.lostCause);
        assertFalse(big.done.isDone());
        proxy.close();
        backend.close();
    }

    /**
     * Measures (prints, asserts nothing about speed) how much of a handshake's CPU time on the loop thread is spent in
     * the engine's delegated tasks, using thread CPU time so a loaded machine does not skew it. Both ends run here.
     */
    @Test
    void delegatedTaskShareOfHandshakeCpu() {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(java.nio.file.Path.of(
                "/proc/thread-self/schedstat")), "needs /proc/thread-self/schedstat for thread CPU time");
        long[] inTasks = new long[1];
        java.util.concurrent.Executor measuring = r -> {
            long t0 = threadCpuNanos();
            r.run();
            inTasks[0] += threadCpuNanos() - t0;
        };
        Server s = tlsServer(server().delegatedTaskExecutor(measuring).build(), TlsTesting.Echo::new);
        TlsOptions copts = client().delegatedTaskExecutor(measuring).build();
        for (int round = 0; round < 2; round++) { // round 0 warms up
            inTasks[0] = 0;
            int n = round == 0 ? 100 : 50;
            long t0 = threadCpuNanos();
            for (int i = 0; i < n; i++) {
                Recorder r = new Recorder(loop);
                run(loop, loop.createConnection(() -> r, "localhost", port(s), ConnectOptions.defaults(), copts));
                r.transport.abort();
                run(loop, r.lost);
            }
            long total = threadCpuNanos() - t0;
            if (round == 1) {
                System.out.printf("TLS handshake (client+server, EC P-256, TLS 1.3): %.2f ms CPU per handshake on the"
                        + " loop thread, of which delegated tasks %.2f ms (%.0f%%)%n", total / 1e6 / n,
                        inTasks[0] / 1e6 / n, 100.0 * inTasks[0] / total);
            }
        }
        s.close();
    }

    /** CPU time of the current thread (java.management is not readable from the module under test). */
    private static long threadCpuNanos() {
        try {
            String st = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/schedstat"));
            return Long.parseLong(st.substring(0, st.indexOf(' ')));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void manyConcurrentHandshakes() {
        Server s = tlsServer(server().build(), TlsTesting.Echo::new);
        List<Future<Connection<Recorder>>> fs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            fs.add(loop.createConnection(() -> new Recorder(loop), "localhost", port(s), ConnectOptions.defaults(),
                    client().build()));
        }
        for (Future<Connection<Recorder>> f : fs) {
            Connection<Recorder> c = run(loop, f);
            c.transport().write(ascii("x"));
        }
        for (Future<Connection<Recorder>> f : fs) {
            Recorder r = f.result().protocol();
            runUntil(loop, () -> r.text().equals("x"), Duration.ofSeconds(10));
            r.transport.close();
            run(loop, r.lost);
            assertNull(r.lostCause);
        }
        s.close();
        assertTrue(loopErrors.isEmpty(), loopErrors.toString());
    }
}
