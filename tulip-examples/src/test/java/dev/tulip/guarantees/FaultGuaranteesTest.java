package dev.tulip.guarantees;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Task;
import dev.tulip.guarantees.GuaranteeSupport.LoopThread;
import dev.tulip.guarantees.GuaranteeSupport.Output;
import dev.tulip.transport.Connection;
import dev.tulip.transport.ProcessOptions;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.SubprocessProtocol;
import dev.tulip.transport.SubprocessTransport;
import dev.tulip.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults: resets mid-read and mid-write, a half-closed peer that never reads, a refused connect, fd exhaustion while
 * accepting and connecting (a child JVM under {@code ulimit -n}), the loop closed with everything still open, an
 * exception from each protocol callback, and an {@code Error} from a callback.
 */
@Tag("guarantees")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FaultGuaranteesTest {

    /** Records connectionLost; optional flood on connect; echoes. */
    static final class Probe implements Protocol {
        final CompletableFuture<Throwable> lost = new CompletableFuture<>();
        final AtomicLong maxBuffered = new AtomicLong();
        final AtomicInteger lostCalls = new AtomicInteger();
        final long floodBytes;
        final boolean keepHalfOpen;
        boolean paused;
        long written;
        Transport t;

        Probe(long floodBytes, boolean keepHalfOpen) {
            this.floodBytes = floodBytes;
            this.keepHalfOpen = keepHalfOpen;
        }

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
            pump();
        }

        void pump() {
            while (!paused && written < floodBytes && !t.isClosing()) {
                t.write(ByteBuffer.allocate(64 * 1024));
                written += 64 * 1024;
                maxBuffered.accumulateAndGet(t.writeBufferSize(), Math::max);
            }
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            if (floodBytes == 0) {
                t.write(data);
            }
        }

        @Override
        public boolean eofReceived() {
            return keepHalfOpen;
        }

        @Override
        public void pauseWriting() {
            paused = true;
        }

        @Override
        public void resumeWriting() {
            paused = false;
            pump();
        }

        @Override
        public void connectionLost(Throwable cause) {
            lostCalls.incrementAndGet();
            lost.complete(cause);
        }
    }

    private static int port(Server s) {
        return ((InetSocketAddress) s.addresses().get(0)).getPort();
    }

    private static void rst(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    private static void assertEchoes(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertEquals("ping", new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void peerResetMidReadDeliversConnectionLostOnceAndTheLoopServesOthers() throws Exception {
        try (LoopThread lt = new LoopThread("fault-loop")) {
            CompletableFuture<Probe> made = new CompletableFuture<>();
            Server server = lt.await(() -> lt.loop.createServer(() -> {
                Probe p = new Probe(0, false);
                made.complete(p);
                return p;
            }, "127.0.0.1", 0));
            Socket s = new Socket("127.0.0.1", port(server));
            s.getOutputStream().write(new byte[512]); // half a message
            Probe p = made.get(10, TimeUnit.SECONDS);
            rst(s);
            Throwable cause = p.lost.get(10, TimeUnit.SECONDS);
            assertTrue(cause == null || cause instanceof IOException, "cause: " + cause);
            Thread.sleep(100);
            assertEquals(1, p.lostCalls.get());
            lt.call(() -> {
                server.close();
                return null;
            });
        }
    }

    @Test
    void peerResetMidWriteDeliversAnIoErrorAndDropsTheBuffer() throws Exception {
        try (LoopThread lt = new LoopThread("fault-loop")) {
            CompletableFuture<Probe> made = new CompletableFuture<>();
            AtomicBoolean first = new AtomicBoolean(true);
            Server server = lt.await(() -> lt.loop.createServer(() -> {
                Probe p = new Probe(first.getAndSet(false) ? 64L << 20 : 0, false);
                made.complete(p);
                return p;
            }, "127.0.0.1", 0));
            Socket s = new Socket("127.0.0.1", port(server));
            s.getInputStream().readNBytes(100_000); // the server is mid-write
            Probe p = made.get(10, TimeUnit.SECONDS);
            rst(s);
            Throwable cause = p.lost.get(10, TimeUnit.SECONDS);
            assertTrue(cause instanceof IOException, "cause: " + cause);
            assertEquals(0L, (long) lt.call(() -> p.t.writeBufferSize()), "buffer dropped after the reset");
            assertEchoes(port(server));
            lt.call(() -> {
                server.close();
                return null;
            });
            assertTrue(lt.failures.isEmpty(), "nothing reached the exception handler: " + lt.failures);
        }
    }

    @Test
    void halfClosedPeerThatNeverReadsKeepsTheBufferBounded() throws Exception {
        try (LoopThread lt = new LoopThread("fault-loop")) {
            CompletableFuture<Probe> made = new CompletableFuture<>();
            Server server = lt.await(() -> lt.loop.createServer(() -> {
                Probe p = new Probe(256L << 20, true);
                made.complete(p);
                return p;
            }, "127.0.0.1", 0));
            Socket s = new Socket("127.0.0.1", port(server));
            s.shutdownOutput();
            Probe p = made.get(10, TimeUnit.SECONDS);
            long end = System.currentTimeMillis() + 10_000;
            while (!lt.call(() -> p.paused) && System.currentTimeMillis() < end) {
                Thread.sleep(20);
            }
            assertTrue(lt.call(() -> p.paused), "writer paused at the high mark");
            Thread.sleep(500);
            assertFalse(p.lost.isDone(), "a half-closed peer is not a lost connection");
            long buffered = p.maxBuffered.get();
            assertTrue(buffered <= 64 * 1024 + 64 * 1024, "bounded: " + buffered);
            rst(s);
            assertTrue(p.lost.get(10, TimeUnit.SECONDS) instanceof IOException);
            lt.call(() -> {
                server.close();
                return null;
            });
        }
    }

    @Test
    void connectToAPortNobodyListensOnFailsWithConnectException() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
        }
        try (LoopThread lt = new LoopThread("fault-loop")) {
            Exception e = assertThrows(Exception.class,
                    () -> lt.await(() -> lt.loop.createConnection(() -> new Protocol() { }, "127.0.0.1", port)));
            assertTrue(e instanceof ConnectException, "failure: " + e);
        }
    }

    @Test
    void fdExhaustionWhileAcceptingAndConnectingIsReportedAndRecovered() throws Exception {
        String java = GuaranteeSupport.javaChild(List.of(), FdExhaustionChild.class).command().get(0);
        String cmd = "ulimit -n 128 && exec \"$0\" -Xshare:auto -Xmx128m -Dtulip.acceptRetryDelayMillis=300 -cp \"$1\" "
                + FdExhaustionChild.class.getName();
        Process p = new ProcessBuilder("sh", "-c", cmd, java, System.getProperty("java.class.path"))
                .redirectErrorStream(true).start();
        try {
            Output out = new Output(p, "[fd-child] ");
            assertTrue(p.waitFor(90, TimeUnit.SECONDS), "child finished");
            out.join();
            String line = out.await("FD ", 1000);
            assertNotNull(line, "child output: " + out.lines);
            assertEquals(0, p.exitValue());
            System.out.println("GUARANTEE fd-exhaustion " + line);
            assertTrue(line.contains("connectFailure=java.net.SocketException") || line.contains("connectFailure=java.io.IOException"),
                    "connect failed with a clear I/O error: " + line);
            assertTrue(line.contains("Too_many_open_files"), line);
            assertTrue(GuaranteeSupport.field(line, "acceptFailures") >= 1, "accept hit the limit and backed off");
            assertTrue(line.contains("recovered=true"), "the loop serves again once fds are free: " + line);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void closingTheLoopWithEverythingOpenClosesAllAndLeaksNothing() throws Exception {
        long fds0 = GuaranteeSupport.openFds();
        int threads0 = GuaranteeSupport.liveThreads();
        AtomicInteger lost = new AtomicInteger();
        AtomicBoolean processExited = new AtomicBoolean();
        Task<Object> task;
        long pid;
        EventLoop loop = EventLoop.create();
        try {
            Server server = loop.runUntilComplete(loop.createServer(() -> new Protocol() {
                @Override
                public void connectionLost(Throwable cause) {
                    lost.incrementAndGet();
                }
            }, "127.0.0.1", 0));
            loop.runUntilComplete(loop.createConnection(() -> new Protocol() {
                @Override
                public void connectionLost(Throwable cause) {
                    lost.incrementAndGet();
                }
            }, "127.0.0.1", port(server)));
            Future<Object> never = loop.createFuture();
            task = loop.createTask(never::await);
            SubprocessTransport proc = loop.runUntilComplete(loop.subprocessExec(() -> new SubprocessProtocol() {
                @Override
                public void processExited() {
                    processExited.set(true);
                }
            }, List.of("sleep", "60"), ProcessOptions.defaults()));
            pid = proc.pid();
            Future<Void> settle = loop.createFuture();
            loop.callLater(Duration.ofMillis(300), () -> settle.setResult(null));
            loop.runUntilComplete(settle);
            assertEquals(0, lost.get());
        } finally {
            loop.close();
        }
        assertTrue(loop.isClosed());
        assertEquals(2, lost.get(), "connectionLost delivered to both ends at close");
        assertTrue(task.isCancelled(), "pending task cancelled at close");
        long end = System.currentTimeMillis() + 10_000;
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "child process killed");
        long fds = GuaranteeSupport.awaitFdsAtMost(fds0, 30_000);
        while (GuaranteeSupport.liveThreads() > threads0 && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
        System.out.printf("GUARANTEE loop-close fds(before/after)=%d/%d threads(before/after)=%d/%d%n", fds0, fds,
                threads0, GuaranteeSupport.liveThreads());
        assertTrue(fds <= fds0, "fds back to baseline: " + fds0 + " -> " + fds);
        assertTrue(GuaranteeSupport.liveThreads() <= threads0, "no thread leaked");
    }

    /** Throws from one named callback (only on the first connection), echoes otherwise. */
    static final class Thrower implements Protocol {
        final String where;
        Transport t;

        Thrower(String where) {
            this.where = where;
        }

        private void maybe(String callback) {
            if (callback.equals(where)) {
                throw new IllegalStateException("boom in " + callback);
            }
        }

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
            if (where.equals("pauseWriting")) {
                t.write(ByteBuffer.allocate(16 << 20));
            }
            maybe("connectionMade");
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            maybe("dataReceived");
            t.write(data);
        }

        @Override
        public boolean eofReceived() {
            maybe("eofReceived");
            return true;
        }

        @Override
        public void pauseWriting() {
            maybe("pauseWriting");
        }

        @Override
        public void resumeWriting() {
            maybe("resumeWriting");
        }

        @Override
        public void connectionLost(Throwable cause) {
            maybe("connectionLost");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"connectionMade", "dataReceived", "eofReceived", "pauseWriting", "connectionLost"})
    void anExceptionFromAProtocolCallbackIsLoggedClosesThatConnectionOnly(String callback) throws Exception {
        try (LoopThread lt = new LoopThread("fault-loop")) {
            AtomicInteger n = new AtomicInteger();
            Server server = lt.await(() -> lt.loop.createServer(
                    () -> new Thrower(n.getAndIncrement() == 1 ? callback : "none"), "127.0.0.1", 0));
            int port = port(server);
            try (Socket bystander = new Socket("127.0.0.1", port); Socket victim = new Socket("127.0.0.1", port)) {
                bystander.setSoTimeout(10_000);
                victim.setSoTimeout(10_000);
                bystander.getOutputStream().write(1);
                assertEquals(1, bystander.getInputStream().read());
                switch (callback) {
                    case "dataReceived" -> victim.getOutputStream().write(2);
                    case "eofReceived" -> victim.shutdownOutput();
                    default -> { }
                }
                if (!callback.equals("connectionLost")) {
                    InputStream in = victim.getInputStream();
                    try {
                        byte[] buf = new byte[1 << 16];
                        while (in.read(buf) >= 0) {
                            // drain what was written before the failure
                        }
                    } catch (IOException reset) {
                        // aborted: a reset is a closed connection too
                    }
                } else {
                    rst(victim); // the server learns of it on its next read
                }
                long end = System.currentTimeMillis() + 10_000;
                while (lt.failures.isEmpty() && System.currentTimeMillis() < end) {
                    Thread.sleep(10);
                }
                ExceptionContext c = lt.failures.peek();
                assertNotNull(c, "the failure reached the exception handler");
                assertEquals("boom in " + callback, c.exception().getMessage());
                bystander.getOutputStream().write(3);
                assertEquals(3, bystander.getInputStream().read(), "the loop still serves the others");
            }
            assertEchoesThrough(port);
            lt.call(() -> {
                server.close();
                return null;
            });
        }
    }

    private static void assertEchoesThrough(int port) throws IOException {
        assertEchoes(port);
    }

    @Test
    void anErrorFromACallbackPropagatesOutOfTheLoopWhichStaysClosable() throws Exception {
        long fds0 = GuaranteeSupport.openFds();
        EventLoop loop = EventLoop.create();
        loop.callSoon(() -> {
            throw new OutOfMemoryError("simulated");
        });
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, loop::runForever);
        assertEquals("simulated", e.getMessage());
        assertFalse(loop.isRunning());
        // The loop can run again, and a VirtualMachineError from a protocol callback propagates the same way.
        Server server = loop.runUntilComplete(loop.createServer(() -> new Protocol() {
            @Override
            public void dataReceived(ByteBuffer data) {
                throw new StackOverflowError("simulated in dataReceived");
            }
        }, "127.0.0.1", 0));
        try (Socket s = new Socket("127.0.0.1", port(server))) {
            s.getOutputStream().write(1);
            Future<Void> never = loop.createFuture();
            loop.callLater(Duration.ofSeconds(20), () -> never.setResult(null));
            StackOverflowError so = assertThrows(StackOverflowError.class, () -> loop.runUntilComplete(never));
            assertEquals("simulated in dataReceived", so.getMessage());
        }
        loop.close();
        assertTrue(loop.isClosed());
        long fds = GuaranteeSupport.awaitFdsAtMost(fds0, 30_000);
        assertTrue(fds <= fds0, "closing released every fd: " + fds0 + " -> " + fds + " " + GuaranteeSupport.fdTargets());
    }
}
