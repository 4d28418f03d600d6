package dev.tulip.internal.tls;

import static dev.tulip.internal.tls.TlsTesting.port;
import static dev.tulip.internal.tls.TlsTesting.run;
import static dev.tulip.internal.tls.TlsTesting.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.EventLoop;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsException;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TLS against real peers: openssl s_server and s_client (TLS 1.2 and 1.3, key update, renegotiation), curl, and
 * Python's ssl/asyncio. Each test skips, saying why, when its tool is missing.
 */
@Timeout(120)
class TlsInteropTest {
    static final String PYTHON = "/usr/bin/python3";
    /**
     * How long a step that waits for an outside process may take before the test fails: generous, because a fresh
     * or loaded machine can take seconds to start openssl, curl or Python, and no assertion here is about speed.
     */
    static final Duration PEER_WAIT = Duration.ofSeconds(60);
    private EventLoop loop;
    private final List<Process> processes = new ArrayList<>();
    private static TestCerts certs;

    @BeforeAll
    @Timeout(600)
    static void makeCertificates() {
        certs = TestCerts.get();
    }

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
    }

    @AfterEach
    void tearDown() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        loop.close();
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    static TlsOptions.Builder client() {
        return TlsOptions.client().context(certs.clientContext);
    }

    static TlsOptions.Builder server() {
        return TlsOptions.server(certs.serverContext);
    }

    /** A started process whose stdout+stderr accumulate in {@link #out}. */
    final class Peer {
        final Process process;
        final StringBuffer out = new StringBuffer();
        final OutputStream stdin;
        final Thread reader;

        Peer(List<String> cmd) throws IOException {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            processes.add(process);
            stdin = process.getOutputStream();
            reader = Thread.ofPlatform().daemon().start(() -> {
                try (InputStream in = process.getInputStream()) {
                    byte[] b = new byte[4096];
                    for (int n; (n = in.read(b)) > 0; ) {
                        out.append(new String(b, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            });
        }

        void send(String s) throws IOException {
            stdin.write(s.getBytes(StandardCharsets.UTF_8));
            stdin.flush();
        }

        /** Runs the loop until the output contains {@code s}. */
        void await(String s) {
            try {
                runUntil(loop, () -> out.toString().contains(s), PEER_WAIT);
            } catch (AssertionError e) {
                throw new AssertionError("peer output never contained '" + s + "':\n" + out, e);
            }
        }

        /** Runs the loop until the process exits, then waits for the rest of its output; returns its exit code. */
        int awaitExit() {
            try {
                runUntil(loop, () -> !process.isAlive(), PEER_WAIT);
            } catch (AssertionError e) {
                throw new AssertionError("the peer did not exit; its output:\n" + out, e);
            }
            // The output may still be in the pipe when the process has exited: the reader ends at the pipe's EOF.
            // A bounded join that gave up silently let a loaded machine compare a truncated output.
            try {
                if (!reader.join(PEER_WAIT)) {
                    throw new AssertionError("the peer exited but its output never reached EOF; so far:\n" + out);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while reading the peer's output", e);
            }
            return process.exitValue();
        }
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private Server tlsServer(TlsOptions opts, java.util.function.Supplier<? extends Protocol> factory) {
        return run(loop, loop.createServer(factory, "127.0.0.1", 0, ServerOptions.defaults(), opts));
    }

    // ------------------------------------------------------------------------------------------------------------
    // openssl
    // ------------------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"-tls1_3", "-tls1_2"})
    void opensslServerAsPeer(String version) throws Exception {
        assumeTrue(onPath("openssl"), "openssl is not installed");
        Peer s = new Peer(List.of("openssl", "s_server", "-accept", "127.0.0.1:0", version,
                "-cert", certs.chainPem("server").toString(), "-key", certs.keyPem("server").toString(), "-rev"));
        s.await("ACCEPT");
        runUntil(loop, () -> Pattern.compile("ACCEPT 127\\.0\\.0\\.1:\\d+\\s").matcher(s.out).find(), PEER_WAIT);
        Matcher m = Pattern.compile("ACCEPT 127\\.0\\.0\\.1:(\\d+)").matcher(s.out);
        assertTrue(m.find());
        int port = Integer.parseInt(m.group(1));
        Recorder r = new Recorder(loop);
        run(loop, loop.createConnection(() -> r, "localhost", port, ConnectOptions.defaults(), client().build()));
        assertEquals(version.equals("-tls1_3") ? "TLSv1.3" : "TLSv1.2",
                r.transport.info().sslSession().getProtocol());
        r.transport.write(ascii("hello openssl\n"));
        runUntil(loop, () -> r.text().contains("lssnepo olleh"), PEER_WAIT);
        r.transport.close();
        Throwable cause = run(loop, r.lost);
        assertInstanceOf(Recorder.NoError.class, cause, "a clean close with openssl: " + cause);
    }

    private Server echoServer() {
        return tlsServer(server().build(), TlsTesting.Echo::new);
    }

    private Peer sClient(int port, String version) throws IOException {
        return new Peer(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, version,
                "-CAfile", certs.caPem().toString(), "-verify_return_error", "-servername", "localhost"));
    }

    @Test
    void opensslClientWithKeyUpdatesOnTls13() throws Exception {
        assumeTrue(onPath("openssl"), "openssl is not installed");
        Server s = echoServer();
        Peer c = sClient(port(s), "-tls1_3");
        c.await("Verify return code: 0 (ok)");
        c.send("first line\n");
        c.await("first line\n");
        // 'k' makes openssl send a KeyUpdate (update_not_requested; 'K' would request ours in return).
        c.send("k\n");
        c.await("KEYUPDATE");
        c.send("after key update\n");
        c.await("after key update\n");
        c.send("k\n");
        // s_client treats a whole stdin read starting with 'k' as the command: wait before sending more.
        runUntil(loop, () -> c.out.toString().split("KEYUPDATE", -1).length == 3, PEER_WAIT);
        c.send("second update\n");
        c.await("second update\n");
        c.stdin.close();
        c.awaitExit();
        s.close();
    }

    @Test
    void opensslClientOnTls12WithRenegotiation() throws Exception {
        assumeTrue(onPath("openssl"), "openssl is not installed");
        Server s = echoServer();
        Peer c = sClient(port(s), "-tls1_2");
        c.await("Verify return code: 0 (ok)");
        c.send("before\n");
        c.await("before\n");
        c.send("R\n"); // client-initiated renegotiation: the JDK accepts secure renegotiation on TLS 1.2
        c.await("RENEGOTIATING");
        c.send("after renegotiation\n");
        c.await("after renegotiation\n");
        c.stdin.close();
        c.awaitExit();
        s.close();
    }

    @Test
    void opensslClientSeesTruncationNever() throws Exception {
        // Our close() sends close_notify: openssl reports a clean shutdown, not an unexpected EOF.
        assumeTrue(onPath("openssl"), "openssl is not installed");
        Server s = tlsServer(server().build(), () -> new Protocol() {
            Transport t;

            @Override
            public void connectionMade(Transport transport) {
                t = transport;
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                t.write(ascii("bye\n"));
                t.close();
            }
        });
        Peer c = sClient(port(s), "-tls1_3");
        c.await("Verify return code: 0 (ok)");
        c.send("x\n");
        c.await("bye");
        assertEquals(0, c.awaitExit(), c.out.toString());
        assertTrue(c.out.toString().contains("closed") || !c.out.toString().contains("unexpected eof"), c.out.toString());
        s.close();
    }

    // ------------------------------------------------------------------------------------------------------------
    // curl
    // ------------------------------------------------------------------------------------------------------------

    /** A minimal HTTP/1.1 hello responder over TLS. */
    static final class Hello implements Protocol {
        Transport t;
        final StringBuilder request = new StringBuilder();

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            request.append(StandardCharsets.ISO_8859_1.decode(data));
            if (request.indexOf("\r\n\r\n") >= 0) {
                String proto = t.info().sslSession().getProtocol();
                String body = "hello over " + proto + "\n";
                t.write(ascii("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                        + "\r\nConnection: close\r\n\r\n" + body));
                t.close();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"--tlsv1.3", "--tls-max 1.2"})
    void curlAgainstTlsHelloServer(String version) throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed");
        Server s = tlsServer(server().alpnProtocols("http/1.1").build(), Hello::new);
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "45", "--cacert",
                certs.caPem().toString()));
        cmd.addAll(List.of(version.split(" ")));
        cmd.add("https://localhost:" + port(s) + "/");
        Peer c = new Peer(cmd);
        assertEquals(0, c.awaitExit(), c.out.toString());
        assertEquals("hello over " + (version.equals("--tlsv1.3") ? "TLSv1.3" : "TLSv1.2") + "\n", c.out.toString());
        s.close();
    }

    @Test
    void curlRejectsAnUntrustedServerAndWeSeeWhy() throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed");
        Server s = tlsServer(TlsOptions.server(certs.untrustedServerContext).build(), Hello::new);
        Peer c = new Peer(List.of("curl", "-sS", "--max-time", "45", "--cacert", certs.caPem().toString(),
                "https://localhost:" + port(s) + "/"));
        assertEquals(60, c.awaitExit(), c.out.toString()); // 60: peer certificate cannot be authenticated
        s.close();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Python ssl / asyncio
    // ------------------------------------------------------------------------------------------------------------

    private Peer python(String script, String... args) throws IOException {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is not installed");
        List<String> cmd = new ArrayList<>(List.of(PYTHON, "-c", script));
        cmd.addAll(List.of(args));
        return new Peer(cmd);
    }

    @Test
    void pythonAsyncioClientAgainstOurServer() throws Exception {
        Server s = echoServer();
        String script = """
                import asyncio, ssl, sys, hashlib
                async def main():
                    ctx = ssl.create_default_context(cafile=sys.argv[1])
                    r, w = await asyncio.open_connection('localhost', int(sys.argv[2]), ssl=ctx)
                    data = bytes(range(256)) * 4096
                    w.write(data)
                    got = await r.readexactly(len(data))
                    assert got == data
                    w.close()
                    await w.wait_closed()
                    print('ok', w.get_extra_info('ssl_object').version())
                asyncio.run(main())
                """;
        Peer p = python(script, certs.caPem().toString(), String.valueOf(port(s)));
        assertEquals(0, p.awaitExit(), p.out.toString());
        assertTrue(p.out.toString().startsWith("ok TLSv1.3"), p.out.toString());
        s.close();
    }

    @Test
    void pythonAsyncioServerAsPeer() throws Exception {
        String script = """
                import asyncio, ssl, sys
                async def handle(r, w):
                    while data := await r.read(65536):
                        w.write(data)
                        await w.drain()
                    w.close()
                async def main():
                    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
                    srv = await asyncio.start_server(handle, '127.0.0.1', 0, ssl=ctx)
                    print('PORT', srv.sockets[0].getsockname()[1], flush=True)
                    await asyncio.sleep(600)  # ended by the test's tearDown
                asyncio.run(main())
                """;
        Peer p = python(script, certs.chainPem("server").toString(), certs.keyPem("server").toString());
        p.await("PORT ");
        runUntil(loop, () -> Pattern.compile("PORT (\\d+)\n").matcher(p.out).find(), PEER_WAIT);
        Matcher m = Pattern.compile("PORT (\\d+)").matcher(p.out);
        assertTrue(m.find());
        TlsTesting.Pump pump = new TlsTesting.Pump(loop, 4 << 20, 4 << 20);
        run(loop, loop.createConnection(() -> pump, "localhost", Integer.parseInt(m.group(1)),
                ConnectOptions.defaults(), client().build()));
        run(loop, pump.done, Duration.ofSeconds(60));
        assertEquals(java.util.HexFormat.of().formatHex(pump.sent.digest()),
                java.util.HexFormat.of().formatHex(pump.got.digest()));
        pump.transport.close();
        Throwable cause = run(loop, pump.lost);
        assertNull(cause);
    }

    @Test
    void pythonServerThatTruncatesIsReportedAsTruncated() throws Exception {
        String script = """
                import asyncio, ssl, sys
                async def handle(r, w):
                    await r.read(100)
                    w.write(b'partial')
                    await w.drain()
                    w.transport.get_extra_info('socket')  # noqa
                    w.transport._ssl_protocol._transport.abort()  # TCP close, no close_notify
                async def main():
                    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
                    srv = await asyncio.start_server(handle, '127.0.0.1', 0, ssl=ctx)
                    print('PORT', srv.sockets[0].getsockname()[1], flush=True)
                    await asyncio.sleep(600)  # ended by the test's tearDown
                asyncio.run(main())
                """;
        Peer p = python(script, certs.chainPem("server").toString(), certs.keyPem("server").toString());
        p.await("PORT ");
        runUntil(loop, () -> Pattern.compile("PORT (\\d+)\n").matcher(p.out).find(), PEER_WAIT);
        Matcher m = Pattern.compile("PORT (\\d+)").matcher(p.out);
        assertTrue(m.find());
        Recorder r = new Recorder(loop);
        run(loop, loop.createConnection(() -> r, "localhost", Integer.parseInt(m.group(1)),
                ConnectOptions.defaults(), client().build()));
        r.transport.write(ascii("go"));
        Throwable cause = run(loop, r.lost);
        assertEquals("partial", r.text());
        TlsException t = assertInstanceOf(TlsException.class, cause, p.out.toString());
        assertEquals(TlsException.Reason.TRUNCATED, t.reason());
    }

    @Test
    void pythonBlockingSslClientWithAlpn() throws Exception {
        Server s = tlsServer(server().alpnProtocols("h2", "http/1.1").build(), Hello::new);
        String script = """
                import socket, ssl, sys
                ctx = ssl.create_default_context(cafile=sys.argv[1])
                ctx.set_alpn_protocols(['http/1.1'])
                with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as raw:
                    with ctx.wrap_socket(raw, server_hostname='localhost') as s:
                        s.sendall(b'GET / HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n')
                        data = b''
                        while chunk := s.recv(4096):
                            data += chunk
                        print(s.selected_alpn_protocol(), data.split(b'\\r\\n\\r\\n')[1].decode().strip())
                """;
        Peer p = python(script, certs.caPem().toString(), String.valueOf(port(s)));
        assertEquals(0, p.awaitExit(), p.out.toString());
        assertEquals("http/1.1 hello over TLSv1.3\n", p.out.toString());
        s.close();
    }

    static void sleep(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
