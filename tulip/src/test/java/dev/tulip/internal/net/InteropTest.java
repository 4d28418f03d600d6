package dev.tulip.internal.net;

import static dev.tulip.internal.net.NetTesting.bytes;
import static dev.tulip.internal.net.NetTesting.run;
import static dev.tulip.internal.net.NetTesting.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.internal.net.NetTesting.Echo;
import dev.tulip.internal.net.NetTesting.Recorder;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.Transport;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interoperability with real peers that Tulip did not write: socat, OpenBSD netcat, curl and Python's asyncio, as
 * clients and as servers, over TCP and UNIX sockets, with half-close. Each test is skipped, with the reason, when
 * its tool is not installed (CI installs socat, netcat-openbsd and curl).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InteropTest {
    static final String PYTHON = "/usr/bin/python3";
    /**
     * How long a step that waits for an outside process may take before the test fails: generous, because a fresh
     * or loaded machine can take seconds to start socat, nc, curl or Python, and no assertion here is about speed.
     */
    static final Duration PEER_WAIT = Duration.ofSeconds(45);
    EventLoop loop;
    final List<ExceptionContext> errors = new ArrayList<>();
    final List<Process> processes = new ArrayList<>();
    @TempDir
    Path dir;

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
        loop.setExceptionHandler((l, c) -> errors.add(c));
    }

    @AfterEach
    void tearDown() {
        for (Process p : processes) {
            p.destroyForcibly();
        }
        loop.close();
        assertEquals(List.of(), errors);
    }

    static void need(String tool) {
        assumeTrue(new File(tool).canExecute() || onPath(tool), tool + " is not installed: interop test skipped");
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (new File(d, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }

    /** Starts a process with stdin from a string (then closed) and stdout+stderr to a file. */
    Process start(String stdin, String... cmd) throws IOException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        Process p = pb.start();
        processes.add(p);
        if (stdin != null) {
            p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
        }
        outputs.put(p, out);
        return p;
    }

    final java.util.Map<Process, Path> outputs = new java.util.HashMap<>();

    /** Runs the loop until the process exits; returns its output. */
    String finish(Process p) throws IOException {
        runUntil(loop, () -> !p.isAlive(), PEER_WAIT, () -> "the peer " + p.info().commandLine().orElse("?")
                + " did not exit (its output so far: " + output(p) + ")");
        return Files.readString(outputs.get(p));
    }

    String output(Process p) {
        try {
            return Files.readString(outputs.get(p));
        } catch (IOException e) {
            return "unreadable: " + e;
        }
    }

    /**
     * The port a peer server picked itself (it listens on port 0, so no other socket can take the port between our
     * choosing it and the peer binding it), read from what it printed to {@code log}: waits up to {@link #PEER_WAIT}.
     */
    int portFrom(Process peer, Path log, String regex) throws IOException {
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        runUntil(loop, () -> !peer.isAlive() || p.matcher(read(log)).find(), PEER_WAIT,
                () -> "the peer never said which port it listens on (it printed: " + read(log) + ")");
        java.util.regex.Matcher m = p.matcher(read(log));
        assertTrue(m.find(), "the peer exited without listening; it printed: " + read(log));
        return Integer.parseInt(m.group(1));
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "unreadable: " + e;
        }
    }

    int port(Server s) {
        return ((InetSocketAddress) s.addresses().getFirst()).getPort();
    }

    /** Answers "got <everything received>" after the peer's FIN, staying half-open to do so. */
    static final class HalfCloseResponder implements Protocol {
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
    }

    /**
     * Connects, retrying while the peer server starts (a fresh machine can take seconds to start its first socat or
     * nc), for up to {@link #PEER_WAIT} of wall-clock time with a 50 ms pause between attempts; fails with the last
     * error and the peer's output.
     */
    Connection<Recorder> connectWithRetry(Supplier<Future<Connection<Recorder>>> connect, Process peer)
            throws IOException {
        long deadline = System.nanoTime() + PEER_WAIT.toNanos();
        Throwable last = null;
        while (System.nanoTime() < deadline && peer.isAlive()) {
            Future<Connection<Recorder>> f = connect.get();
            runUntil(loop, f::isDone);
            if (f.exception() == null) {
                return f.result();
            }
            last = f.exception();
            long pauseEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
            runUntil(loop, () -> System.nanoTime() >= pauseEnd);
        }
        throw new AssertionError("the peer server never accepted (alive: " + peer.isAlive() + ", last error: " + last
                + ", its output: " + Files.readString(outputs.get(peer)) + ")", last);
    }

    /** Connects (retrying while the peer server starts), sends, half-closes, reads to EOF. */
    String clientExchange(Supplier<Future<Connection<Recorder>>> connect, Process peer, Recorder[] holder,
            String msg) throws IOException {
        Connection<Recorder> c = connectWithRetry(connect, peer);
        c.transport().write(bytes(msg));
        c.transport().writeEof();
        assertNull(run(loop, holder[0].lost, PEER_WAIT));
        return holder[0].text();
    }

    Supplier<Recorder> recorder(Recorder[] holder) {
        return () -> holder[0] = new Recorder(loop);
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void socatClientAgainstOurTcpServer() throws Exception {
        need("socat");
        Server srv = run(loop, loop.createServer(HalfCloseResponder::new, "127.0.0.1", 0));
        Process p = start("hello socat", "socat", "-t", "30", "-", "TCP:127.0.0.1:" + port(srv));
        assertEquals("got hello socat", finish(p));
        srv.close();
    }

    @Test
    void socatServerAgainstOurTcpClient() throws Exception {
        need("socat");
        Process peer = start(null, "socat", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr", "EXEC:cat");
        int port = portFrom(peer, outputs.get(peer), "listening on AF=2 127\\.0\\.0\\.1:(\\d+)");
        Recorder[] h = new Recorder[1];
        assertEquals("echo me", clientExchange(
                () -> loop.createConnection(recorder(h), "127.0.0.1", port), peer, h, "echo me"));
    }

    @Test
    void socatOverUnixSocketsBothWays() throws Exception {
        need("socat");
        Path ours = dir.resolve("ours.sock");
        Server srv = run(loop, loop.createUnixServer(HalfCloseResponder::new, ours));
        assertEquals("got via unix", finish(start("via unix", "socat", "-t", "30", "-", "UNIX-CONNECT:" + ours)));
        srv.close();
        Path theirs = dir.resolve("theirs.sock");
        Process peer = start(null, "socat", "UNIX-LISTEN:" + theirs, "EXEC:cat");
        Recorder[] h = new Recorder[1];
        assertEquals("cat says",
                clientExchange(() -> loop.createUnixConnection(recorder(h), theirs), peer, h, "cat says"));
    }

    @Test
    void netcatClientAndServerTcpAndUnix() throws Exception {
        need("nc");
        Server srv = run(loop, loop.createServer(HalfCloseResponder::new, "127.0.0.1", 0));
        assertEquals("got nc tcp", finish(start("nc tcp", "nc", "-N", "127.0.0.1", "" + port(srv))));
        srv.close();
        Path ours = dir.resolve("nc.sock");
        Server us = run(loop, loop.createUnixServer(HalfCloseResponder::new, ours));
        assertEquals("got nc unix", finish(start("nc unix", "nc", "-N", "-U", ours.toString())));
        us.close();
        // nc as a server: it prints what it receives and exits on our FIN.
        Path said = dir.resolve("nc-stderr.txt"); // -v says where it listens, on stderr; stdout is what it received
        Process server = start(null, "/bin/sh", "-c", "exec nc -lv 127.0.0.1 0 2>\"$0\"", said.toString());
        int port = portFrom(server, said, "Listening on \\S+ (\\d+)");
        Recorder[] h = new Recorder[1];
        Connection<Recorder> c =
                connectWithRetry(() -> loop.createConnection(recorder(h), "127.0.0.1", port), server);
        c.transport().write(bytes("to nc"));
        c.transport().writeEof();
        assertEquals("to nc", finish(server));
        c.transport().close();
    }

    @Test
    void curlAgainstATinyHttpResponder() throws Exception {
        need("curl");
        Server srv = run(loop, loop.createServer(() -> new Protocol() {
            Transport t;
            final StringBuilder req = new StringBuilder();

            @Override
            public void connectionMade(Transport transport) {
                t = transport;
            }

            @Override
            public void dataReceived(ByteBuffer data) {
                req.append(StandardCharsets.ISO_8859_1.decode(data));
                int end;
                while ((end = req.indexOf("\r\n\r\n")) >= 0) {
                    String path = req.substring(req.indexOf(" ") + 1, req.indexOf(" ", req.indexOf(" ") + 1));
                    req.delete(0, end + 4);
                    String body = "Hello, " + path + "\n";
                    t.write(bytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length()
                            + "\r\n\r\n" + body));
                }
            }
        }, "127.0.0.1", 0));
        String url = "http://127.0.0.1:" + port(srv);
        // Two requests on one keep-alive connection.
        Process p = start(null, "curl", "-sS", "--max-time", "30", url + "/a", url + "/b");
        assertEquals("Hello, /a\nHello, /b\n", finish(p));
        srv.close();
        srv.closeClients();
        run(loop, srv.waitClosed());
    }

    @Test
    void pythonAsyncioClientWithHalfClose() throws Exception {
        need(PYTHON);
        Server srv = run(loop, loop.createServer(HalfCloseResponder::new, "127.0.0.1", 0));
        String py = """
                import asyncio, sys
                async def main():
                    r, w = await asyncio.open_connection('127.0.0.1', int(sys.argv[1]))
                    w.write(b'from python')
                    w.write_eof()
                    print((await r.read()).decode(), end='')
                    w.close()
                asyncio.run(main())
                """;
        assertEquals("got from python", finish(start(null, PYTHON, "-c", py, "" + port(srv))));
        srv.close();
    }

    @Test
    void pythonAsyncioServerWithHalfClose() throws Exception {
        need(PYTHON);
        Path portFile = dir.resolve("port");
        String py = """
                import asyncio, sys
                async def handle(r, w):
                    data = await r.read()          # until our FIN
                    w.write(b'py got ' + data)
                    await w.drain()
                    w.close()
                async def main():
                    srv = await asyncio.start_server(handle, '127.0.0.1', 0)
                    open(sys.argv[1] + '.tmp', 'w').write(str(srv.sockets[0].getsockname()[1]))
                    import os; os.rename(sys.argv[1] + '.tmp', sys.argv[1])
                    await asyncio.sleep(600)  # ended by the test's tearDown
                asyncio.run(main())
                """;
        Process peer = start(null, PYTHON, "-c", py, portFile.toString());
        runUntil(loop, () -> Files.exists(portFile) || !peer.isAlive(), PEER_WAIT,
                () -> "the Python server wrote no port file (its output so far: " + output(peer) + ")");
        assertTrue(Files.exists(portFile), "the Python server exited without a port: " + output(peer));
        int port = Integer.parseInt(Files.readString(portFile).trim());
        Recorder[] h = new Recorder[1];
        assertEquals("py got tulip", clientExchange(() -> loop.createConnection(recorder(h), "127.0.0.1", port), peer,
                h, "tulip"));
    }

    @Test
    void pythonAsyncioEchoOverIpv6AndUnix() throws Exception {
        need(PYTHON);
        Server srv = run(loop, loop.createServer(Echo::new, "::1", 0));
        Path sock = dir.resolve("py.sock");
        Server us = run(loop, loop.createUnixServer(Echo::new, sock));
        String py = """
                import asyncio, sys
                async def main():
                    r, w = await asyncio.open_connection('::1', int(sys.argv[1]))
                    w.write(b'six'); await w.drain()
                    a = await r.readexactly(3); w.close()
                    r, w = await asyncio.open_unix_connection(sys.argv[2])
                    w.write(b'unix'); await w.drain()
                    b = await r.readexactly(4); w.close()
                    print((a + b).decode(), end='')
                asyncio.run(main())
                """;
        assertEquals("sixunix", finish(start(null, PYTHON, "-c", py, "" + port(srv), sock.toString())));
        srv.close();
        us.close();
    }
}
