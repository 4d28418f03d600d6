package dev.tulip.internal.tls;

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
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.TlsException;
import dev.tulip.transport.TlsException.Reason;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TLS layer over an in-memory transport pair (no sockets): handshake, data both ways, flow control, close and
 * abort, every failure reason. Runs on a virtual-time loop, so timeouts are instant and nothing can hang (a stuck
 * handshake hits its timer).
 */
@Timeout(60)
class SslProtocolTest {
    private EventLoop loop;
    private final List<Throwable> loopErrors = new ArrayList<>();

    @BeforeAll
    @Timeout(600)
    static void makeCertificates() {
        TestCerts.get();
    }

    @BeforeEach
    void setUp() {
        loop = EventLoop.builder().virtualTime(true).build();
        loop.setExceptionHandler((l, c) -> loopErrors.add(c.exception() != null ? c.exception()
                : new AssertionError(c.message())));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    static TestCerts certs() {
        return TestCerts.get();
    }

    static TlsOptions.Builder client() {
        return TlsOptions.client().context(certs().clientContext);
    }

    static TlsOptions.Builder server() {
        return TlsOptions.server(certs().serverContext);
    }

    /** A client and a server TLS layer joined by memory transports. */
    final class Pair {
        final MemoryTransport[] wires = MemoryTransport.pair(loop);
        final Recorder capp = new Recorder(loop);
        final Recorder sapp = new Recorder(loop);
        final Future<Transport> cw = loop.createFuture();
        final Future<Transport> sw = loop.createFuture();
        final SslProtocol client;
        final SslProtocol server;

        Pair(TlsOptions copts, TlsOptions sopts, int chunk) {
            this(copts, sopts, chunk, null, null);
        }

        Pair(TlsOptions copts, TlsOptions sopts, int chunk, Protocol clientBelow, Protocol serverBelow) {
            wires[0].chunk = chunk;
            wires[1].chunk = chunk;
            client = copts == null ? null : new SslProtocol((TulipLoop) loop, copts, "localhost", 443, capp, cw);
            server = sopts == null ? null : new SslProtocol((TulipLoop) loop, sopts, null, -1, sapp, sw);
            wires[0].connect(clientBelow != null ? clientBelow : client);
            wires[1].connect(serverBelow != null ? serverBelow : server);
        }

        Pair connected() {
            loop.runUntilComplete(cw);
            loop.runUntilComplete(sw);
            return this;
        }
    }

    private Pair pair() {
        return new Pair(client().build(), server().build(), 64 * 1024);
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private void runUntil(java.util.function.BooleanSupplier cond) {
        for (int i = 0; i < 1_000_000 && !cond.getAsBoolean(); i++) {
            step();
        }
        assertTrue(cond.getAsBoolean(), "condition not reached");
    }

    /** One loop pass that never blocks: an idle virtual-time loop moves 1 ms forward. */
    private void step() {
        loop.callLater(Duration.ofMillis(1), () -> { });
        loop.runOnce();
    }

    private Throwable failureOf(Future<?> f) {
        runUntil(f::isDone);
        return f.exception();
    }

    private static TlsException tls(Throwable t) {
        return assertInstanceOf(TlsException.class, t);
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void handshakeThenDataBothWaysThenCleanClose(String version) throws Exception {
        Pair p = new Pair(client().protocols(version).build(), server().build(), 64 * 1024).connected();
        assertEquals(List.of("made"), p.capp.events);
        assertEquals(List.of("made"), p.sapp.events);
        TransportInfo info = p.capp.transport.info();
        assertEquals(version, info.sslSession().getProtocol());
        assertNotNull(info.sslSession().getCipherSuite());
        X509Certificate leaf = (X509Certificate) info.sslSession().getPeerCertificates()[0];
        assertTrue(leaf.getSubjectX500Principal().getName().contains("CN=localhost"));
        assertEquals(version, p.sapp.transport.info().sslSession().getProtocol());

        p.capp.transport.write(ascii("hello "), ascii("server"));
        runUntil(() -> p.sapp.text().equals("hello server"));
        p.sapp.transport.write(ascii("hello client"));
        runUntil(() -> p.capp.text().equals("hello client"));

        p.capp.transport.close();
        assertTrue(p.capp.transport.isClosing());
        assertThrows(IllegalStateException.class, () -> p.capp.transport.write(ascii("late")));
        loop.runUntilComplete(p.capp.lost);
        loop.runUntilComplete(p.sapp.lost);
        assertNull(p.capp.lostCause);
        assertNull(p.sapp.lostCause);
        assertEquals(List.of("made", "data", "eof", "lost"), p.sapp.events);
        assertEquals(List.of("made", "data", "lost"), p.capp.events);
        assertEquals(List.of(), loopErrors);
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void oneByteAtATimeBothWays(String version) {
        Pair p = new Pair(client().protocols(version).build(), server().build(), 1).connected();
        p.capp.transport.write(ascii("trickle"));
        runUntil(() -> p.sapp.text().equals("trickle"));
        p.sapp.transport.write(ascii("back"));
        runUntil(() -> p.capp.text().equals("back"));
        p.sapp.transport.close();
        loop.runUntilComplete(p.capp.lost);
        loop.runUntilComplete(p.sapp.lost);
        assertNull(p.capp.lostCause);
        assertNull(p.sapp.lostCause);
        assertEquals(List.of("made", "data", "eof", "lost"), p.capp.events);
    }

    @Test
    void alpnResultIsInInfo() {
        Pair p = new Pair(client().alpnProtocols("h2", "http/1.1").build(),
                server().alpnProtocols("http/1.1").build(), 64 * 1024).connected();
        assertEquals("http/1.1", p.capp.transport.info().applicationProtocol());
        assertEquals("http/1.1", p.sapp.transport.info().applicationProtocol());
        Pair none = new Pair(client().build(), server().build(), 64 * 1024).connected();
        assertNull(none.capp.transport.info().applicationProtocol());
    }

    @Test
    void anIdleConnectionHoldsNoBuffers() {
        Pair p = pair().connected();
        p.capp.transport.write(ByteBuffer.allocate(100_000));
        runUntil(() -> p.sapp.received.size() == 100_000);
        for (int i = 0; i < 10; i++) {
            step();
        }
        assertEquals(0, p.client.heldBufferBytes());
        assertEquals(0, p.server.heldBufferBytes());
        p.sapp.transport.pauseReading();
        p.capp.transport.write(ByteBuffer.allocate(1000));
        for (int i = 0; i < 10; i++) {
            step();
        }
        assertEquals(100_000, p.sapp.received.size(), "paused: nothing delivered");
        p.sapp.transport.resumeReading();
        runUntil(() -> p.sapp.received.size() == 101_000);
        for (int i = 0; i < 10; i++) {
            step();
        }
        assertEquals(0, p.server.heldBufferBytes());
    }

    @Test
    void writeEofIsUnsupportedWithAReason() {
        Pair p = pair().connected();
        assertFalse(p.capp.transport.canWriteEof());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> p.capp.transport.writeEof());
        assertTrue(e.getMessage().contains("half-close"), e.getMessage());
    }

    @Test
    void untrustedCertificateFailsTheClient() {
        Pair p = new Pair(client().build(), TlsOptions.server(certs().untrustedServerContext).build(), 64 * 1024);
        Throwable t = failureOf(p.cw);
        assertEquals(Reason.UNTRUSTED_CERTIFICATE, tls(t).reason());
        tls(failureOf(p.sw)); // the server learns too
        assertTrue(p.sw.exception() instanceof TlsException);
        assertEquals(List.of(), p.capp.events, "the app never saw a connection");
    }

    @Test
    void hostnameMismatchFailsTheClient() {
        Pair p = new Pair(client().build(), TlsOptions.server(certs().wrongNameServerContext).build(), 64 * 1024);
        Throwable t = failureOf(p.cw);
        assertEquals(Reason.HOSTNAME_MISMATCH, tls(t).reason(), t.getMessage());
    }

    @Test
    void insecureNamedOptionsConnectAnyway() {
        Pair p = new Pair(TlsOptions.client().insecureNoVerification().build(),
                TlsOptions.server(certs().untrustedServerContext).build(), 64 * 1024).connected();
        assertNotNull(p.capp.transport);
        Pair q = new Pair(client().insecureNoHostnameVerification().build(),
                TlsOptions.server(certs().wrongNameServerContext).build(), 64 * 1024).connected();
        assertNotNull(q.capp.transport);
        assertTrue(TlsOptions.client().insecureNoVerification().build().toString().contains("INSECURE"));
    }

    @Test
    void defaultClientVerifiesEverything() {
        TlsOptions o = TlsOptions.defaultClient();
        assertTrue(o.isClient());
        assertTrue(o.verifiesCertificates());
        assertTrue(o.verifiesHostname());
        assertEquals(Duration.ofSeconds(60), o.handshakeTimeout());
        assertEquals(Duration.ofSeconds(30), o.shutdownTimeout());
        SslProtocol p = new SslProtocol((TulipLoop) loop, o, "example.com", 443, new Recorder(loop), null);
        assertEquals("HTTPS", p.engine().getSSLParameters().getEndpointIdentificationAlgorithm());
        assertEquals("example.com",
                ((javax.net.ssl.SNIHostName) p.engine().getSSLParameters().getServerNames().get(0)).getAsciiName());
        assertThrows(IllegalArgumentException.class,
                () -> new SslProtocol((TulipLoop) loop, o, null, -1, new Recorder(loop), null));
        assertThrows(IllegalStateException.class,
                () -> TlsOptions.client().context(certs().clientContext).insecureNoVerification().build());
        assertThrows(IllegalArgumentException.class, () -> TlsOptions.client().handshakeTimeout(Duration.ZERO));
    }

    @Test
    void clientCertificateRequiredButMissingFails() throws Exception {
        Pair p = new Pair(client().build(), server().clientAuth(TlsOptions.ClientAuth.NEED).build(), 64 * 1024);
        Throwable t = failureOf(p.sw);
        assertEquals(Reason.HANDSHAKE_FAILED, tls(t).reason(), t.getMessage());
        // TLS 1.3: the client may finish its side before the server's alert arrives; either way it fails.
        runUntil(() -> p.cw.isDone() && (p.cw.exception() != null || p.capp.lost.isDone()));
        Throwable c = p.cw.exception() != null ? p.cw.exception() : p.capp.lostCause;
        assertInstanceOf(TlsException.class, c);

        Pair q = new Pair(TlsOptions.client().context(certs().clientWithCertContext).build(),
                server().clientAuth(TlsOptions.ClientAuth.NEED).build(), 64 * 1024).connected();
        assertNotNull(q.sapp.transport.info().sslSession().getPeerCertificates());
    }

    @Test
    void plaintextClientOnATlsServer() {
        Recorder raw = new Recorder(loop);
        Pair p = new Pair(null, server().build(), 64 * 1024, raw, null);
        loop.runUntilComplete(raw.made);
        raw.transport.write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        Throwable t = failureOf(p.sw);
        assertEquals(Reason.NOT_TLS, tls(t).reason(), t.getMessage());
        loop.runUntilComplete(raw.lost);
    }

    @Test
    void plaintextServerAnsweringATlsClient() {
        Recorder raw = new Recorder(loop);
        raw.onData = b -> raw.transport.write(ascii("HTTP/1.1 400 Bad Request\r\n\r\n"));
        Pair p = new Pair(client().build(), null, 64 * 1024, null, raw);
        Throwable t = failureOf(p.cw);
        assertEquals(Reason.NOT_TLS, tls(t).reason(), t.getMessage());
    }

    @Test
    void silentPeerHitsTheHandshakeTimeout() {
        Recorder raw = new Recorder(loop); // accepts TCP, never answers
        Pair p = new Pair(client().handshakeTimeout(Duration.ofSeconds(5)).build(), null, 64 * 1024, null, raw);
        long start = loop.time();
        Throwable t = failureOf(p.cw);
        assertEquals(Reason.HANDSHAKE_TIMEOUT, tls(t).reason());
        assertEquals(Duration.ofSeconds(5).toNanos(), loop.time() - start);
        loop.runUntilComplete(raw.lost);
    }

    @Test
    void defaultHandshakeTimeoutIsSixtySeconds() {
        Recorder raw = new Recorder(loop);
        Pair p = new Pair(client().build(), null, 64 * 1024, null, raw);
        long start = loop.time();
        tls(failureOf(p.cw));
        assertEquals(Duration.ofSeconds(60).toNanos(), loop.time() - start);
    }

    @Test
    void peerClosingDuringTheHandshake() {
        Recorder raw = new Recorder(loop);
        raw.onData = b -> raw.transport.close();
        Pair p = new Pair(client().build(), null, 64 * 1024, null, raw);
        Throwable t = failureOf(p.cw);
        assertEquals(Reason.HANDSHAKE_FAILED, tls(t).reason());
    }

    @Test
    void truncationWithoutCloseNotifyIsReported() {
        Pair p = pair().connected();
        p.sapp.transport.write(ascii("partial"));
        runUntil(() -> p.capp.text().equals("partial"));
        p.wires[1].close(); // the server's TCP closes under TLS: no close_notify
        loop.runUntilComplete(p.capp.lost);
        assertEquals(Reason.TRUNCATED, tls(p.capp.lostCause).reason());
        assertFalse(p.capp.events.contains("eof"), "a truncation is not an EOF");
    }

    @Test
    void garbageAfterTheHandshakeIsAProtocolError() {
        Pair p = pair().connected();
        // Bytes that look like a TLS application_data record with a bad MAC.
        byte[] junk = new byte[64];
        junk[0] = 23;
        junk[1] = 3;
        junk[2] = 3;
        junk[4] = 59;
        p.wires[1].write(ByteBuffer.wrap(junk));
        loop.runUntilComplete(p.capp.lost);
        assertEquals(Reason.PROTOCOL_ERROR, tls(p.capp.lostCause).reason(), p.capp.lostCause.getMessage());
        loop.runUntilComplete(p.sapp.lost); // the alert or the close reaches the server
    }

    @Test
    void plaintextGarbageAfterTheHandshake() {
        Pair p = pair().connected();
        p.wires[1].write(ascii("this is not TLS at all, just text\r\n"));
        loop.runUntilComplete(p.capp.lost);
        assertEquals(Reason.PROTOCOL_ERROR, tls(p.capp.lostCause).reason(), p.capp.lostCause.getMessage());
    }

    @Test
    void abortSendsNoCloseNotify() {
        Pair p = pair().connected();
        p.capp.transport.abort();
        loop.runUntilComplete(p.capp.lost);
        assertNull(p.capp.lostCause);
        loop.runUntilComplete(p.sapp.lost);
        assertNotNull(p.sapp.lostCause, "the server sees a reset, not a clean close");
        assertFalse(p.sapp.events.contains("eof"));
    }

    @Test
    void closeWaitsForThePeersCloseNotifyUpToTheShutdownTimeout() {
        // A server whose TLS layer goes deaf after the handshake: it never sees our close_notify.
        Pair p = new Pair(client().shutdownTimeout(Duration.ofSeconds(7)).build(), server().build(), 64 * 1024)
                .connected();
        p.wires[1].pauseReading();
        long start = loop.time();
        p.capp.transport.close();
        loop.runUntilComplete(p.capp.lost);
        assertEquals(Reason.SHUTDOWN_TIMEOUT, tls(p.capp.lostCause).reason());
        assertEquals(Duration.ofSeconds(7).toNanos(), loop.time() - start);
    }

    @Test
    void dataAfterOurCloseNotifyIsDiscardedWithoutErrors() {
        Pair p = pair().connected();
        // The server keeps sending while the client closes: everything the client gets after close() is dropped.
        p.sapp.onData = b -> { };
        p.capp.transport.close();
        for (int i = 0; i < 20; i++) {
            p.sapp.transport.write(ByteBuffer.allocate(10_000));
        }
        loop.runUntilComplete(p.capp.lost);
        loop.runUntilComplete(p.sapp.lost);
        assertNull(p.capp.lostCause);
        assertNull(p.sapp.lostCause);
        assertEquals(0, p.capp.received.size());
        assertEquals(List.of(), loopErrors);
    }

    @Test
    void bytesAfterThePeersCloseNotifyAreIgnored() {
        Pair p = pair().connected();
        p.sapp.keepOpenOnEof = true;
        p.sapp.transport.close(); // close_notify from the server
        p.wires[1].write(ascii("garbage after close_notify")); // raw bytes right behind it
        loop.runUntilComplete(p.capp.lost);
        assertNull(p.capp.lostCause);
        assertEquals(List.of(), loopErrors);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 64 * 1024})
    void writeFlowControlFollowsThePeer(int chunk) {
        Pair p = new Pair(client().build(), server().build(), chunk).connected();
        p.sapp.transport.pauseReading(); // the server app stops reading: TLS records pile up, then TCP
        assertFalse(p.sapp.transport.isReading());
        ByteBuffer block = ByteBuffer.allocate(16 * 1024);
        int writes = 0;
        while (!p.capp.writingPaused && writes < 1000) {
            p.capp.transport.write(block.clear());
            writes++;
            for (int i = 0; i < 10; i++) {
                step();
            }
        }
        assertTrue(p.capp.writingPaused, "the writer was never paused");
        assertTrue(p.capp.transport.writeBufferSize() > 64 * 1024);
        long deliveredWhilePaused = p.sapp.received.size();
        for (int i = 0; i < 100; i++) {
            step();
        }
        assertEquals(deliveredWhilePaused, p.sapp.received.size(), "pauseReading stops delivery");
        p.sapp.transport.resumeReading();
        runUntil(() -> !p.capp.writingPaused);
        long total = 16L * 1024 * writes;
        runUntil(() -> p.sapp.received.size() == total);
        assertEquals(1, p.capp.pauses);
        assertEquals(1, p.capp.resumes);
    }

    @Test
    void largeTransferBothWaysWithChecksums() throws Exception {
        Pair p = pair().connected();
        int size = 8 * 1024 * 1024;
        byte[] data = new byte[size];
        new Random(7).nextBytes(data);
        MessageDigest cd = MessageDigest.getInstance("SHA-256");
        MessageDigest sd = MessageDigest.getInstance("SHA-256");
        p.capp.onData = cd::update;
        p.sapp.onData = sd::update;
        for (int off = 0; off < size; off += 100_000) {
            p.capp.transport.write(ByteBuffer.wrap(data, off, Math.min(100_000, size - off)));
            p.sapp.transport.write(ByteBuffer.wrap(data, off, Math.min(100_000, size - off)));
        }
        runUntil(() -> p.sapp.received.size() == size && p.capp.received.size() == size);
        byte[] expect = MessageDigest.getInstance("SHA-256").digest(data);
        assertArrayEquals(expect, cd.digest());
        assertArrayEquals(expect, sd.digest());
    }

    @Test
    void protocolExceptionClosesTheConnectionAndReachesTheHandler() {
        Pair p = pair().connected();
        RuntimeException boom = new RuntimeException("boom");
        p.sapp.onData = b -> {
            throw boom;
        };
        p.capp.transport.write(ascii("x"));
        loop.runUntilComplete(p.sapp.lost);
        assertEquals(boom, p.sapp.lostCause);
        assertEquals(List.of(boom), loopErrors);
        loop.runUntilComplete(p.capp.lost);
    }

    @Test
    void tlsOverTls() {
        // Outer TLS between a and b; inner TLS runs over the outer application transports.
        Pair outer = pair().connected();
        Recorder capp = new Recorder(loop);
        Recorder sapp = new Recorder(loop);
        Future<Transport> cw = loop.createFuture();
        Future<Transport> sw = loop.createFuture();
        SslProtocol ic = new SslProtocol((TulipLoop) loop, client().build(), "localhost", 443, capp, cw);
        SslProtocol is = new SslProtocol((TulipLoop) loop, server().build(), null, -1, sapp, sw);
        ((SwitchableTransport) outer.capp.transport).setProtocol(ic);
        ((SwitchableTransport) outer.sapp.transport).setProtocol(is);
        ic.start(outer.capp.transport);
        is.start(outer.sapp.transport);
        loop.runUntilComplete(cw);
        loop.runUntilComplete(sw);
        capp.transport.write(ascii("inner hello"));
        runUntil(() -> sapp.text().equals("inner hello"));
        assertNotNull(capp.transport.info().sslSession());
        capp.transport.close();
        loop.runUntilComplete(capp.lost);
        loop.runUntilComplete(sapp.lost);
        assertNull(capp.lostCause);
        assertNull(sapp.lostCause);
    }

    @Test
    @Timeout(30)
    void delegatedTasksOnAnExecutor() {
        loop.close();
        loop = EventLoop.create();
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            Pair p = new Pair(client().delegatedTaskExecutor(ex).build(), server().delegatedTaskExecutor(ex).build(),
                    64 * 1024).connected();
            p.capp.transport.write(ascii("ping"));
            runUntil(() -> p.sapp.text().equals("ping"));
        } finally {
            ex.shutdownNow();
        }
    }
}
