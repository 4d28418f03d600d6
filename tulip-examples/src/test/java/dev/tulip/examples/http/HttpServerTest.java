package dev.tulip.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.EventLoop;
import dev.tulip.transport.Server;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP example server over real loopback sockets, with a raw socket client, curl and wrk. */
@Timeout(60)
class HttpServerTest {

    /** A server on its own loop thread; {@link #close()} stops and closes the loop. */
    static final class Running implements AutoCloseable {
        final EventLoop loop;
        final int port;
        private final Thread thread;

        Running(boolean virtualTime, HttpServer.Options options, IntConsumer beforeLoopRuns) {
            loop = EventLoop.builder().virtualTime(virtualTime).build();
            Server server = loop.runUntilComplete(HttpServer.start(loop, "127.0.0.1", 0, options));
            port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            beforeLoopRuns.accept(port);
            thread = Thread.ofPlatform().name("http-test-loop").start(() -> {
                loop.runForever();
                loop.close();
            });
        }

        Running() {
            this(false, HttpServer.Options.defaults(), p -> { });
        }

        @Override
        public void close() throws InterruptedException {
            loop.stop();
            thread.join(10_000);
            assertTrue(!thread.isAlive(), "loop thread did not stop");
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream o = s.getOutputStream();
        o.write(text.getBytes(StandardCharsets.ISO_8859_1));
        o.flush();
    }

    /** A parsed response: status line, headers, body. */
    record Response(int status, String head, String body) {
        String header(String name) {
            Matcher m = Pattern.compile("(?im)^" + Pattern.quote(name) + ":[ \\t]*([^\\r\\n]*)").matcher(head);
            return m.find() ? m.group(1) : null;
        }
    }

    /** Reads one response framed by Content-Length (the server always sends one). */
    private static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("EOF inside a response head: " + head);
            }
            head.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                    ? state + 1 : (b == '\r' ? 1 : 0);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(h.substring(9, 12));
        Matcher m = Pattern.compile("(?im)^content-length:\\s*(\\d+)").matcher(h);
        int len = m.find() ? Integer.parseInt(m.group(1)) : 0;
        if (status == 100) {
            len = 0;
        }
        byte[] body = in.readNBytes(len);
        return new Response(status, h, new String(body, StandardCharsets.ISO_8859_1));
    }

    private static void assertEof(InputStream in) throws IOException {
        assertEquals(-1, in.read(), "the server should have closed the connection");
    }

    @Test
    void helloHasTheSameHeadersAsTheCReferenceServer() throws Exception {
        try (Running r = new Running(); Socket s = connect(r.port)) {
            send(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Response resp = read(s.getInputStream());
            assertEquals(200, resp.status());
            assertEquals("Hello, World!", resp.body());
            assertTrue(resp.head().matches("HTTP/1\\.1 200 OK\r\nServer: Tulip\r\n"
                    + "Date: \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT\r\n"
                    + "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\n"), resp.head());
        }
    }

    @Test
    void keepAliveServesManyRequestsOnOneConnection() throws Exception {
        try (Running r = new Running(); Socket s = connect(r.port)) {
            for (int i = 0; i < 500; i++) {
                send(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
                assertEquals("Hello, World!", read(s.getInputStream()).body());
            }
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Running r = new Running(); Socket s = connect(r.port)) {
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                batch.append("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ").append(Integer.toString(i).length())
                        .append("\r\n\r\n").append(i);
                batch.append("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n");
                batch.append("PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n")
                        .append(Integer.toHexString(Integer.toString(i).length())).append("\r\n").append(i)
                        .append("\r\n0\r\n\r\n");
            }
            send(s, batch.toString());
            for (int i = 0; i < 50; i++) {
                assertEquals(Integer.toString(i), read(s.getInputStream()).body());
                assertEquals(404, read(s.getInputStream()).status());
                assertEquals("c" + i, read(s.getInputStream()).body());
            }
        }
    }

    @Test
    void connectionCloseAndHttp10AreHonoured() throws Exception {
        try (Running r = new Running()) {
            try (Socket s = connect(r.port)) {
                send(s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
                Response resp = read(s.getInputStream());
                assertEquals("close", resp.header("Connection"));
                assertEof(s.getInputStream());
            }
            try (Socket s = connect(r.port)) {
                send(s, "GET / HTTP/1.0\r\n\r\n");
                assertEquals("Hello, World!", read(s.getInputStream()).body());
                assertEof(s.getInputStream());
            }
            try (Socket s = connect(r.port)) {
                send(s, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                assertEquals("keep-alive", read(s.getInputStream()).header("Connection"));
                send(s, "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                Response head = read(new InputStream() { // HEAD: headers only, whatever Content-Length says
                    @Override
                    public int read() throws IOException {
                        return s.getInputStream().read();
                    }

                    @Override
                    public byte[] readNBytes(int len) {
                        return new byte[0];
                    }
                });
                assertEquals("13", head.header("Content-Length"));
            }
        }
    }

    @Test
    void malformedRequestsGetAnErrorThenTheConnectionCloses() throws Exception {
        String[] bad = {
                "GET / HTTP/1.1\r\n\r\n",                                   // no Host
                "GET /\r\n\r\n",                                            // no version
                "GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                "\u0000\u0001\u0002garbage\r\n\r\n",
        };
        try (Running r = new Running()) {
            for (String b : bad) {
                try (Socket s = connect(r.port)) {
                    send(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b); // a good request first: it is still answered
                    assertEquals(200, read(s.getInputStream()).status());
                    Response resp = read(s.getInputStream());
                    assertEquals(400, resp.status(), b);
                    assertEquals("close", resp.header("Connection"));
                    assertEof(s.getInputStream());
                }
            }
        }
    }

    @Test
    void oversizeHeadersGet431() throws Exception {
        try (Running r = new Running(); Socket s = connect(r.port)) {
            send(s, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");
            assertEquals(431, read(s.getInputStream()).status());
            assertEof(s.getInputStream());
        }
    }

    @Test
    void expectContinueGets100First() throws Exception {
        try (Running r = new Running(); Socket s = connect(r.port)) {
            send(s, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
            assertEquals(100, read(s.getInputStream()).status());
            send(s, "body");
            assertEquals("body", read(s.getInputStream()).body());
        }
    }

    @Test
    void slowHeadersGet408OnTheLoopTimer() throws Exception {
        // Virtual time: the loop jumps to its next timer whenever nothing is ready, so the 10 s header timeout
        // passes at once, deterministically. The partial request is sent before the loop runs, so it is read
        // before any time passes.
        HttpServer.Options o = new HttpServer.Options(Duration.ofHours(1), Duration.ofSeconds(10),
                HttpRequestParser.Limits.defaults());
        List<Socket> sockets = new ArrayList<>();
        try (Running r = new Running(true, o, port -> {
            try {
                Socket s = connect(port); // the kernel completes the handshake before the loop accepts
                sockets.add(s);
                send(s, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: one byte at a ti");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        })) {
            Socket s = sockets.get(0);
            Response resp = read(s.getInputStream());
            assertEquals(408, resp.status());
            assertEof(s.getInputStream());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void idleConnectionsAreClosedOnTheLoopTimer() throws Exception {
        HttpServer.Options o = new HttpServer.Options(Duration.ofSeconds(30), Duration.ofSeconds(10),
                HttpRequestParser.Limits.defaults());
        List<Socket> sockets = new ArrayList<>();
        try (Running r = new Running(true, o, port -> {
            try {
                Socket s = connect(port);
                sockets.add(s);
                send(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        })) {
            Socket s = sockets.get(0);
            assertEquals(200, read(s.getInputStream()).status()); // answered, then 30 virtual seconds of silence
            assertEof(s.getInputStream());
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Outside clients
    // ---------------------------------------------------------------------------------------------------------

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "timed out: " + cmd);
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), cmd + " failed:\n" + text);
        return text;
    }

    @Test
    void curlGetsHelloReusesTheConnectionAndUploadsChunked(@TempDir Path dir) throws Exception {
        assumeTrue(onPath("curl"), "curl is not installed (apt-get install -y curl)");
        Path file = dir.resolve("upload.bin");
        Files.writeString(file, "x".repeat(100_000) + "end");
        try (Running r = new Running()) {
            String url = "http://127.0.0.1:" + r.port;
            assertEquals("Hello, World!", run(List.of("curl", "-sS", "--http1.1", url + "/")));
            String v = run(List.of("curl", "-sS", "-v", "--http1.1", url + "/", url + "/"));
            assertEquals(2, v.split("Hello, World!", -1).length - 1, v);
            assertTrue(v.toLowerCase().contains("re-using existing connection")
                    || v.toLowerCase().contains("reusing existing connection"), "curl did not reuse:\n" + v);
            String echoed = run(List.of("curl", "-sS", "--http1.1", "-H", "Transfer-Encoding: chunked",
                    "--data-binary", "@" + file, url + "/echo"));
            assertEquals(100_003, echoed.length());
            assertTrue(echoed.endsWith("end"));
            String status = run(List.of("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url + "/nothing"));
            assertEquals("404", status);
        }
    }

    @Test
    void wrkRunsCleanly() throws Exception {
        assumeTrue(onPath("wrk"), "wrk is not installed (apt-get install -y wrk)");
        try (Running r = new Running()) {
            String out = run(List.of("wrk", "-t1", "-c20", "-d1s", "http://127.0.0.1:" + r.port + "/"));
            Matcher m = Pattern.compile("(\\d+) requests in").matcher(out);
            assertTrue(m.find(), out);
            assertTrue(Long.parseLong(m.group(1)) > 100, out);
            assertTrue(!out.contains("Non-2xx") && !out.contains("Socket errors"), out);
        }
    }
}
