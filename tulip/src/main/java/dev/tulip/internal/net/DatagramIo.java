package dev.tulip.internal.net;

import dev.tulip.internal.loop.NativeIo;
import dev.tulip.internal.loop.TulipLoop;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a datagram endpoint receives, and sends while it delivers what it received: one datagram per
 * {@link DatagramChannel#receive} (the Selector backend, and anywhere native access is missing), or a batch per
 * {@code recvmmsg(2)} into per-loop native buffers when the loop runs the epoll backend, with the replies made during
 * its delivery staged and sent by one {@code sendmmsg(2)} after it. Chosen once per endpoint by {@link #of}; the
 * transport calls it and never asks which.
 *
 * <p>Protocol: {@link #receive} fills slots {@code 0 .. count-1}; {@link #length}, {@link #data} and {@link #source}
 * then describe datagram {@code i} until the next {@code receive} on any endpoint of the loop (the buffers are the
 * loop's). {@link #length} is the datagram's size as the kernel reports it, which may exceed what {@link #data} holds:
 * the transport compares it with the endpoint's {@code maxDatagramSize} and never delivers a truncated datagram.
 * Other sends (outside a batch's delivery, and the flush of the queue of datagrams that would have blocked) use the
 * channel on both paths.
 *
 * <p>Loop thread only.
 */
sealed interface DatagramIo permits DatagramIo.Channel, DatagramIo.Native {
    /** The size of the Selector path's receive buffer: larger than any UDP payload, so the JDK never truncates. */
    int CHANNEL_BUFFER_SIZE = 65_536;

    /**
     * Receives up to {@code max} datagrams (at least 1).
     *
     * @return how many arrived; 0 if none was waiting
     * @throws java.net.PortUnreachableException an ICMP error about an earlier datagram of a connected endpoint,
     *         consumed by this call (more datagrams may be waiting)
     * @throws ClosedChannelException the channel is closed
     * @throws IOException any other error of the socket
     */
    int receive(int max) throws IOException;

    /**
     * Whether the last {@link #receive}, which returned {@code count} of {@code max}, emptied the socket: the transport
     * stops its batch there instead of paying a system call to hear "would block".
     */
    boolean drained(int count, int max);

    /** The size of datagram {@code i}: bytes in {@link #data} unless larger than the endpoint accepts. */
    int length(int i);

    /** Datagram {@code i}'s bytes between position 0 and its length; valid until the next receive. */
    ByteBuffer data(int i);

    /** Datagram {@code i}'s sender. */
    SocketAddress source(int i);

    /**
     * Whether sends made while received datagrams are delivered may be staged ({@link #stage}) and sent together
     * after the batch ({@link #sendStaged}). False for the channel, which sends each datagram at once.
     */
    boolean gathersSends();

    /**
     * Copies {@code data} (position to limit; the position moves to the limit) and its target into the staged batch.
     *
     * @return false, having done nothing, if the batch has no room (send it first) or cannot take this target
     */
    boolean stage(ByteBuffer data, InetSocketAddress to);

    /** How many datagrams are staged. */
    int staged();

    /**
     * Sends the staged datagrams from {@code first} on, in order.
     *
     * @return how many went out, from {@code first}; 0 if the socket would block
     * @throws java.net.PortUnreachableException an ICMP error about an earlier datagram of a connected endpoint,
     *         reported instead of sending datagram {@code first}
     * @throws IOException the error of datagram {@code first}, which was not sent
     */
    int sendStaged(int first) throws IOException;

    /** A heap copy of staged datagram {@code i} (to queue it when the socket would block). */
    ByteBuffer stagedCopy(int i);

    /** Staged datagram {@code i}'s target. */
    InetSocketAddress stagedTarget(int i);

    /** Forgets the staged datagrams. */
    void clearStaged();

    /** The strategy for {@code channel} on {@code loop}: native when the loop runs epoll, else the channel's. */
    static DatagramIo of(TulipLoop loop, DatagramChannel channel, int maxDatagramSize) throws IOException {
        if (StreamIo.NATIVE_ON_EPOLL && "epoll".equals(loop.backendName())) {
            return new Native(channel, NativeIo.fdOf(channel), NativeIo.of(loop),
                    loop.local(RecvBuffers.class, l -> new RecvBuffers()),
                    loop.local(SendBuffers.class, l -> new SendBuffers()), maxDatagramSize,
                    channel.isConnected());
        }
        return new Channel(channel, Channel.buffer(loop));
    }

    /** {@link DatagramChannel#receive} into one direct buffer per loop, one datagram per call, as always. */
    final class Channel implements DatagramIo {
        /** One receive buffer per loop: one callback of a loop runs at a time, so endpoints never share it at once. */
        private static final Map<TulipLoop, ByteBuffer> BUFFERS = new ConcurrentHashMap<>();

        private final DatagramChannel channel;
        private final ByteBuffer buffer;
        private SocketAddress from;

        Channel(DatagramChannel channel, ByteBuffer buffer) {
            this.channel = channel;
            this.buffer = buffer;
        }

        static ByteBuffer buffer(TulipLoop loop) {
            return BUFFERS.computeIfAbsent(loop, l -> {
                l.addCloseHook(() -> BUFFERS.remove(l));
                return ByteBuffer.allocateDirect(CHANNEL_BUFFER_SIZE);
            });
        }

        @Override
        public int receive(int max) throws IOException {
            buffer.clear();
            from = channel.receive(buffer);
            if (from == null) {
                return 0; // would block, or EINTR (the JDK answers null for both): the selector reports it again
            }
            buffer.flip();
            return 1;
        }

        @Override
        public boolean drained(int count, int max) {
            return count == 0;
        }

        @Override
        public int length(int i) {
            return buffer.remaining();
        }

        @Override
        public ByteBuffer data(int i) {
            return buffer;
        }

        @Override
        public SocketAddress source(int i) {
            return from;
        }

        @Override
        public boolean gathersSends() {
            return false;
        }

        @Override
        public boolean stage(ByteBuffer data, InetSocketAddress to) {
            return false;
        }

        @Override
        public int staged() {
            return 0;
        }

        @Override
        public int sendStaged(int first) {
            throw new UnsupportedOperationException("the channel sends each datagram at once");
        }

        @Override
        public ByteBuffer stagedCopy(int i) {
            throw new IndexOutOfBoundsException(i);
        }

        @Override
        public InetSocketAddress stagedTarget(int i) {
            throw new IndexOutOfBoundsException(i);
        }

        @Override
        public void clearStaged() {
        }
    }

    /**
     * {@code recvmmsg(2)} on the channel's fd: up to {@link RecvBuffers#SLOTS} datagrams per system call. Each slot
     * offers the kernel {@code maxDatagramSize + 1} bytes and the call passes {@code MSG_TRUNC}, so that
     * {@code msg_len} is the datagram's real size (Linux does this for UDP since 2.6.8): a datagram larger than the
     * endpoint accepts is seen as such, and reported with its size, never delivered cut. As for {@link StreamIo}, the
     * fd number is read once and every call first checks the channel is still open.
     *
     * <p>Source addresses are decoded from the slot's {@code sockaddr_in}/{@code sockaddr_in6}; the last one is kept
     * with its raw bytes, so a peer that sends again (the common case: a client, or a burst from one peer) costs no
     * allocation.
     */
    final class Native implements DatagramIo {
        // <sys/socket.h>, <netinet/in.h> (Linux, the same on x86-64 and aarch64)
        static final int MSG_TRUNC = 0x20;
        static final int MSG_DONTWAIT = 0x40;
        static final int AF_INET = 2;
        static final int AF_INET6 = 10;

        private final DatagramChannel channel;
        private final int fd;
        private final NativeIo io;
        private final RecvBuffers buffers;
        private final SendBuffers out;
        /** Connected: staged datagrams carry no address (the kernel sends to the peer, as write(2) would). */
        private final boolean connected;
        /** The socket's address family, as its received sources say (AF_INET6 for dual-stack); 0 before any. */
        private int socketFamily;
        /** What each slot offers the kernel: one byte more than the endpoint accepts. */
        private final int slotLength;
        private final int maxDatagramSize;
        // The last decoded source: its raw sockaddr (family, port and address; the scope id for IPv6) and the
        // address made from it.
        private long lastHead;
        private long lastHigh;
        private long lastLow;
        private int lastScope;
        private InetSocketAddress lastSource;

        Native(DatagramChannel channel, int fd, NativeIo io, RecvBuffers buffers, SendBuffers out, int maxDatagramSize,
               boolean connected) {
            this.channel = channel;
            this.fd = fd;
            this.io = io;
            this.buffers = buffers;
            this.out = out;
            this.connected = connected;
            this.maxDatagramSize = maxDatagramSize;
            this.slotLength = maxDatagramSize + 1;
        }

        @Override
        public int receive(int max) throws IOException {
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            int vlen = Math.min(max, RecvBuffers.SLOTS);
            long msgvec = buffers.prepare(slotLength, vlen);
            int n = io.recvmmsg(fd, msgvec, vlen, MSG_DONTWAIT | MSG_TRUNC);
            if (n == NativeIo.WOULD_BLOCK) {
                return 0;
            }
            socketFamily = buffers.names.get(ValueLayout.JAVA_SHORT, 0) & 0xFFFF;
            return n;
        }

        @Override
        public boolean drained(int count, int max) {
            // recvmmsg on a non-blocking socket stops at the first "would block". It also stops early, with what it
            // has, at an error after the first datagram, and keeps the error for the next call: the socket then
            // stays readable and the (level-triggered) backend reports it again.
            return count < Math.min(max, RecvBuffers.SLOTS);
        }

        @Override
        public int length(int i) {
            int n = buffers.length(i);
            if ((buffers.flags(i) & MSG_TRUNC) != 0 && n <= maxDatagramSize) {
                return slotLength; // cut, and a kernel that did not report the real size: too large, size unknown
            }
            return n;
        }

        @Override
        public ByteBuffer data(int i) {
            ByteBuffer b = buffers.view(i);
            b.clear();
            b.limit(Math.min(buffers.length(i), slotLength));
            return b;
        }

        @Override
        public SocketAddress source(int i) {
            MemorySegment names = buffers.names;
            long off = RecvBuffers.NAME_SIZE * (long) i;
            long head = names.get(ValueLayout.JAVA_LONG, off); // family (2 bytes), port (2), IPv4 address or flowinfo
            int family = names.get(ValueLayout.JAVA_SHORT, off) & 0xFFFF;
            long high = 0;
            long low = 0;
            int scope = 0;
            if (family == AF_INET6) {
                high = names.get(ValueLayout.JAVA_LONG, off + 8);
                low = names.get(ValueLayout.JAVA_LONG, off + 16);
                scope = names.get(ValueLayout.JAVA_INT, off + 24);
            } else if (family != AF_INET) {
                throw new IllegalStateException("recvmmsg returned a source of address family " + family);
            }
            InetSocketAddress last = lastSource;
            if (last != null && head == lastHead && high == lastHigh && low == lastLow && scope == lastScope) {
                return last;
            }
            InetSocketAddress decoded = decode(names, off, family, scope);
            lastHead = head;
            lastHigh = high;
            lastLow = low;
            lastScope = scope;
            lastSource = decoded;
            return decoded;
        }

        @Override
        public boolean gathersSends() {
            return true;
        }

        @Override
        public boolean stage(ByteBuffer data, InetSocketAddress to) {
            // Staging happens while a received batch is delivered, so the socket's family is known by then.
            if (socketFamily == 0 || (out.count > 0 && out.owner != this)) {
                return false;
            }
            out.owner = this;
            return out.stage(data, to, connected ? 0 : socketFamily);
        }

        @Override
        public int staged() {
            return out.owner == this ? out.count : 0;
        }

        @Override
        public int sendStaged(int first) throws IOException {
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            int n = io.sendmmsg(fd, out.headersAddress + SendBuffers.MMSGHDR_SIZE * first, out.count - first, 0);
            return n == NativeIo.WOULD_BLOCK ? 0 : n;
        }

        @Override
        public ByteBuffer stagedCopy(int i) {
            return out.copy(i);
        }

        @Override
        public InetSocketAddress stagedTarget(int i) {
            return out.targets[i];
        }

        @Override
        public void clearStaged() {
            if (out.owner == this) { // another endpoint closed meanwhile must not drop this one's datagrams
                out.clear();
            }
        }

        /** A sockaddr_in or sockaddr_in6 at {@code off}; an IPv4-mapped IPv6 source becomes IPv4, as the JDK does. */
        private static InetSocketAddress decode(MemorySegment names, long off, int family, int scope) {
            int port = (names.get(ValueLayout.JAVA_BYTE, off + 2) & 0xFF) << 8
                    | (names.get(ValueLayout.JAVA_BYTE, off + 3) & 0xFF);
            byte[] raw = family == AF_INET
                    ? names.asSlice(off + 4, 4).toArray(ValueLayout.JAVA_BYTE)
                    : names.asSlice(off + 8, 16).toArray(ValueLayout.JAVA_BYTE);
            try {
                InetAddress a = InetAddress.getByAddress(raw); // IPv4-mapped bytes give an Inet4Address
                if (scope != 0 && a instanceof Inet6Address) {
                    a = Inet6Address.getByAddress(null, raw, scope);
                }
                return new InetSocketAddress(a, port);
            } catch (UnknownHostException e) {
                throw new IllegalStateException("bad address length " + raw.length, e); // 4 or 16 bytes: cannot be
            }
        }
    }

    /**
     * The native memory of a loop's batched receives, shared by its endpoints (one callback of a loop runs at a
     * time, and an endpoint consumes a batch before it returns to the loop): {@value #SLOTS} {@code struct mmsghdr},
     * each with one {@code struct iovec}, a {@code sockaddr_storage} for the source, and a data slot.
     *
     * <p>Slot size: the largest {@code maxDatagramSize + 1} of the loop's endpoints, so 64 KiB per slot (4 MiB of
     * address space per loop) with the default maximum; the memory is reserved when the first native endpoint reads,
     * and only the pages datagrams reach are touched. Freed with the loop (an automatic arena).
     *
     * <p>Layouts (Linux, identical on x86-64 and aarch64): {@code struct msghdr} is 56 bytes ({@code msg_name} at 0,
     * {@code msg_namelen} at 8, {@code msg_iov} at 16, {@code msg_iovlen} at 24, {@code msg_control} at 32,
     * {@code msg_controllen} at 40, {@code msg_flags} at 48), {@code struct mmsghdr} adds {@code msg_len} at 56 and
     * pads to 64; {@code struct iovec} is 16 bytes; {@code sockaddr_storage} 128.
     *
     * <p>Loop thread only.
     */
    final class RecvBuffers {
        static final int SLOTS = 64;
        static final long MMSGHDR_SIZE = 64;
        static final long IOVEC_SIZE = 16;
        static final long NAME_SIZE = 128;
        private static final long MSG_NAME = 0;
        private static final long MSG_NAMELEN = 8;
        private static final long MSG_IOV = 16;
        private static final long MSG_IOVLEN = 24;
        private static final long MSG_FLAGS = 48;
        private static final long MSG_LEN = 56;

        private final MemorySegment headers;
        private final MemorySegment iovecs;
        final MemorySegment names;
        private final long headersAddress;
        /** The data slots, their stride, and a buffer view of each (null until the first receive). */
        private ByteBuffer[] views;
        private int stride;
        /** The iov_len now written in every iovec. */
        private int offered = -1;

        RecvBuffers() {
            Arena arena = Arena.ofAuto();
            headers = arena.allocate(MMSGHDR_SIZE * SLOTS, 8);
            iovecs = arena.allocate(IOVEC_SIZE * SLOTS, 8);
            names = arena.allocate(NAME_SIZE * SLOTS, 8);
            headersAddress = headers.address();
            for (int i = 0; i < SLOTS; i++) {
                long h = MMSGHDR_SIZE * i;
                headers.set(ValueLayout.JAVA_LONG, h + MSG_NAME, names.address() + NAME_SIZE * i);
                headers.set(ValueLayout.JAVA_LONG, h + MSG_IOV, iovecs.address() + IOVEC_SIZE * i);
                headers.set(ValueLayout.JAVA_LONG, h + MSG_IOVLEN, 1);
                // msg_control and msg_controllen stay 0 (allocate zeroes): no ancillary data
            }
        }

        /**
         * Lays out the first {@code vlen} headers for a receive offering {@code slotLength} bytes per datagram
         * (growing the data slots if they are smaller), and returns the header array's address.
         */
        long prepare(int slotLength, int vlen) {
            if (slotLength > stride) {
                grow(slotLength);
            }
            if (slotLength != offered) {
                for (int i = 0; i < SLOTS; i++) {
                    iovecs.set(ValueLayout.JAVA_LONG, IOVEC_SIZE * i + 8, slotLength);
                }
                offered = slotLength;
            }
            for (int i = 0; i < vlen; i++) {
                headers.set(ValueLayout.JAVA_INT, MMSGHDR_SIZE * i + MSG_NAMELEN, (int) NAME_SIZE); // in-out
            }
            return headersAddress;
        }

        private void grow(int slotLength) {
            int newStride = (slotLength + 63) & ~63; // cache-line aligned slots
            MemorySegment data = Arena.ofAuto().allocate((long) newStride * SLOTS, 64);
            ByteBuffer[] v = new ByteBuffer[SLOTS];
            for (int i = 0; i < SLOTS; i++) {
                MemorySegment slot = data.asSlice((long) newStride * i, newStride);
                iovecs.set(ValueLayout.JAVA_LONG, IOVEC_SIZE * i, slot.address());
                v[i] = slot.asByteBuffer();
            }
            views = v;
            stride = newStride;
        }

        int length(int i) {
            return headers.get(ValueLayout.JAVA_INT, MMSGHDR_SIZE * i + MSG_LEN);
        }

        int flags(int i) {
            return headers.get(ValueLayout.JAVA_INT, MMSGHDR_SIZE * i + MSG_FLAGS);
        }

        ByteBuffer view(int i) {
            return views[i];
        }
    }

    /**
     * The native memory of a loop's gathered sends: up to {@value #SLOTS} datagrams and {@value #AREA} bytes, copied in
     * by {@link #stage} while one endpoint delivers a received batch, sent with one {@code sendmmsg} after it. Shared
     * by the loop's endpoints: one endpoint gathers at a time, and empties it before its batch ends. The target of the
     * previous datagram is kept with its encoded sockaddr, so replies to a repeating peer encode nothing.
     *
     * <p>Loop thread only.
     */
    final class SendBuffers {
        static final int SLOTS = 64;
        static final int AREA = 512 * 1024;
        static final long MMSGHDR_SIZE = 64;
        private static final long IOVEC_SIZE = 16;
        private static final long NAME_SIZE = 128;

        private final MemorySegment headers;
        private final MemorySegment iovecs;
        private final MemorySegment names;
        private final long namesAddress;
        private final long areaAddress;
        private final ByteBuffer area;
        final long headersAddress;
        final InetSocketAddress[] targets = new InetSocketAddress[SLOTS];
        private final int[] offsets = new int[SLOTS];
        private final int[] lengths = new int[SLOTS];
        int count;
        /** The endpoint whose datagrams are staged (one at a time). */
        Native owner;
        private int used;
        private InetSocketAddress lastTarget;
        private int lastFamily;
        private int lastSlot;
        private int lastNameLength;

        SendBuffers() {
            Arena arena = Arena.ofAuto();
            headers = arena.allocate(MMSGHDR_SIZE * SLOTS, 8);
            iovecs = arena.allocate(IOVEC_SIZE * SLOTS, 8);
            names = arena.allocate(NAME_SIZE * SLOTS, 8);
            MemorySegment data = arena.allocate(AREA, 64);
            headersAddress = headers.address();
            namesAddress = names.address();
            areaAddress = data.address();
            area = data.asByteBuffer();
            for (int i = 0; i < SLOTS; i++) {
                headers.set(ValueLayout.JAVA_LONG, MMSGHDR_SIZE * i + 16, iovecs.address() + IOVEC_SIZE * i); // msg_iov
                headers.set(ValueLayout.JAVA_LONG, MMSGHDR_SIZE * i + 24, 1); // msg_iovlen
            }
        }

        /** Stages a datagram for {@code to} on a socket of {@code family} (0: connected, no address). */
        boolean stage(ByteBuffer data, InetSocketAddress to, int family) {
            int len = data.remaining();
            if (count == SLOTS || len > AREA - used) {
                return false;
            }
            int i = count;
            long h = MMSGHDR_SIZE * i;
            if (family == 0) {
                headers.set(ValueLayout.JAVA_LONG, h, 0L); // msg_name
                headers.set(ValueLayout.JAVA_INT, h + 8, 0); // msg_namelen
            } else {
                int nameLength = encode(i, to, family);
                if (nameLength < 0) {
                    return false;
                }
                headers.set(ValueLayout.JAVA_LONG, h, namesAddress + NAME_SIZE * i);
                headers.set(ValueLayout.JAVA_INT, h + 8, nameLength);
            }
            area.put(used, data, data.position(), len);
            data.position(data.limit());
            iovecs.set(ValueLayout.JAVA_LONG, IOVEC_SIZE * i, areaAddress + used);
            iovecs.set(ValueLayout.JAVA_LONG, IOVEC_SIZE * i + 8, len);
            targets[i] = to;
            offsets[i] = used;
            lengths[i] = len;
            used += len;
            count++;
            return true;
        }

        /**
         * Writes {@code to} as a sockaddr_in (IPv4 socket) or sockaddr_in6 (IPv6 socket; an IPv4 target as
         * ::ffff:a.b.c.d) into name slot {@code i}; returns its length, or -1 for an IPv6 target on an IPv4 socket.
         */
        private int encode(int i, InetSocketAddress to, int family) {
            long off = NAME_SIZE * i;
            if (to == lastTarget && family == lastFamily) {
                MemorySegment.copy(names, NAME_SIZE * lastSlot, names, off, lastNameLength);
                lastSlot = i;
                return lastNameLength;
            }
            InetAddress a = to.getAddress();
            byte[] ip = a.getAddress();
            int port = to.getPort();
            if (family == Native.AF_INET && ip.length != 4) {
                return -1;
            }
            names.set(ValueLayout.JAVA_SHORT, off, (short) family);
            names.set(ValueLayout.JAVA_BYTE, off + 2, (byte) (port >>> 8));
            names.set(ValueLayout.JAVA_BYTE, off + 3, (byte) port);
            int nameLength;
            if (family == Native.AF_INET) {
                MemorySegment.copy(ip, 0, names, ValueLayout.JAVA_BYTE, off + 4, 4);
                names.set(ValueLayout.JAVA_LONG, off + 8, 0L); // sin_zero
                nameLength = 16;
            } else {
                names.set(ValueLayout.JAVA_INT, off + 4, 0); // sin6_flowinfo
                int scope = 0;
                if (ip.length == 4) {
                    names.set(ValueLayout.JAVA_LONG, off + 8, 0L);
                    names.set(ValueLayout.JAVA_INT, off + 16, 0);
                    names.set(ValueLayout.JAVA_BYTE, off + 18, (byte) 0xFF);
                    names.set(ValueLayout.JAVA_BYTE, off + 19, (byte) 0xFF);
                    MemorySegment.copy(ip, 0, names, ValueLayout.JAVA_BYTE, off + 20, 4);
                } else {
                    MemorySegment.copy(ip, 0, names, ValueLayout.JAVA_BYTE, off + 8, 16);
                    scope = ((Inet6Address) a).getScopeId();
                }
                names.set(ValueLayout.JAVA_INT, off + 24, scope);
                nameLength = 28;
            }
            lastTarget = to;
            lastFamily = family;
            lastSlot = i;
            lastNameLength = nameLength;
            return nameLength;
        }

        ByteBuffer copy(int i) {
            ByteBuffer b = ByteBuffer.allocate(lengths[i]);
            b.put(0, area, offsets[i], lengths[i]);
            return b;
        }

        void clear() {
            java.util.Arrays.fill(targets, 0, count, null);
            count = 0;
            used = 0;
            owner = null;
        }
    }
}
