package dev.tulip.guarantees;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.guarantees.GuaranteeSupport.LoopThread;
import dev.tulip.guarantees.GuaranteeSupport.SelfSigned;
import dev.tulip.examples.http.HttpRequestParser;
import dev.tulip.examples.http.HttpServer;
import dev.tulip.stream.LimitOverrunException;
import dev.tulip.stream.Streams;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramProtocol;
import dev.tulip.transport.DatagramTransport;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Bad input from peers: fuzzed HTTP over real sockets, oversize lines, datagrams at and beyond the limits, garbage
 * to a TLS server, a slowloris client. (The parser itself is fuzzed in-process by {@code HttpRequestParserFuzzTest}
 * in the default suite; here the same kind of input goes through the server, its timers and its sockets.)
 */
@Tag("guarantees")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BadInputGuaranteesTest {
    private static final Set<Integer> ALLOWED = Set.of(100, 200, 400, 404, 405, 408, 413, 414, 431, 501, 505);
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.1 (\\d{3}) ");

    private static int port(Server s) {
        return ((InetSocketAddress) s.addresses().get(0)).getPort();
    }

    private static final String[] BASES = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "GET /p HTTP/1.1\r\nHost: a\r\n\r\nGET /q HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "PUT /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    };

    static byte[] fuzzCase(Random r) {
        byte[] base = BASES[r.nextInt(BASES.length)].getBytes(StandardCharsets.ISO_8859_1);
        int kind = r.nextInt(10);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        switch (kind) {
            case 0 -> { // random bytes
                byte[] b = new byte[1 + r.nextInt(2048)];
                r.nextBytes(b);
                out.writeBytes(b);
            }
            case 1 -> { // random printable soup with CRLFs
                int n = 1 + r.nextInt(1024);
                String alphabet = "GETPOSHTP/1.0 :\r\n\t-abcXYZ0123456789;=,\"\\";
                for (int i = 0; i < n; i++) {
                    out.write(alphabet.charAt(r.nextInt(alphabet.length())));
                }
            }
            case 2 -> { // truncated
                out.write(base, 0, r.nextInt(base.length));
            }
            case 3 -> { // oversize header value / request line
                String big = "x".repeat(1000 + r.nextInt(100_000));
                out.writeBytes(("GET /" + (r.nextBoolean() ? big : "") + " HTTP/1.1\r\nHost: a\r\nX: "
                        + big + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            }
            case 4 -> { // many headers
                StringBuilder sb = new StringBuilder("GET / HTTP/1.1\r\n");
                int n = 50 + r.nextInt(500);
                for (int i = 0; i < n; i++) {
                    sb.append("H").append(i).append(": v\r\n");
                }
                out.writeBytes(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            }
            case 5 -> { // bad content-length / chunk sizes
                String[] bad = {"-1", "abc", "99999999999999999999", "5, 6", " ", "0x10"};
                out.writeBytes(("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + bad[r.nextInt(bad.length)]
                        + "\r\n\r\nhello").getBytes(StandardCharsets.ISO_8859_1));
            }
            default -> { // byte mutations of a valid request
                byte[] b = base.clone();
                int m = 1 + r.nextInt(6);
                for (int i = 0; i < m; i++) {
                    int at = r.nextInt(b.length);
                    switch (r.nextInt(4)) {
                        case 0 -> b[at] = (byte) r.nextInt(256);
                        case 1 -> b[at] = (byte) "\r\n :\t\0".charAt(r.nextInt(6));
                        case 2 -> b[at] ^= (byte) (1 << r.nextInt(8));
                        default -> b[at] = (byte) ('0' + r.nextInt(10));
                    }
                }
                out.writeBytes(b);
            }
        }
        return out.toByteArray();
    }

    @Test
    void httpServerFuzzedOverTheSocketAnswersOrClosesNeverHangsNeverLeaks() throws Exception {
        long seconds = GuaranteeSupport.longProp("guarantees.httpFuzzSeconds", 10);
        HttpServer.Options opts = new HttpServer.Options(Duration.ofSeconds(3), Duration.ofSeconds(2),
                HttpRequestParser.Limits.defaults());
        AtomicLong cases = new AtomicLong();
        AtomicLong closedWithout = new AtomicLong();
        AtomicLong responses = new AtomicLong();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        long fds0 = GuaranteeSupport.openFds();
        try (LoopThread lt = new LoopThread("http-fuzz-loop")) {
            Server server = lt.await(() -> HttpServer.start(lt.loop, "127.0.0.1", 0, opts));
            int port = port(server);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                final long seed = 0xF022L + w;
                workers.add(Thread.ofVirtual().start(() -> {
                    Random r = new Random(seed);
                    while (System.nanoTime() < deadline && problems.size() < 5) {
                        byte[] req = fuzzCase(r);
                        cases.incrementAndGet();
                        try (Socket s = new Socket("127.0.0.1", port)) {
                            s.setSoTimeout(10_000);
                            try {
                                s.getOutputStream().write(req);
                                s.shutdownOutput();
                            } catch (IOException closedEarly) {
                                // the server answered and closed before taking everything: allowed
                            }
                            byte[] resp;
                            try {
                                resp = s.getInputStream().readAllBytes();
                            } catch (SocketTimeoutException hang) {
                                problems.add("hang on " + printable(req));
                                continue;
                            } catch (IOException reset) {
                                resp = new byte[0];
                            }
                            String text = new String(resp, StandardCharsets.ISO_8859_1);
                            if (text.isEmpty()) {
                                closedWithout.incrementAndGet();
                                continue;
                            }
                            if (!text.startsWith("HTTP/1.1 ")) {
                                problems.add("not a response: " + printable(resp) + " to " + printable(req));
                            }
                            Matcher m = STATUS.matcher(text);
                            while (m.find()) {
                                responses.incrementAndGet();
                                if (!ALLOWED.contains(Integer.parseInt(m.group(1)))) {
                                    problems.add("status " + m.group(1) + " to " + printable(req));
                                }
                            }
                        } catch (IOException e) {
                            problems.add("client error " + e + " on " + printable(req));
                        }
                    }
                }));
            }
            for (Thread t : workers) {
                t.join(TimeUnit.SECONDS.toMillis(seconds + 60));
            }
            assertEchoLikeHello(port);
            lt.call(() -> {
                server.close();
                return null;
            });
            assertTrue(problems.isEmpty(), "problems: " + problems);
            assertTrue(lt.failures.isEmpty(), "no exception escaped to the loop: " + lt.failures);
        }
        long fds = GuaranteeSupport.awaitFdsAtMost(fds0, 30_000);
        System.out.printf("GUARANTEE http-fuzz cases=%d responses=%d closedWithoutResponse=%d fds(before/after)=%d/%d%n",
                cases.get(), responses.get(), closedWithout.get(), fds0, fds);
        assertTrue(cases.get() > 100, "enough cases ran: " + cases.get());
        assertTrue(fds <= fds0, "fds back to baseline: " + fds0 + " -> " + fds + " " + GuaranteeSupport.fdTargets());
    }

    private static void assertEchoLikeHello(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String r = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(r.startsWith("HTTP/1.1 200 "), "the server still answers after the fuzzing: " + r);
        }
    }

    private static String printable(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(b.length, 120); i++) {
            int c = b[i] & 0xff;
            sb.append(c >= 32 && c < 127 ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return sb + (b.length > 120 ? "...(" + b.length + " bytes)" : "");
    }

    @Test
    void slowlorisIsClosedByTheHeaderTimeout() throws Exception {
        HttpServer.Options opts = new HttpServer.Options(Duration.ofSeconds(30), Duration.ofSeconds(1),
                HttpRequestParser.Limits.defaults());
        try (LoopThread lt = new LoopThread("slowloris-loop")) {
            Server server = lt.await(() -> HttpServer.start(lt.loop, "127.0.0.1", 0, opts));
            try (Socket s = new Socket("127.0.0.1", port(server))) {
                s.setSoTimeout(10_000);
                long t0 = System.nanoTime();
                Thread trickle = Thread.ofVirtual().start(() -> {
                    try {
                        s.getOutputStream().write("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                        for (int i = 0; i < 100; i++) {
                            Thread.sleep(100);
                            s.getOutputStream().write(("X-" + i + ": y\r\n").getBytes(StandardCharsets.US_ASCII));
                        }
                    } catch (Exception closed) {
                        // the server closed: expected
                    }
                });
                String r;
                try {
                    r = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                } catch (IOException reset) {
                    r = "";
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                trickle.join(15_000);
                System.out.printf("GUARANTEE slowloris closedAfterMs=%d response=%s%n", ms,
                        r.isEmpty() ? "none" : r.substring(0, Math.min(12, r.length())));
                assertTrue(ms < 8_000, "closed by the 1 s header timeout, not by the client: " + ms + " ms");
                assertTrue(r.isEmpty() || r.startsWith("HTTP/1.1 408"), r);
            }
            lt.call(() -> {
                server.close();
                return null;
            });
        }
    }

    @Test
    void oversizeLinesRaiseLimitOverrunAndTheReaderStaysConsistent() throws Exception {
        CompletableFuture<String> verdict = new CompletableFuture<>();
        try (LoopThread lt = new LoopThread("readline-loop")) {
            Server server = lt.await(() -> Streams.startServer((reader, writer) -> {
                StringBuilder log = new StringBuilder();
                try {
                    boolean skipping = false;
                    while (true) {
                        byte[] line;
                        try {
                            int before = reader.buffered();
                            try {
                                line = reader.readLine();
                            } catch (LimitOverrunException e) {
                                if (reader.buffered() < before) {
                                    throw new AssertionError("readLine consumed bytes before failing");
                                }
                                log.append("overrun(").append(e.separatorFound()).append(") ");
                                reader.readExactly(e.consumed());
                                skipping = !e.separatorFound();
                                continue;
                            }
                        } catch (LimitOverrunException e) {
                            throw e;
                        }
                        if (line.length == 0) {
                            break;
                        }
                        if (skipping) { // the tail of an oversize line
                            skipping = false;
                            continue;
                        }
                        log.append(new String(line, StandardCharsets.US_ASCII).strip()).append(' ');
                    }
                    verdict.complete(log.toString().strip());
                } catch (Throwable t) {
                    verdict.completeExceptionally(t);
                }
                writer.close();
            }, "127.0.0.1", 0));
            try (Socket s = new Socket("127.0.0.1", port(server))) {
                var o = s.getOutputStream();
                o.write("one\n".getBytes(StandardCharsets.US_ASCII));
                o.write(("a".repeat(200_000) + "\n").getBytes(StandardCharsets.US_ASCII));
                o.write("two\n".getBytes(StandardCharsets.US_ASCII));
                o.write(("b".repeat(70_000) + "\n").getBytes(StandardCharsets.US_ASCII));
                o.write("three\n".getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                String v = verdict.get(30, TimeUnit.SECONDS);
                System.out.println("GUARANTEE readline " + v);
                assertTrue(v.startsWith("one overrun("), v);
                assertTrue(v.contains(" two "), v);
                assertTrue(v.endsWith("three"), v);
                assertFalse(v.contains("aaaa") || v.contains("bbbb"), "oversize lines never delivered: " + v);
            }
            lt.call(() -> {
                server.close();
                return null;
            });
        }
    }

    /** Records datagram sizes and errors. */
    static final class Sizes implements DatagramProtocol {
        final ConcurrentLinkedQueue<Integer> sizes = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Exception> errors = new ConcurrentLinkedQueue<>();

        @Override
        public void datagramReceived(ByteBuffer data, SocketAddress from) {
            sizes.add(data.remaining());
        }

        @Override
        public void errorReceived(Exception error) {
            errors.add(error);
        }
    }

    @Test
    void datagramsAtTheLimitArriveWholeBeyondItAreRefusedOrReported() throws Exception {
        try (LoopThread lt = new LoopThread("udp-limit-loop")) {
            DatagramEndpoint<Sizes> big = lt.await(() -> lt.loop.createDatagramEndpoint(Sizes::new,
                    DatagramOptions.builder().localAddress("127.0.0.1", 0).build()));
            DatagramEndpoint<Sizes> small = lt.await(() -> lt.loop.createDatagramEndpoint(Sizes::new,
                    DatagramOptions.builder().localAddress("127.0.0.1", 0).maxDatagramSize(1000).build()));
            InetSocketAddress bigAddr = (InetSocketAddress) lt.call(() -> big.transport().info().localAddress());
            InetSocketAddress smallAddr = (InetSocketAddress) lt.call(() -> small.transport().info().localAddress());
            try (DatagramChannel c = DatagramChannel.open()) {
                c.bind(new InetSocketAddress("127.0.0.1", 0));
                c.send(ByteBuffer.allocate(DatagramTransport.MAX_IPV4_DATAGRAM), bigAddr);
                c.send(ByteBuffer.allocate(1000), smallAddr);
                c.send(ByteBuffer.allocate(1001), smallAddr);
                c.send(ByteBuffer.allocate(5000), smallAddr);
            }
            long end = System.currentTimeMillis() + 10_000;
            while ((big.protocol().sizes.isEmpty() || small.protocol().sizes.size() + small.protocol().errors.size() < 3)
                    && System.currentTimeMillis() < end) {
                Thread.sleep(10);
            }
            assertEquals(List.of(DatagramTransport.MAX_IPV4_DATAGRAM), new ArrayList<>(big.protocol().sizes),
                    "65,507 bytes arrive whole");
            assertEquals(List.of(1000), new ArrayList<>(small.protocol().sizes), "never delivered truncated");
            assertEquals(2, small.protocol().errors.size(), "oversize datagrams reported: " + small.protocol().errors);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                try {
                    lt.call(() -> {
                        big.transport().sendTo(ByteBuffer.allocate(DatagramTransport.MAX_IPV4_DATAGRAM + 1), smallAddr);
                        return null;
                    });
                } catch (java.util.concurrent.ExecutionException x) {
                    throw x.getCause();
                }
            });
            System.out.println("GUARANTEE datagram-limits oversizeSend=" + e.getMessage() + " oversizeReceived="
                    + small.protocol().errors.peek());
            lt.call(() -> {
                big.transport().close();
                small.transport().close();
                return null;
            });
        }
    }

    @Test
    void garbageToATlsServerEndsTheConnectionWithAClearExceptionAndLeaksNothing() throws Exception {
        SelfSigned certs = SelfSigned.get();
        long fds0 = GuaranteeSupport.openFds();
        CompletableFuture<Throwable> lost = new CompletableFuture<>();
        try (LoopThread lt = new LoopThread("tls-garbage-loop")) {
            Server server = lt.await(() -> lt.loop.createServer(() -> new Protocol() {
                @Override
                public void connectionLost(Throwable cause) {
                    lost.complete(cause);
                }
            }, "127.0.0.1", 0, ServerOptions.defaults(), TlsOptions.server(certs.serverContext).build()));
            try (Socket s = new Socket("127.0.0.1", port(server))) {
                s.setSoTimeout(10_000);
                byte[] junk = new byte[4096];
                new Random(7).nextBytes(junk);
                s.getOutputStream().write(junk);
                InputStream in = s.getInputStream();
                try {
                    while (in.read() >= 0) {
                        // an alert, then the close
                    }
                } catch (IOException reset) {
                    // closed by a reset
                }
            }
            // A TLS server that never saw a handshake finish does not call connectionMade/connectionLost, or does;
            // either way nothing may be left open and nothing may reach the loop's handler as an unexpected error.
            Throwable cause = null;
            try {
                cause = lost.get(3, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException notMade) {
                // connectionMade was never called: the handshake failed first
            }
            System.out.println("GUARANTEE tls-garbage connectionLost=" + cause + " handler=" + lt.failures);
            if (lost.isDone()) {
                assertNotNull(cause, "a garbage peer is a failure, not a clean close");
            }
            lt.call(() -> {
                server.close();
                return null;
            });
        }
        assertTrue(GuaranteeSupport.awaitFdsAtMost(fds0, 30_000) <= fds0, "no fd leaked");
    }

    @Test
    void aPeerThatNeverFinishesTheTlsHandshakeIsClosedByTheHandshakeTimeout() throws Exception {
        SelfSigned certs = SelfSigned.get();
        try (LoopThread lt = new LoopThread("tls-stall-loop")) {
            Server server = lt.await(() -> lt.loop.createServer(() -> new Protocol() { }, "127.0.0.1", 0,
                    ServerOptions.defaults(), TlsOptions.server(certs.serverContext)
                            .handshakeTimeout(Duration.ofSeconds(1)).build()));
            try (Socket s = new Socket("127.0.0.1", port(server))) {
                s.setSoTimeout(10_000);
                long t0 = System.nanoTime();
                int r;
                try {
                    r = s.getInputStream().read();
                } catch (IOException reset) {
                    r = -1;
                }
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                System.out.println("GUARANTEE tls-handshake-timeout closedAfterMs=" + ms);
                assertEquals(-1, r);
                assertTrue(ms < 8000, ms + " ms");
            }
            lt.call(() -> {
                server.close();
                return null;
            });
            assertNull(null);
        }
    }
}
