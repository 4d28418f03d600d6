package dev.tulip.stream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.Coroutine;
import dev.tulip.EventLoop;
import dev.tulip.Task;
import dev.tulip.Tulip;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.transport.Server;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams over real loopback sockets, with Tulip on both ends and with socat, nc and Python asyncio as peers. The
 * timeout is generous: a fresh or loaded machine can take seconds to start an outside peer.
 */
@Timeout(120)
class StreamsTest {
    EventLoop loop;
    final List<ExceptionContext> errors = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loop = EventLoop.create();
        loop.setExceptionHandler((l, c) -> errors.add(c));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    <T> T run(Coroutine<T> body) {
        return loop.runUntilComplete(loop.createTask(body));
    }

    /** Runs a blocking action on another thread while the loop runs. */
    <T> T offLoop(Callable<T> action) {
        CompletableFuture<T> cf = CompletableFuture.supplyAsync(() -> {
            try {
                return action.call();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        return loop.runUntilComplete(loop.wrapFuture(cf));
    }

    static int port(Server s) {
        return ((InetSocketAddress) s.addresses().get(0)).getPort();
    }

    /** Echo with a prefix, line by line, until EOF. */
    static final ConnectionHandler ECHO = (r, w) -> {
        for (String line; (line = r.readLine(UTF_8)) != null; ) {
            w.write("echo: " + line + "\n", UTF_8);
            w.drain();
        }
    };

    @Test
    void serverAndClientTalkInLines() {
        List<String> got = run(() -> {
            Server server = Streams.startServer(ECHO, "127.0.0.1", 0).await();
            StreamConnection c = Streams.openConnection("127.0.0.1", port(server)).await();
            List<String> out = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                c.writer().write("line " + i + "\n", UTF_8);
                out.add(c.reader().readLine(UTF_8));
            }
            c.writer().writeEof();
            out.add(String.valueOf(c.reader().readLine(UTF_8))); // the handler returned: closed
            c.close();
            c.writer().waitClosed();
            server.close();
            return out;
        });
        assertEquals(List.of("echo: line 0", "echo: line 1", "echo: line 2", "null"), got);
        assertEquals(List.of(), errors);
    }

    @Test
    void handlerFailureAbortsOnlyItsConnectionAndIsReported() {
        ConnectionHandler h = (r, w) -> {
            for (String line; (line = r.readLine(UTF_8)) != null; ) {
                if (line.equals("boom")) {
                    throw new IllegalStateException("handler exploded");
                }
                w.write(line + "\n", UTF_8);
            }
        };
        List<String> got = run(() -> {
            Server server = Streams.startServer(h, "127.0.0.1", 0).await();
            StreamConnection good = Streams.openConnection("127.0.0.1", port(server)).await();
            StreamConnection bad = Streams.openConnection("127.0.0.1", port(server)).await();
            bad.writer().write("boom\n", UTF_8);
            List<String> out = new ArrayList<>();
            try {
                out.add("bad read: " + bad.reader().readLine(UTF_8));
            } catch (RuntimeException e) {
                out.add("bad read failed: " + e.getClass().getSimpleName());
            }
            good.writer().write("still here\n", UTF_8);
            out.add(good.reader().readLine(UTF_8));
            StreamConnection later = Streams.openConnection("127.0.0.1", port(server)).await();
            later.writer().write("new client\n", UTF_8);
            out.add(later.reader().readLine(UTF_8));
            server.close();
            good.close();
            later.close();
            return out;
        });
        assertTrue(got.get(0).equals("bad read: null") || got.get(0).startsWith("bad read failed"), got.get(0));
        assertEquals(List.of("still here", "new client"), got.subList(1, 3));
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).message().contains("handler failed"), errors.get(0).message());
        assertInstanceOf(IllegalStateException.class, errors.get(0).exception());
    }

    @Test
    void unixSockets(@TempDir Path dir) {
        Path sock = dir.resolve("s.sock");
        String got = run(() -> {
            Server server = Streams.startUnixServer(ECHO, sock).await();
            StreamConnection c = Streams.openUnixConnection(sock).await();
            c.writer().write("over unix\n", UTF_8);
            String line = c.reader().readLine(UTF_8);
            c.close();
            server.close();
            return line;
        });
        assertEquals("echo: over unix", got);
    }

    @Test
    void wrapAConnectedChannel() {
        String got = run(() -> {
            Server server = Streams.startServer(ECHO, "127.0.0.1", 0).await();
            SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port(server)));
            StreamConnection c = Streams.wrap(ch).await();
            c.writer().write("wrapped\n", UTF_8);
            String line = c.reader().readLine(UTF_8);
            c.close();
            server.close();
            return line;
        });
        assertEquals("echo: wrapped", got);
    }

    @Test
    void refusedConnectionFailsTheFuture() throws IOException {
        int freePort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            freePort = s.getLocalPort();
        }
        Throwable t = run(() -> {
            try {
                Streams.openConnection("127.0.0.1", freePort).await();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        Throwable cause = t.getCause() != null && !(t instanceof ConnectException) ? t.getCause() : t;
        assertInstanceOf(ConnectException.class, cause, String.valueOf(t));
    }

    @Test
    void slowReaderPeerKeepsTheWriterBufferBounded() throws Exception {
        int chunk = 32 * 1024;
        long total = 16L * 1024 * 1024;
        try (java.nio.channels.ServerSocketChannel peer = java.nio.channels.ServerSocketChannel.open()) {
            peer.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) peer.getLocalAddress()).getPort();
            AtomicLong received = new AtomicLong();
            Thread slow = Thread.ofPlatform().start(() -> {
                try (SocketChannel s = peer.accept()) {
                    ByteBuffer b = ByteBuffer.allocate(64 * 1024);
                    while (s.read(b.clear()) > 0 || received.get() < total) {
                        received.addAndGet(b.position());
                        if (received.get() < total / 2) {
                            Thread.sleep(2); // slow at first: the kernel buffers fill up
                        }
                        if (received.get() >= total) {
                            break;
                        }
                    }
                } catch (Exception e) {
                    // test asserts on the count below
                }
            });
            long maxBuffered = run(() -> {
                StreamConnection c = Streams.openConnection("127.0.0.1", port).await();
                long max = 0;
                byte[] data = new byte[chunk];
                for (long sent = 0; sent < total; sent += chunk) {
                    c.writer().write(data);
                    max = Math.max(max, c.writer().bufferSize());
                    c.writer().drain();
                }
                c.close();
                c.writer().waitClosed();
                return max;
            });
            slow.join(20_000);
            assertEquals(total, received.get());
            assertTrue(maxBuffered <= 64 * 1024 + chunk, "writer buffered " + maxBuffered);
        }
    }

    @Test
    void cancelledReadOnARealSocketLosesNoBytes() {
        String got = run(() -> {
            Server server = Streams.startServer((r, w) -> {
                w.write("first-".getBytes());
                dev.tulip.Tulip.sleep(java.time.Duration.ofMillis(50));
                w.write("second".getBytes());
                r.readAll();
            }, "127.0.0.1", 0).await();
            StreamConnection c = Streams.openConnection("127.0.0.1", port(server)).await();
            Task<byte[]> reading = Task.spawn(() -> c.reader().readExactly(100)); // more than will ever come
            dev.tulip.Tulip.sleep(java.time.Duration.ofMillis(20));
            reading.cancel("changed my mind");
            try {
                reading.await();
            } catch (java.util.concurrent.CancellationException expected) {
                // the point: no bytes consumed
            }
            String all = new String(c.reader().readExactly(12), UTF_8);
            c.close();
            server.close();
            return all;
        });
        assertEquals("first-second", got);
    }

    @Test
    void cancelledDrainOnARealSocketLeavesTheWriterUsable() throws Exception {
        try (java.nio.channels.ServerSocketChannel peer = java.nio.channels.ServerSocketChannel.open()) {
            peer.bind(new InetSocketAddress("127.0.0.1", 0));
            int port = ((InetSocketAddress) peer.getLocalAddress()).getPort();
            CompletableFuture<Long> drained = new CompletableFuture<>();
            CompletableFuture<Void> startReading = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                try (SocketChannel s = peer.accept()) {
                    startReading.get(20, TimeUnit.SECONDS);
                    long n = 0;
                    ByteBuffer b = ByteBuffer.allocate(1 << 16);
                    for (int k; (k = s.read(b.clear())) > 0; ) {
                        n += k;
                    }
                    drained.complete(n);
                } catch (Exception e) {
                    drained.completeExceptionally(e);
                }
            });
            long written = run(() -> {
                StreamConnection c = Streams.openConnection("127.0.0.1", port).await();
                byte[] chunk = new byte[1 << 20];
                long total = 0;
                // Fill the kernel buffers, then the transport's past its high mark (64 KiB), so that drain() must wait:
                // a remainder below the mark would let drain() return at once and leave nothing to cancel.
                while (c.writer().bufferSize() <= 64 * 1024) {
                    c.writer().write(chunk);
                    total += chunk.length;
                }
                Task<Void> d1 = Task.spawn(() -> {
                    c.writer().drain();
                    return null;
                });
                Task<Void> d2 = Task.spawn(() -> {
                    c.writer().drain();
                    return null;
                });
                dev.tulip.Tulip.sleep(java.time.Duration.ofMillis(20));
                d1.cancel();
                startReading.complete(null);
                d2.await(); // the other waiter is unaffected
                assertTrue(d1.isCancelled());
                c.writer().write(chunk);
                total += chunk.length;
                c.writer().drain();
                c.close();
                c.writer().waitClosed();
                return total;
            });
            assertEquals(written, drained.get(20, TimeUnit.SECONDS));
        }
    }

    @Test
    void cancellingOpenConnectionStopsTheAttempt() {
        Throwable t = run(() -> {
            // Cancelled in the same step: resolution and connect have not completed yet.
            Future<StreamConnection> f = Streams.openConnection("127.0.0.1", 9);
            f.cancel();
            try {
                f.await();
                return null;
            } catch (Throwable e) {
                return e;
            }
        });
        assertInstanceOf(java.util.concurrent.CancellationException.class, t);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Interop with outside peers
    // ------------------------------------------------------------------------------------------------------------

    static boolean exists(String path) {
        return Files.isExecutable(Path.of(path));
    }

    static String runProcess(String input, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().write(input.getBytes(UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("process did not finish: " + List.of(cmd));
        }
        return out;
    }

    /**
     * Connects to an outside server that is still starting: socat creates its socket file when it binds and accepts
     * only once it listens, and a fresh or loaded machine can take seconds for both. Retries every 50 ms for up to
     * 60 s of wall-clock time, while the peer runs; fails with the last error. Runs in a task.
     */
    static StreamConnection connectWhileStarting(Supplier<Future<StreamConnection>> connect, Process peer) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (;;) {
            Future<StreamConnection> f = connect.get();
            try {
                return f.await();
            } catch (CompletionException e) {
                if (!(e.getCause() instanceof IOException) || System.nanoTime() > deadline || !peer.isAlive()) {
                    throw new AssertionError("the peer never accepted (alive: " + peer.isAlive() + ")", e.getCause());
                }
            }
            Tulip.sleep(Duration.ofMillis(50));
        }
    }

    @Test
    void pythonAsyncioClientAgainstTulipServer() {
        assumeTrue(exists("/usr/bin/python3"), "/usr/bin/python3 is not installed");
        String script = """
                import asyncio, sys
                async def main():
                    r, w = await asyncio.open_connection('127.0.0.1', int(sys.argv[1]))
                    for i in range(3):
                        w.write(f'py {i}\\n'.encode()); await w.drain()
                        print((await r.readline()).decode().rstrip())
                    w.write_eof()
                    print('eof' if await r.read() == b'' else 'data?')
                    w.close(); await w.wait_closed()
                asyncio.run(main())
                """;
        Server server = run(() -> Streams.startServer(ECHO, "127.0.0.1", 0).await());
        String out = offLoop(() -> runProcess("", "/usr/bin/python3", "-c", script, String.valueOf(port(server))));
        assertEquals("echo: py 0\necho: py 1\necho: py 2\neof\n", out);
        server.close();
    }

    @Test
    void tulipClientAgainstPythonAsyncioServer() throws Exception {
        assumeTrue(exists("/usr/bin/python3"), "/usr/bin/python3 is not installed");
        String script = """
                import asyncio
                async def handle(r, w):
                    while line := await r.readline():
                        w.write(line.upper()); await w.drain()
                    w.close()
                async def main():
                    s = await asyncio.start_server(handle, '127.0.0.1', 0)
                    print(s.sockets[0].getsockname()[1], flush=True)
                    async with s: await s.serve_forever()
                asyncio.run(main())
                """;
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", script).redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), UTF_8));
            int port = Integer.parseInt(out.readLine().trim());
            List<String> got = run(() -> {
                StreamConnection c = Streams.openConnection("127.0.0.1", port).await();
                List<String> lines = new ArrayList<>();
                c.writer().write("hello\nworld\n", UTF_8);
                c.writer().drain();
                lines.add(c.reader().readLine(UTF_8));
                lines.add(c.reader().readLine(UTF_8));
                c.writer().writeEof();
                lines.add(String.valueOf(c.reader().readLine(UTF_8)));
                c.close();
                return lines;
            });
            assertEquals(List.of("HELLO", "WORLD", "null"), got);
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void socatClientAgainstTulipServer() {
        assumeTrue(exists("/usr/bin/socat"), "socat is not installed (apt-get install socat)");
        Server server = run(() -> Streams.startServer(ECHO, "127.0.0.1", 0).await());
        String out = offLoop(() -> runProcess("a\nb\n", "/usr/bin/socat", "-t", "30", "-",
                "TCP:127.0.0.1:" + port(server)));
        assertEquals("echo: a\necho: b\n", out);
        server.close();
    }

    @Test
    void tulipClientAgainstSocatUnixEcho(@TempDir Path dir) throws Exception {
        assumeTrue(exists("/usr/bin/socat"), "socat is not installed (apt-get install socat)");
        Path sock = dir.resolve("socat.sock");
        Process p = new ProcessBuilder("/usr/bin/socat", "UNIX-LISTEN:" + sock, "EXEC:cat")
                .redirectErrorStream(true).start();
        try {
            String got = run(() -> {
                StreamConnection c = connectWhileStarting(() -> Streams.openUnixConnection(sock), p);
                byte[] big = new byte[200_000];
                for (int i = 0; i < big.length; i++) {
                    big[i] = (byte) i;
                }
                c.writer().write(big);
                c.writer().drain();
                byte[] back = c.reader().readExactly(big.length);
                c.close();
                return java.util.Arrays.equals(big, back) ? "same" : "different";
            });
            assertEquals("same", got);
        } finally {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void netcatClientAgainstTulipServer() {
        assumeTrue(exists("/usr/bin/nc"), "nc is not installed (apt-get install netcat-openbsd)");
        Server server = run(() -> Streams.startServer(ECHO, "127.0.0.1", 0).await());
        // -N: shut down the write side at stdin EOF (openbsd netcat), so the handler sees EOF and closes.
        String out = offLoop(() -> runProcess("x\ny\n", "/usr/bin/nc", "-N", "127.0.0.1",
                String.valueOf(port(server))));
        assertEquals("echo: x\necho: y\n", out);
        server.close();
    }
}
