package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link NativeIo} on real TCP sockets on 127.0.0.1: the result convention (bytes, {@link NativeIo#EOF},
 * {@link NativeIo#WOULD_BLOCK}), errno mapping (ECONNRESET, EPIPE, EBADF), gathering writes with partial results,
 * heap buffers through the staging buffer, and no allocation per call in steady state. Runs where the epoll backend
 * can run (the "epoll-backend" surefire execution); skipped, with the reason, elsewhere.
 */
class NativeIoTest {
    private NativeIo io;
    private SocketChannel a;
    private SocketChannel b;
    private int fa;
    private int fb;

    @BeforeAll
    static void needsEpoll() {
        String why = Backends.epollUnavailable();
        Assumptions.assumeTrue(why == null, () -> "epoll backend (and so native I/O) unavailable: " + why);
    }

    @BeforeEach
    void pair() throws IOException {
        io = new NativeIo();
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            a = SocketChannel.open(server.getLocalAddress());
            b = server.accept();
        }
        a.configureBlocking(false);
        b.configureBlocking(false);
        fa = NativeIo.fdOf(a);
        fb = NativeIo.fdOf(b);
    }

    @AfterEach
    void closePair() throws IOException {
        a.close();
        b.close();
    }

    private static ByteBuffer direct(String s) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
    }

    /** Reads from b (blocking until the bytes arrive: b is switched to blocking mode) exactly n bytes. */
    private byte[] readExactly(SocketChannel ch, int n) throws IOException {
        ch.configureBlocking(true);
        ByteBuffer buf = ByteBuffer.allocate(n);
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                break;
            }
        }
        ch.configureBlocking(false);
        return Arrays.copyOf(buf.array(), buf.position());
    }

    @Test
    void writesAndReadsDirectAndHeapBuffers() throws IOException {
        ByteBuffer out = direct("xxhello");
        out.position(2);
        assertEquals(5, io.write(fa, out));
        assertEquals(out.limit(), out.position());
        ByteBuffer heap = ByteBuffer.wrap("..world".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 2, 5);
        assertEquals(5, io.write(fa, heap));
        assertEquals(7, heap.position());

        assertArrayEquals("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII), readExactly(b, 5));
        b.configureBlocking(true);
        // The rest through NativeIo into a heap buffer (staged) at a non-zero position.
        ByteBuffer in = ByteBuffer.allocate(10);
        in.position(3);
        int n = io.read(fb, in);
        assertEquals(5, n);
        assertEquals(8, in.position());
        assertEquals("world", new String(in.array(), 3, 5, java.nio.charset.StandardCharsets.US_ASCII));

        io.write(fb, direct("back"));
        ByteBuffer in2 = ByteBuffer.allocateDirect(16);
        a.configureBlocking(true);
        assertEquals(4, io.read(fa, in2));
        assertEquals(4, in2.position());
    }

    @Test
    void emptyNonBlockingSocketWouldBlockAndAFullBufferReadsNothing() throws IOException {
        assertEquals(NativeIo.WOULD_BLOCK, io.read(fb, ByteBuffer.allocateDirect(64)));
        assertEquals(NativeIo.WOULD_BLOCK, io.read(fb, ByteBuffer.allocate(64)));
        ByteBuffer full = ByteBuffer.allocateDirect(4);
        full.position(4);
        assertEquals(0, io.read(fb, full));
    }

    @Test
    void endOfStreamAfterThePeerCloses() throws IOException {
        a.write(direct("last"));
        a.close();
        b.configureBlocking(true);
        ByteBuffer in = ByteBuffer.allocateDirect(64);
        assertEquals(4, io.read(fb, in));
        assertEquals(NativeIo.EOF, io.read(fb, in));
        assertEquals(NativeIo.EOF, io.read(fb, in)); // stays at EOF
    }

    @Test
    void resetByPeerThenBrokenPipe() throws IOException {
        a.setOption(StandardSocketOptions.SO_LINGER, 0);
        a.close(); // RST
        b.configureBlocking(true); // the read waits for the RST: no timing assumption
        IOException reset = assertThrows(IOException.class, () -> io.read(fb, ByteBuffer.allocateDirect(64)));
        assertTrue(reset instanceof SocketException, reset.toString());
        assertTrue(reset.getMessage().startsWith("Connection reset by peer"), reset.getMessage());
        assertTrue(reset.getMessage().contains("errno 104"), reset.getMessage());
        // The reset was reported and consumed; the connection is gone, so writing is EPIPE from now on.
        IOException pipe = assertThrows(IOException.class, () -> io.write(fb, direct("anyone?")));
        assertTrue(pipe.getMessage().startsWith("Broken pipe"), pipe.getMessage());
        ByteBuffer[] two = {direct("a"), ByteBuffer.wrap(new byte[] {1})};
        IOException pipe2 = assertThrows(IOException.class, () -> io.write(fb, two, 0, 2));
        assertTrue(pipe2.getMessage().startsWith("Broken pipe"), pipe2.getMessage());
        assertTrue(pipe2.getMessage().contains("writev"), pipe2.getMessage());
    }

    @Test
    void writingAfterShutdownOutputIsBrokenPipe() throws IOException {
        a.shutdownOutput();
        IOException e = assertThrows(IOException.class, () -> io.write(fa, direct("late")));
        assertTrue(e.getMessage().startsWith("Broken pipe"), e.getMessage());
        b.configureBlocking(true);
        assertEquals(NativeIo.EOF, io.read(fb, ByteBuffer.allocateDirect(8)));
    }

    @Test
    void aClosedFdIsAClosedChannelException() throws IOException {
        // A number that is certainly not open: the pair's fd after closing it (nobody opens files in between here,
        // but another test thread might; EBADF is what we expect on a quiet JVM, and any IOException is accepted).
        SocketChannel c = SocketChannel.open();
        int fd = NativeIo.fdOf(c);
        c.close();
        IOException e = assertThrows(IOException.class, () -> io.read(fd, ByteBuffer.allocateDirect(8)));
        if (e instanceof ClosedChannelException) {
            assertTrue(e.getCause().getMessage().contains("Bad file descriptor"), e.getCause().getMessage());
        }
        assertThrows(ClosedChannelException.class, () -> NativeIo.fdOf(c));
    }

    @Test
    void gatheringWriteOfManyMixedBuffersWithPartialWrites() throws IOException {
        a.setOption(StandardSocketOptions.SO_SNDBUF, 16 * 1024);
        b.setOption(StandardSocketOptions.SO_RCVBUF, 16 * 1024);
        int count = 700; // more than MAX_IOV: one call takes at most 512 of them
        ByteBuffer[] bufs = new ByteBuffer[count + 2];
        long total = 0;
        byte next = 0;
        for (int k = 0; k < count; k++) {
            int size = 1 + (k * 37) % 3000;
            ByteBuffer buf = k % 3 == 0 ? ByteBuffer.allocate(size) : ByteBuffer.allocateDirect(size);
            for (int j = 0; j < size; j++) {
                buf.put(j, next++);
            }
            bufs[k + 1] = buf;
            total += size;
        }
        bufs[0] = ByteBuffer.allocate(5); // outside the range written
        bufs[count + 1] = ByteBuffer.allocate(5);
        ByteBuffer got = ByteBuffer.allocate((int) total);
        ByteBuffer in = ByteBuffer.allocateDirect(8192);
        long written = 0;
        int partial = 0;
        int blocked = 0;
        int first = 1;
        while (written < total || got.position() < total) {
            // Write until the kernel refuses (EAGAIN), then drain the peer: both outcomes of writev are exercised.
            while (first <= count) {
                long before = remaining(bufs, first, count);
                long n = io.write(fa, bufs, first, count - first + 1);
                if (n == NativeIo.WOULD_BLOCK) {
                    blocked++;
                    break;
                }
                assertTrue(n > 0, "a writev with room wrote " + n);
                assertEquals(before - n, remaining(bufs, first, count), "positions advanced by what was written");
                written += n;
                if (n < before) {
                    partial++;
                }
                while (first <= count && !bufs[first].hasRemaining()) {
                    first++;
                }
            }
            int r;
            while ((r = io.read(fb, in)) > 0) {
                in.flip();
                got.put(in);
                in.clear();
            }
            assertEquals(NativeIo.WOULD_BLOCK, r);
        }
        assertEquals(total, written);
        assertTrue(partial > 0, "expected partial writes with small socket buffers");
        assertTrue(blocked > 0, "expected EAGAIN with small socket buffers");
        assertEquals(5, bufs[0].remaining());
        assertEquals(5, bufs[count + 1].remaining());
        byte expect = 0;
        for (int k = 0; k < total; k++) {
            if (got.get(k) != expect++) {
                throw new AssertionError("byte " + k + " is " + got.get(k));
            }
        }
    }

    private static long remaining(ByteBuffer[] bufs, int from, int to) {
        long r = 0;
        for (int k = from; k <= to; k++) {
            r += bufs[k].remaining();
        }
        return r;
    }

    /** A heap buffer bigger than the staging buffer goes in pieces until the kernel refuses, as a channel's would. */
    @Test
    void aBigHeapWriteFillsTheSocketBufferPieceByPiece() throws IOException {
        a.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20); // capped by net.core.wmem_max, doubled by the kernel
        b.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        ByteBuffer big = ByteBuffer.allocate(16 << 20);
        int n = io.write(fa, big);
        assertTrue(n > NativeIo.STAGING_SIZE, "one write took " + n + " bytes");
        assertTrue(n < big.capacity(), "the kernel took 16 MiB at once?");
        assertEquals(n, big.position());
        assertEquals(NativeIo.WOULD_BLOCK, io.write(fa, big));
        ByteBuffer[] heaps = {ByteBuffer.allocate(100), ByteBuffer.allocate(100)};
        assertEquals(NativeIo.WOULD_BLOCK, io.write(fa, heaps, 0, 2));
        assertEquals(0, heaps[0].position());
    }

    @Test
    void writevSkipsEmptyBuffersAndWritesNothingForNone() throws IOException {
        ByteBuffer[] none = {ByteBuffer.allocate(0), ByteBuffer.allocateDirect(0)};
        assertEquals(0, io.write(fa, none, 0, 2));
        ByteBuffer[] some = {ByteBuffer.allocate(0), direct("ab"), ByteBuffer.allocate(0), direct("cd")};
        assertEquals(4, io.write(fa, some, 0, 4));
        assertArrayEquals("abcd".getBytes(java.nio.charset.StandardCharsets.US_ASCII), readExactly(b, 4));
    }

    /** No allocation per call once compiled: a ping-pong of direct buffers, and a gathering write. */
    @Test
    void steadyStateCallsAllocateNothing() throws Exception {
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                .invoke(null);
        java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getCurrentThreadAllocatedBytes");
        ByteBuffer out = ByteBuffer.allocateDirect(256);
        ByteBuffer in = ByteBuffer.allocateDirect(1024);
        ByteBuffer[] gather = {ByteBuffer.allocateDirect(100), ByteBuffer.allocateDirect(100)};
        long bytes = -1;
        for (int round = 0; round < 100; round++) {
            long before = (long) allocated.invoke(threads);
            for (int k = 0; k < 20_000; k++) {
                out.clear();
                io.write(fa, out);
                gather[0].clear();
                gather[1].clear();
                io.write(fa, gather, 0, 2);
                in.clear();
                int got = 0;
                while (got < 456) {
                    int n = io.read(fb, in);
                    if (n > 0) {
                        got += n;
                    }
                }
            }
            bytes = (long) allocated.invoke(threads) - before;
            if (bytes < 1024) {
                break;
            }
        }
        assertTrue(bytes < 1024, bytes + " bytes allocated for 20000 write+writev+read rounds after warm-up");
    }

    /**
     * EINTR for real: a blocking read interrupted by a signal sent to the reading thread is retried, and the data
     * sent afterwards arrives. A pipe or a plain socket would not show it: the JVM installs its handlers with
     * SA_RESTART, so the kernel restarts those reads by itself. A socket with a receive timeout (SO_RCVTIMEO) is the
     * documented exception (signal(7)): its reads fail with EINTR whatever SA_RESTART says.
     */
    @Test
    void aReadInterruptedByASignalIsRetried() throws Throwable {
        java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
        var libc = linker.defaultLookup();
        var i = java.lang.foreign.ValueLayout.JAVA_INT;
        var l = java.lang.foreign.ValueLayout.JAVA_LONG;
        var setsockopt = linker.downcallHandle(libc.find("setsockopt").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(i, i, i, i, java.lang.foreign.ValueLayout.ADDRESS, i));
        var pthreadSelf = linker.downcallHandle(libc.find("pthread_self").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(l));
        var pthreadKill = linker.downcallHandle(libc.find("pthread_kill").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(i, l, i));
        var gettid = linker.downcallHandle(libc.find("gettid").orElseThrow(),
                java.lang.foreign.FunctionDescriptor.of(i));
        String arch = System.getProperty("os.arch");
        String readSyscall = arch.equals("aarch64") ? "63" : "0";
        int sigusr1 = 10; // x86-64 and aarch64

        b.configureBlocking(true);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var tv = arena.allocate(16, 8);
            tv.set(l, 0, 30L); // 30 s: far longer than the test, only there to make the read interruptible
            tv.set(l, 8, 0L);
            assertEquals(0, (int) setsockopt.invoke(fb, 1 /* SOL_SOCKET */, 20 /* SO_RCVTIMEO */, tv, 16));
        }
        java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
        sun.misc.Signal usr1 = new sun.misc.Signal("USR1");
        sun.misc.SignalHandler old = sun.misc.Signal.handle(usr1, sig -> handled.incrementAndGet());
        try {
            long[] self = new long[1];
            int[] tid = new int[1];
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CompletableFuture<Integer> result = new java.util.concurrent.CompletableFuture<>();
            ByteBuffer in = ByteBuffer.allocateDirect(64);
            Thread reader = new Thread(() -> {
                try {
                    self[0] = (long) pthreadSelf.invoke();
                    tid[0] = (int) gettid.invoke();
                    started.countDown();
                    result.complete(io.read(fb, in));
                } catch (Throwable e) {
                    result.completeExceptionally(e);
                }
            }, "native-read");
            reader.start();
            started.await();
            java.nio.file.Path sys = java.nio.file.Path.of("/proc/self/task/" + tid[0] + "/syscall");
            awaitCondition(() -> {
                // "<nr> <fd in hex> ...": the thread sleeps in read on our fd.
                String[] f = java.nio.file.Files.readString(sys).trim().split(" ");
                return f[0].equals(readSyscall) && Long.decode(f[1]) == fb;
            }, "the reader blocked in read(2)");
            assertEquals(0, (int) pthreadKill.invoke(self[0], sigusr1));
            awaitCondition(() -> io.interruptedCalls() > 0, "read(2) failed with EINTR and was retried");
            a.write(direct("after"));
            assertEquals(5, result.get(20, java.util.concurrent.TimeUnit.SECONDS));
            reader.join();
            assertEquals(1, io.interruptedCalls());
            awaitCondition(() -> handled.get() == 1, "the JVM ran the Java signal handler");
        } finally {
            sun.misc.Signal.handle(usr1, old);
        }
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    /** Waits (bounded, 10 s) for a condition another thread makes true; no sleeping to order things. */
    private static void awaitCondition(Check c, String what) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not reached in 10 s: " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
