package dev.tulip.internal.loop;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.ref.Reference;
import java.net.PortUnreachableException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;

/**
 * {@code read}, {@code write}, {@code writev}, {@code recvmmsg} and {@code sendmmsg} on raw file descriptors through
 * FFM downcalls: the native data path of the epoll backend (issue 10), for the stream and datagram transports of a
 * loop whose backend is epoll.
 *
 * <p>Compared with the JDK channels: no channel lock, no blocking-mode bookkeeping, no temporary direct buffer per
 * heap buffer from a thread-local cache; and, what the channels cannot say, "would block" (EAGAIN) is told apart
 * from "0 bytes". The price is that the JDK no longer knows a thread is in I/O on the fd (see "Closed fds" below).
 *
 * <p>Result convention, the same for every call: a count {@code >= 0} is the number of bytes moved (0 only when
 * there was nothing to move); {@link #EOF} ({@code -1}, reads only) is end of stream; {@link #WOULD_BLOCK}
 * ({@code -2}) is EAGAIN/EWOULDBLOCK, a non-blocking fd with nothing to read or no room to write. So a read into a
 * buffer with room returns {@code n > 0}, {@link #EOF} or {@link #WOULD_BLOCK}, never 0, unlike
 * {@code SocketChannel.read}, whose 0 means either. EINTR is retried inside the call. Every other errno becomes an
 * {@link IOException} whose message names it: ECONNRESET is a {@link SocketException} "Connection reset by peer",
 * EPIPE an IOException "Broken pipe" (the JDK channels say the same), EBADF a {@link ClosedChannelException}.
 *
 * <p>Buffers: positions advance by what was moved, as for the channels. Direct buffers are passed by address (the
 * address is read from the JDK's {@code sun.nio.ch.DirectBuffer}, no segment is created per call); heap buffers are
 * staged through one reusable native buffer of {@link #STAGING_SIZE} bytes, so a call moves at most that much of
 * them. Pointers are passed to the downcalls as 64-bit integers (the same register on x86-64 and aarch64), which is
 * what keeps the calls free of allocation in steady state. The errno capture segment, the iovec array and the
 * staging buffer are allocated once per instance (one instance per loop, see {@link #of(TulipLoop)}).
 *
 * <p>Closed fds: callers pass fd numbers. If another thread closes the channel that owns a number, the kernel may
 * hand the number to the next open file at once, and a call made with the stale number then reads or writes that
 * file. This class cannot rule that out; its callers check the channel is still open right before each call and
 * close their channels on the loop thread only, which leaves the window between that check and the system call (a
 * few hundred nanoseconds) open to a close from another thread (code that closes a transport's channel behind its
 * back), followed by a reuse of the number by another thread, inside that window.
 *
 * <p>Measured (issue 10, a shared and noisy 2-core VM): no speedup over the JDK channels that the benchmark can
 * resolve. A CPU profile of the echo server (perf, 1 KiB x 10 connections) shows why: about 80% of the server's CPU
 * is in the kernel (the VM's system-call entry alone is a quarter), 11-13% in libc's syscall stubs, and only about
 * 7% in JIT-compiled Java, the same on both paths; the channels' locks and JNI stubs were about 2% of it, and the
 * FFM downcall stubs and errno capture cost about as much. What this class adds is EAGAIN told apart from EOF, no
 * per-call temporary buffers for heap buffers, and the place for batching calls the channels cannot make.
 *
 * <p>Heap buffers are copied, not passed with {@code Linker.Option.critical(true)}: the hot paths (the loop's read
 * buffer, protocols echoing it, the HTTP example's response buffer) are direct, and a critical call holds off the
 * garbage collector for its duration; not measured.
 *
 * <p>Threading: one instance is used by one thread at a time (the loop's); the static helpers are any thread.
 */
public final class NativeIo {
    /** End of stream (read only). */
    public static final int EOF = -1;
    /** EAGAIN/EWOULDBLOCK: the fd is non-blocking and not ready. */
    public static final int WOULD_BLOCK = -2;
    /** Size of the native buffer heap buffers are copied through. */
    public static final int STAGING_SIZE = 128 * 1024;
    /** Most buffers one writev takes (Linux IOV_MAX is 1024). */
    public static final int MAX_IOV = 512;

    // <errno.h> (Linux, the same on x86-64 and aarch64)
    private static final int EINTR = 4;
    private static final int EBADF = 9;
    private static final int EAGAIN = 11;
    private static final int EPIPE = 32;
    private static final int ECONNRESET = 104;
    private static final int ENOTCONN = 107;
    private static final int ETIMEDOUT = 110;
    private static final int ECONNREFUSED = 111;
    private static final int EHOSTUNREACH = 113;
    private static final int ENETUNREACH = 101;

    private static final MethodHandle READ;
    private static final MethodHandle WRITE;
    private static final MethodHandle WRITEV;
    private static final MethodHandle RECVMMSG;
    private static final MethodHandle SENDMMSG;
    private static final MethodHandle STRERROR;
    private static final MethodHandle BUFFER_ADDRESS;

    static {
        Linker.Option errno = Libc.CAPTURE_ERRNO;
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
        // ssize_t read(int, void *, size_t) and friends, with the pointer as a 64-bit integer (see the class doc).
        READ = Libc.down("read", FunctionDescriptor.of(l, i, l, l), errno);
        WRITE = Libc.down("write", FunctionDescriptor.of(l, i, l, l), errno);
        WRITEV = Libc.down("writev", FunctionDescriptor.of(l, i, l, i), errno);
        // int recvmmsg(int, struct mmsghdr *, unsigned int, int, struct timespec *): no timeout (NULL) here.
        RECVMMSG = Libc.down("recvmmsg", FunctionDescriptor.of(i, i, l, i, i, l), errno);
        // int sendmmsg(int, struct mmsghdr *, unsigned int, int)
        SENDMMSG = Libc.down("sendmmsg", FunctionDescriptor.of(i, i, l, i, i), errno);
        STRERROR = Libc.down("strerror", FunctionDescriptor.of(ValueLayout.ADDRESS, i));
        try {
            Class<?> direct = Class.forName("sun.nio.ch.DirectBuffer");
            BUFFER_ADDRESS = MethodHandles.lookup().findVirtual(direct, "address", MethodType.methodType(long.class))
                    .asType(MethodType.methodType(long.class, ByteBuffer.class));
        } catch (ReflectiveOperationException | IllegalAccessError e) {
            throw new IllegalStateException("cannot reach sun.nio.ch.DirectBuffer.address: " + e, e);
        }
    }

    /**
     * Freed when the instance is unreachable: no close to forget, and an automatic arena's segments cost no
     * acquire/release (an atomic operation for a shared arena) when a downcall takes the errno segment.
     */
    private final MemorySegment errnoSeg;
    /*
     * The downcall handles again, as instance fields so that the JIT does not treat them as constants. A downcall
     * that captures errno slices the capture segment on every call; inlined into a big compiled method (the
     * transport's whole read-echo-write path, as StreamIoTest measures) that slice escaped C2's escape analysis and
     * cost 40 bytes per call. Invoked through a non-constant handle, the downcall's adapter is compiled on its own,
     * small enough for the slice to be scalar-replaced: no allocation, for the price of one non-inlined call
     * (nanoseconds, against a system call's microsecond).
     */
    private final MethodHandle readH = READ;
    private final MethodHandle writeH = WRITE;
    private final MethodHandle writevH = WRITEV;
    private final MethodHandle recvmmsgH = RECVMMSG;
    private final MethodHandle sendmmsgH = SENDMMSG;
    private final MemorySegment iov;
    private final long iovAddress;
    private final MemorySegment staging;
    private final long stagingAddress;
    private final ByteBuffer stagingBuffer;
    /** Buffers in {@link #gather}'s last iovec array. */
    private int iovCount;
    /** EINTRs retried so far (test hook; volatile so a test thread sees it, written on the EINTR path only). */
    private volatile long interrupted;

    /** A new instance with its own native memory. Prefer {@link #of(TulipLoop)}. */
    public NativeIo() {
        Arena arena = Arena.ofAuto();
        errnoSeg = arena.allocate(Libc.CAPTURE_SIZE, 8);
        iov = arena.allocate(16L * MAX_IOV, 8);
        iovAddress = iov.address();
        staging = arena.allocate(STAGING_SIZE, 64);
        stagingAddress = staging.address();
        stagingBuffer = staging.asByteBuffer();
    }

    /** The loop's instance (created on first use). Loop thread only. */
    public static NativeIo of(TulipLoop loop) {
        return loop.local(NativeIo.class, l -> new NativeIo());
    }

    /**
     * The fd number of a JDK channel (socket, server socket, datagram or pipe channel). Needs
     * {@code --add-exports java.base/sun.nio.ch}. Any thread.
     *
     * @throws IOException if the channel is not a JDK channel with an fd, or is closed
     */
    public static int fdOf(SelectableChannel channel) throws IOException {
        int fd = EpollBackend.fdOf(channel);
        if (fd < 0 || !channel.isOpen()) { // the JDK keeps the number after close
            throw new ClosedChannelException();
        }
        return fd;
    }

    /**
     * Reads from {@code fd} into {@code dst} at its position, advancing it.
     *
     * @return bytes read ({@code > 0}; 0 only if {@code dst} has no room), {@link #EOF} or {@link #WOULD_BLOCK}
     * @throws IOException for any errno but EINTR (retried) and EAGAIN, named in the message
     */
    public int read(int fd, ByteBuffer dst) throws IOException {
        int pos = dst.position();
        int rem = dst.limit() - pos;
        if (rem <= 0) {
            return 0;
        }
        long n;
        if (dst.isDirect()) {
            n = readCall(fd, address(dst) + pos, rem);
            Reference.reachabilityFence(dst);
        } else {
            n = readCall(fd, stagingAddress, Math.min(rem, STAGING_SIZE));
            if (n > 0) {
                dst.put(pos, stagingBuffer, 0, (int) n);
            }
        }
        if (n > 0) {
            dst.position(pos + (int) n);
            return (int) n;
        }
        return n == 0 ? EOF : WOULD_BLOCK;
    }

    /**
     * Writes {@code src} from its position to {@code fd}, advancing the position by what the kernel took.
     *
     * @return bytes written ({@code >= 0}) or {@link #WOULD_BLOCK}
     * @throws IOException for any errno but EINTR (retried) and EAGAIN, named in the message
     */
    public int write(int fd, ByteBuffer src) throws IOException {
        int pos = src.position();
        int rem = src.limit() - pos;
        if (rem <= 0) {
            return 0;
        }
        long n;
        if (src.isDirect()) {
            n = writeCall(fd, address(src) + pos, rem);
            Reference.reachabilityFence(src);
        } else {
            // Piece by piece through the staging buffer while the kernel takes whole pieces, so that a big heap
            // buffer fills the socket buffer as the channel's write would (callers rely on "what is left did not
            // fit").
            long total = 0;
            while (true) {
                int len = Math.min(rem, STAGING_SIZE);
                MemorySegment.copy(src.array(), src.arrayOffset() + pos, staging, ValueLayout.JAVA_BYTE, 0, len);
                n = writeCall(fd, stagingAddress, len);
                if (n < 0) {
                    break;
                }
                total += n;
                pos += (int) n;
                rem -= (int) n;
                if (n < len || rem == 0) {
                    break;
                }
            }
            if (total == 0 && n < 0) {
                return WOULD_BLOCK;
            }
            src.position(pos);
            return (int) total;
        }
        if (n < 0) {
            return WOULD_BLOCK;
        }
        src.position(pos + (int) n);
        return (int) n;
    }

    /**
     * A gathering write of {@code srcs[offset .. offset+length)} to {@code fd}, advancing the positions by what the
     * kernel took: one writev of at most {@link #MAX_IOV} buffers and {@link #STAGING_SIZE} bytes of heap buffers,
     * and more of them while the kernel takes all that was offered and the range holds more.
     *
     * @return bytes written ({@code >= 0}) or {@link #WOULD_BLOCK}
     * @throws IOException for any errno but EINTR (retried) and EAGAIN, named in the message
     */
    public long write(int fd, ByteBuffer[] srcs, int offset, int length) throws IOException {
        long total = 0;
        int first = offset;
        int end = offset + length;
        // Several rounds only when the kernel took all that one round offered and the range holds more (a round
        // stops at MAX_IOV buffers or a full staging buffer): like the single write, fill the socket buffer.
        while (true) {
            while (first < end && !srcs[first].hasRemaining()) {
                first++;
            }
            if (first == end) {
                return total;
            }
            long offered = gather(srcs, first, Math.min(end, first + MAX_IOV));
            long n;
            try {
                n = callv(fd, iovCount);
            } finally {
                Reference.reachabilityFence(srcs);
            }
            if (n < 0) {
                return total == 0 ? WOULD_BLOCK : total;
            }
            long left = n;
            for (int k = first; k < end && left > 0; k++) {
                ByteBuffer b = srcs[k];
                int take = (int) Math.min(left, b.remaining());
                b.position(b.position() + take);
                left -= take;
            }
            total += n;
            if (n < offered) {
                return total;
            }
        }
    }

    /** Fills the iovec array from {@code srcs[from .. to)}, staging heap buffers; returns the bytes offered. */
    private long gather(ByteBuffer[] srcs, int from, int to) {
        MemorySegment v = iov;
        int count = 0;
        int staged = 0;
        long offered = 0;
        for (int k = from; k < to && staged < STAGING_SIZE; k++) {
            ByteBuffer b = srcs[k];
            int pos = b.position();
            int rem = b.limit() - pos;
            if (rem <= 0) {
                continue;
            }
            long addr;
            if (b.isDirect()) {
                addr = address(b) + pos;
            } else {
                rem = Math.min(rem, STAGING_SIZE - staged);
                MemorySegment.copy(b.array(), b.arrayOffset() + pos, staging, ValueLayout.JAVA_BYTE, staged, rem);
                addr = stagingAddress + staged;
                staged += rem;
            }
            v.set(ValueLayout.JAVA_LONG, 16L * count, addr);
            v.set(ValueLayout.JAVA_LONG, 16L * count + 8, rem);
            count++;
            offered += rem;
        }
        iovCount = count;
        return offered;
    }

    /**
     * One {@code recvmmsg(2)} of at most {@code vlen} datagrams into the {@code struct mmsghdr} array at native address
     * {@code msgvec} (the caller lays it out and keeps it alive), with {@code flags} and no timeout. The kernel fills
     * each entry's {@code msg_len}, {@code msg_namelen} and {@code msg_flags}.
     *
     * @return datagrams received ({@code > 0}) or {@link #WOULD_BLOCK}
     * @throws PortUnreachableException for ECONNREFUSED: an ICMP port unreachable about an earlier datagram of a
     *         connected socket (the kernel reports it once; the socket lives on)
     * @throws IOException for any other errno but EINTR (retried) and EAGAIN, named in the message
     */
    public int recvmmsg(int fd, long msgvec, int vlen, int flags) throws IOException {
        try {
            long n;
            do {
                n = outcome((int) recvmmsgH.invokeExact(errnoSeg, fd, msgvec, vlen, flags, 0L), "recvmmsg", fd, true);
            } while (n == RETRY);
            return n <= 0 ? WOULD_BLOCK : (int) n; // 0 only for vlen 0
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * One {@code sendmmsg(2)} of at most {@code vlen} datagrams from the {@code struct mmsghdr} array at native address
     * {@code msgvec}. The kernel stops at the first datagram it cannot send: an error on the first is thrown, an
     * error on a later one ends the call with the count sent so far (the caller tries the rest again and meets it).
     *
     * @return datagrams sent ({@code > 0}) or {@link #WOULD_BLOCK}
     * @throws PortUnreachableException for ECONNREFUSED: an ICMP port unreachable about an earlier datagram of a
     *         connected socket, reported instead of sending the first datagram (which was not sent)
     * @throws IOException for any other errno but EINTR (retried) and EAGAIN, named in the message (the first datagram
     *         was not sent)
     */
    public int sendmmsg(int fd, long msgvec, int vlen, int flags) throws IOException {
        try {
            long n;
            do {
                n = outcome((int) sendmmsgH.invokeExact(errnoSeg, fd, msgvec, vlen, flags), "sendmmsg", fd, true);
            } while (n == RETRY);
            return n <= 0 ? WOULD_BLOCK : (int) n; // 0 only for vlen 0
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** read(2); returns the count, or -1 for EAGAIN. */
    private long readCall(int fd, long addr, long len) throws IOException {
        try {
            long n;
            do {
                n = outcome((long) readH.invokeExact(errnoSeg, fd, addr, len), "read", fd, false);
            } while (n == RETRY);
            return n;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** write(2); returns the count, or -1 for EAGAIN. */
    private long writeCall(int fd, long addr, long len) throws IOException {
        try {
            long n;
            do {
                n = outcome((long) writeH.invokeExact(errnoSeg, fd, addr, len), "write", fd, false);
            } while (n == RETRY);
            return n;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** writev(2) of the iovec array's first {@code count} entries; returns the count, or -1 for EAGAIN. */
    private long callv(int fd, int count) throws IOException {
        try {
            long n;
            do {
                n = outcome((long) writevH.invokeExact(errnoSeg, fd, iovAddress, count), "writev", fd, false);
            } while (n == RETRY);
            return n;
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** What {@link #outcome} returns after EINTR: call again. */
    private static final long RETRY = Long.MIN_VALUE;

    /**
     * The one place a system call's result is judged: {@code n >= 0} is returned as is; EAGAIN gives -1; EINTR is
     * counted and gives {@link #RETRY}; any other errno is thrown (ECONNREFUSED on a datagram socket as the ICMP
     * {@link PortUnreachableException} about an earlier datagram, which the socket survives).
     */
    private long outcome(long n, String call, int fd, boolean datagram) throws IOException {
        if (n >= 0) {
            return n;
        }
        int e = errno();
        if (e == EAGAIN) {
            return -1;
        }
        if (e == EINTR) {
            interrupted++;
            return RETRY;
        }
        if (datagram && e == ECONNREFUSED) {
            throw new PortUnreachableException("ICMP Port Unreachable (" + call + " on fd " + fd + ")");
        }
        throw errnoException(call, fd, e);
    }

    private int errno() {
        return Libc.errno(errnoSeg);
    }

    private static long address(ByteBuffer direct) {
        try {
            return (long) BUFFER_ADDRESS.invokeExact(direct);
        } catch (Throwable t) {
            throw new IllegalStateException("not a JDK direct buffer: " + direct.getClass().getName(), t);
        }
    }

    /** How many EINTRs were retried (test hook). */
    long interruptedCalls() {
        return interrupted;
    }

    /** The exception for {@code errno} from {@code call} on {@code fd}; the message names the errno. */
    static IOException errnoException(String call, int fd, int errno) {
        String detail = " (" + call + " on fd " + fd + ", errno " + errno + ")";
        return switch (errno) {
            case ECONNRESET -> new SocketException("Connection reset by peer" + detail);
            case EPIPE -> new IOException("Broken pipe" + detail);
            case EBADF -> {
                ClosedChannelException c = new ClosedChannelException();
                c.initCause(new IOException("Bad file descriptor" + detail));
                yield c;
            }
            case ETIMEDOUT -> new SocketException("Connection timed out" + detail);
            case ECONNREFUSED -> new java.net.ConnectException("Connection refused" + detail);
            case ENOTCONN -> new SocketException("Transport endpoint is not connected" + detail);
            case EHOSTUNREACH -> new java.net.NoRouteToHostException("No route to host" + detail);
            case ENETUNREACH -> new SocketException("Network is unreachable" + detail);
            default -> new IOException(strerror(errno) + detail);
        };
    }

    private static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
