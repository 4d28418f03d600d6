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
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.Arrays;

/**
 * The Linux epoll backend, called through the Foreign Function and Memory API (no JNI, no native build).
 *
 * <p>It replaces readiness; the stream transports also move their bytes natively on a loop that runs it ({@link
 * NativeIo}, chosen per transport by {@code dev.tulip.internal.net.StreamIo}), while servers, datagram transports
 * and the sock* operations keep using their non-blocking JDK channels. Each channel's file descriptor is read from
 * the JDK's {@code sun.nio.ch.SelChImpl.getFDVal()}, which needs {@code --add-exports java.base/sun.nio.ch=dev.tulip}
 * (or {@code =ALL-UNNAMED} on the class path); downcalls need
 * {@code --enable-native-access=dev.tulip} (or {@code ALL-UNNAMED}). {@link Backends} checks both and falls back to
 * the Selector backend, saying why, when either is missing.
 *
 * <p>Level-triggered, on purpose: the transports were written against the Selector, which is level-triggered (a
 * transport that reads one buffer and returns is called again while data remains; a transport that leaves OP_WRITE
 * on is told again). With {@link NativeIo} EAGAIN is now visible, so edge-triggered was considered for the stream
 * transports and not taken, by measurement: under the echo load (strace -c -f on the server, 10 connections, 1 KiB
 * and 100 KiB messages) the level-triggered loop makes exactly one read and one write per message, one epoll_wait
 * per ten messages, no epoll_ctl at all (writes complete at once, so the interest stays OP_READ) and no read that
 * fails with EAGAIN. Edge-triggered could not remove any of those calls; it would only save the two epoll_ctl(MOD)
 * around a write that does not complete, and it would cost a drain loop with a fairness budget in every handler.
 *
 * <p>Closed channels and fd reuse: closing a channel (from any thread) closes its fd, which removes it from the epoll
 * set in the kernel; the number may then be reused by a new channel. So a registration never calls EPOLL_CTL_DEL on
 * a channel that is already closed (that would remove the new owner's registration), each epoll entry carries a
 * generation besides the fd so that an event for a previous owner is dropped, and registering an fd whose slot still
 * holds a closed channel's registration replaces it (EEXIST from EPOLL_CTL_ADD becomes EPOLL_CTL_MOD).
 *
 * <p>Interest 0 is kept in the kernel as {@code EPOLLET} with no events: EPOLLHUP and EPOLLERR are always reported,
 * and level-triggered they would make a hung-up socket with no interest spin the loop; edge-triggered they are
 * reported at most once per change, and dropped because nothing is interested.
 *
 * <p>Loop thread only, except {@link #wakeup()}, which any thread may call.
 */
final class EpollBackend implements IoBackend {
    // <sys/epoll.h>, <sys/eventfd.h>, <errno.h> (Linux, same values on x86-64 and aarch64)
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLL_CTL_MOD = 3;
    private static final int EPOLLIN = 0x001;
    private static final int EPOLLOUT = 0x004;
    private static final int EPOLLERR = 0x008;
    private static final int EPOLLHUP = 0x010;
    private static final int EPOLLET = 1 << 31;
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int EFD_CLOEXEC = 0x80000;
    private static final int EFD_NONBLOCK = 0x800;
    private static final int EINTR = 4;
    private static final int EBADF = 9;
    private static final int EAGAIN = 11;
    private static final int EEXIST = 17;
    private static final int ENOENT = 2;

    /** epoll_data of the wake-up eventfd; registrations use (generation << 32 | fd) with generation >= 1. */
    private static final long WAKE_TAG = 0;
    private static final int MAX_EVENTS = 512;

    // struct epoll_event is packed on x86-64 (12 bytes), naturally aligned elsewhere (16 bytes).
    private static final boolean PACKED = "amd64".equals(System.getProperty("os.arch"))
            || "x86_64".equals(System.getProperty("os.arch"));
    private static final long EVENT_SIZE = PACKED ? 12 : 16;
    private static final long DATA_OFFSET = PACKED ? 4 : 8;

    private static final MethodHandle EPOLL_CREATE1;
    private static final MethodHandle EPOLL_CTL;
    private static final MethodHandle EPOLL_WAIT;
    private static final MethodHandle EVENTFD;
    private static final MethodHandle READ;
    private static final MethodHandle WRITE;
    private static final MethodHandle CLOSE;
    private static final MethodHandle GET_FD;

    static {
        Linker.Option errno = Libc.CAPTURE_ERRNO;
        ValueLayout.OfInt i = ValueLayout.JAVA_INT;
        ValueLayout.OfLong l = ValueLayout.JAVA_LONG;
        java.lang.foreign.AddressLayout p = ValueLayout.ADDRESS;
        EPOLL_CREATE1 = Libc.down("epoll_create1", FunctionDescriptor.of(i, i), errno);
        EPOLL_CTL = Libc.down("epoll_ctl", FunctionDescriptor.of(i, i, i, i, p), errno);
        EPOLL_WAIT = Libc.down("epoll_wait", FunctionDescriptor.of(i, i, p, i, i), errno);
        EVENTFD = Libc.down("eventfd", FunctionDescriptor.of(i, i, i), errno);
        READ = Libc.down("read", FunctionDescriptor.of(l, i, p, l), errno);
        WRITE = Libc.down("write", FunctionDescriptor.of(l, i, p, l)); // any thread: no errno needed
        CLOSE = Libc.down("close", FunctionDescriptor.of(i, i));
        try {
            Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl");
            GET_FD = MethodHandles.lookup().findVirtual(selCh, "getFDVal", MethodType.methodType(int.class))
                    .asType(MethodType.methodType(int.class, SelectableChannel.class));
        } catch (ReflectiveOperationException | IllegalAccessError e) {
            throw new IllegalStateException("cannot reach sun.nio.ch.SelChImpl.getFDVal: " + e, e);
        }
    }

    private final TulipLoop loop;
    /** Shared: wakeup() touches {@link #one} from other threads; everything else is loop-thread only. */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment events;
    private final MemorySegment ctlEvent;
    private final MemorySegment errnoSeg;
    private final MemorySegment drain;
    private final MemorySegment one;
    private final int epfd;
    private final int wakeFd;
    /** Guards wakeFd against close: a wakeup racing close() must not write to a reused fd number. */
    private final Object wakeLock = new Object();
    private volatile boolean closed; // written under wakeLock
    private Reg[] byFd = new Reg[1024];
    private int generation;
    private int readyCount;

    EpollBackend(TulipLoop loop) throws IOException {
        this.loop = loop;
        events = arena.allocate(EVENT_SIZE * MAX_EVENTS, 8);
        ctlEvent = arena.allocate(16, 8);
        errnoSeg = arena.allocate(Libc.CAPTURE_SIZE, 8);
        drain = arena.allocate(8, 8);
        one = arena.allocateFrom(ValueLayout.JAVA_LONG, 1L);
        int ep;
        int wf;
        try {
            ep = (int) EPOLL_CREATE1.invokeExact(errnoSeg, EPOLL_CLOEXEC);
            if (ep < 0) {
                throw errnoException("epoll_create1", errno());
            }
            wf = (int) EVENTFD.invokeExact(errnoSeg, 0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (wf < 0) {
                int e = errno();
                closeFd(ep);
                throw errnoException("eventfd", e);
            }
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        } catch (Throwable t) {
            arena.close();
            throw new IllegalStateException(t);
        }
        epfd = ep;
        wakeFd = wf;
        int rc = ctl(EPOLL_CTL_ADD, wakeFd, EPOLLIN, WAKE_TAG);
        if (rc != 0) {
            close();
            throw errnoException("epoll_ctl(eventfd)", rc);
        }
    }

    @Override
    public String name() {
        return "epoll";
    }

    /** The fd of a JDK channel. */
    static int fdOf(SelectableChannel channel) throws IOException {
        try {
            return (int) GET_FD.invokeExact(channel);
        } catch (ClassCastException e) {
            throw new IOException("the epoll backend cannot watch " + channel.getClass().getName()
                    + " (not a JDK socket, datagram or pipe channel)", e);
        } catch (Throwable t) {
            throw new IOException("cannot read the fd of " + channel, t);
        }
    }

    @Override
    public IoRegistration register(SelectableChannel channel, int ops, IoHandler handler, ScopeImpl scope)
            throws IOException {
        if (closed) {
            throw new java.nio.channels.ClosedSelectorException();
        }
        if (channel.isBlocking()) {
            channel.configureBlocking(false);
        }
        if (!channel.isOpen()) {
            throw new ClosedChannelException();
        }
        int fd = fdOf(channel);
        if (fd < 0) {
            throw new ClosedChannelException();
        }
        if (fd >= byFd.length) {
            byFd = Arrays.copyOf(byFd, Math.max(fd + 1, byFd.length * 2));
        }
        Reg old = byFd[fd];
        if (old != null && !old.deregistered && old.channel == channel && channel.isOpen()) {
            // Two owners of one channel would steal each other's events: refused, as the Selector backend does (the
            // IoBackend contract; asyncio refuses add_reader on a transport's socket for the same reason).
            throw new IllegalStateException("channel is already registered with this event loop (by a transport or "
                    + "addReader/addWriter): " + channel);
        } else if (old != null) {
            old.deregistered = true; // a closed channel's leftover: its fd number was reused
        }
        if (++generation <= 0) {
            generation = 1;
        }
        Reg reg = new Reg(this, channel, fd, generation, handler, scope);
        reg.ops = ops;
        int rc = ctl(EPOLL_CTL_ADD, fd, toEpoll(ops), reg.tag());
        if (rc == EEXIST) {
            rc = ctl(EPOLL_CTL_MOD, fd, toEpoll(ops), reg.tag());
        }
        if (rc != 0) {
            if (rc == EBADF || !channel.isOpen()) {
                throw new ClosedChannelException();
            }
            throw errnoException("epoll_ctl(ADD, " + fd + ")", rc);
        }
        byFd[fd] = reg;
        return reg;
    }

    private static int toEpoll(int ops) {
        int ev = 0;
        if ((ops & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
            ev |= EPOLLIN;
        }
        if ((ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
            ev |= EPOLLOUT;
        }
        return ev == 0 ? EPOLLET : ev; // see the class comment: no interest must not report HUP/ERR forever
    }

    @Override
    public int poll(long timeoutNanos) throws IOException {
        if (closed) {
            throw new java.nio.channels.ClosedSelectorException();
        }
        int millis;
        if (timeoutNanos == 0) {
            millis = 0;
        } else if (timeoutNanos < 0) {
            millis = -1;
        } else {
            // Round up: a timer due in 0.3 ms must not make us spin with a 0 ms wait.
            millis = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (timeoutNanos + 999_999) / 1_000_000));
        }
        int n;
        try {
            n = (int) EPOLL_WAIT.invokeExact(errnoSeg, epfd, events, MAX_EVENTS, millis);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        readyCount = 0;
        if (n < 0) {
            int e = errno();
            if (e == EINTR) {
                return 0; // a signal: the loop recomputes its timeout and polls again
            }
            throw errnoException("epoll_wait", e);
        }
        MemorySegment ev = events;
        Reg[] regs = byFd;
        for (int k = 0; k < n; k++) {
            long base = k * EVENT_SIZE;
            int bits = ev.get(ValueLayout.JAVA_INT_UNALIGNED, base);
            long data = ev.get(ValueLayout.JAVA_LONG_UNALIGNED, base + DATA_OFFSET);
            if (data == WAKE_TAG) {
                drainWakeups();
                continue;
            }
            int fd = (int) data;
            Reg reg = fd < regs.length ? regs[fd] : null;
            if (reg == null || reg.generation != (int) (data >>> 32) || reg.deregistered) {
                continue; // a previous owner of this fd number
            }
            if (reg.isCancelled()) {
                reg.deregister(); // its scope was cancelled and nobody deregistered it
                continue;
            }
            int interest = reg.ops;
            int ready;
            if ((bits & (EPOLLERR | EPOLLHUP)) != 0) {
                ready = interest; // let the transport's read/write/finishConnect see the error or the EOF
            } else {
                ready = 0;
                if ((bits & EPOLLIN) != 0) {
                    ready |= interest & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT);
                }
                if ((bits & EPOLLOUT) != 0) {
                    ready |= interest & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT);
                }
            }
            if (ready == 0) {
                continue;
            }
            reg.readyOps = ready;
            readyCount++;
            loop.enqueue(reg);
        }
        return readyCount;
    }

    private void drainWakeups() {
        try {
            long r;
            do {
                r = (long) READ.invokeExact(errnoSeg, wakeFd, drain, 8L);
            } while (r < 0 && errno() == EINTR);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void wakeup() {
        synchronized (wakeLock) {
            if (closed) {
                return;
            }
            try {
                // EAGAIN (the counter is full) means a wake-up is already pending: nothing to do.
                long r = (long) WRITE.invokeExact(wakeFd, one, 8L);
                if (r < 0) {
                    r = (long) WRITE.invokeExact(wakeFd, one, 8L); // once more, for EINTR
                }
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }
    }

    @Override
    public void close() {
        synchronized (wakeLock) {
            if (closed) {
                return;
            }
            closed = true;
            for (Reg r : byFd) {
                if (r != null) {
                    r.deregistered = true;
                }
            }
            Arrays.fill(byFd, null);
            closeFd(wakeFd);
            closeFd(epfd);
            arena.close();
        }
    }

    /** epoll_ctl; returns 0 or the errno. */
    private int ctl(int op, int fd, int bits, long data) {
        if (closed) {
            return EBADF; // never touch epfd's number after close: it may belong to someone else by now
        }
        MemorySegment e = ctlEvent;
        e.set(ValueLayout.JAVA_INT_UNALIGNED, 0, bits);
        e.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, data);
        try {
            int rc;
            do {
                rc = (int) EPOLL_CTL.invokeExact(errnoSeg, epfd, op, fd, e);
            } while (rc < 0 && errno() == EINTR);
            return rc < 0 ? errno() : 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private int errno() {
        return Libc.errno(errnoSeg);
    }

    private static void closeFd(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static IOException errnoException(String call, int errno) {
        return new IOException(call + " failed: errno " + errno);
    }

    /** The number of registrations in the fd table (test hook). Loop thread only. */
    int registeredCount() {
        int n = 0;
        for (Reg r : byFd) {
            if (r != null && !r.deregistered) {
                n++;
            }
        }
        return n;
    }

    /** One channel's registration: its fd, a generation that tells it apart from a later owner of the fd. */
    private static final class Reg extends IoRegistration {
        final EpollBackend backend;
        final SelectableChannel channel;
        final int fd;
        final int generation;
        int ops;
        boolean deregistered;

        Reg(EpollBackend backend, SelectableChannel channel, int fd, int generation, IoHandler handler,
            ScopeImpl scope) {
            super(handler, scope);
            this.backend = backend;
            this.channel = channel;
            this.fd = fd;
            this.generation = generation;
        }

        long tag() {
            return ((long) generation << 32) | (fd & 0xFFFF_FFFFL);
        }

        @Override
        public void interestOps(int newOps) {
            if (newOps == ops || !isRegistered()) {
                return;
            }
            int rc = backend.ctl(EPOLL_CTL_MOD, fd, toEpoll(newOps), tag());
            if (rc == 0) {
                ops = newOps;
            } else if (rc == EBADF || rc == ENOENT || !channel.isOpen()) {
                // Closed under us (another thread): the kernel already dropped it. Like a cancelled key.
                forget();
            } else {
                throw new java.io.UncheckedIOException(errnoException("epoll_ctl(MOD, " + fd + ")", rc));
            }
        }

        @Override
        public int interestOps() {
            return ops;
        }

        @Override
        public void deregister() {
            if (deregistered) {
                return;
            }
            if (channel.isOpen() && !backend.isClosed()) {
                // Still open, so the fd is still ours: remove it from the kernel. ENOENT/EBADF mean a close
                // raced us (the kernel dropped it with the close): fine.
                backend.ctl(EPOLL_CTL_DEL, fd, 0, 0);
            }
            forget();
        }

        private void forget() {
            deregistered = true;
            Reg[] t = backend.byFd;
            if (fd < t.length && t[fd] == this) {
                t[fd] = null;
            }
        }

        @Override
        public boolean isRegistered() {
            return !deregistered && channel.isOpen();
        }

        @Override
        protected void fire() throws Exception {
            if (isRegistered()) {
                super.fire();
            }
        }
    }

    private boolean isClosed() {
        return closed;
    }
}
