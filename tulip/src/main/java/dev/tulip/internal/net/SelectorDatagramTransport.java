package dev.tulip.internal.net;

import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.internal.loop.IoHandler;
import dev.tulip.internal.loop.IoRegistration;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramProtocol;
import dev.tulip.transport.DatagramTransport;
import dev.tulip.transport.TransportInfo;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;

/**
 * A UDP endpoint over a non-blocking {@link DatagramChannel} watched by the loop's I/O backend.
 *
 * <p>Design note. Reading: on each readiness event the endpoint receives datagrams until the socket would block, at
 * most {@link #READ_BATCH} of them, so one busy endpoint cannot starve the rest of the loop (the selector is
 * level-triggered: what is left is reported again at the next pass). How they are received is {@link DatagramIo}'s
 * business: on the Selector backend one {@code DatagramChannel.receive} per datagram into one direct buffer of 64 KiB
 * shared by all endpoints of a loop (larger than any legal UDP payload, so the JDK's {@code receive}, which truncates
 * silently, never truncates); on the epoll backend one {@code recvmmsg} per readiness event for the whole batch, into
 * the loop's native slots of {@code maxDatagramSize + 1} bytes, with the datagram's real size from the kernel. Either
 * way a datagram larger than {@code maxDatagramSize} is reported and dropped. Writing: on epoll, sends made while a
 * received batch is delivered are staged and leave together after it (one {@code sendmmsg}); otherwise a send goes
 * straight to the kernel (the channel's send); only when
 * the kernel says it would block (or earlier datagrams are still queued, to keep order) is the datagram copied into
 * {@link #queue}, which is flushed when the socket is writable.
 *
 * <p>Interrupted system calls ({@code EINTR}) are treated as would-block ({@code EAGAIN}), as the design notes ask: a
 * receive that answers nothing stops the batch (the level-triggered selector reports the socket again), a send that
 * sent nothing (the JDK answers 0 or a negative status) is queued and retried when the socket is writable. A Java
 * interrupt of the loop thread is another matter: the JDK closes an interruptible channel used by an interrupted
 * thread ({@link java.nio.channels.ClosedByInterruptException}), and the endpoint ends with that cause.
 *
 * <p>Loop thread only. Fields are guarded by the loop thread.
 */
public final class SelectorDatagramTransport implements DatagramTransport, IoHandler {
    /** Datagrams received per readiness event at most ({@code -Dtulip.datagram.readBatch}, for measurements). */
    static final int READ_BATCH = Math.max(1, Integer.getInteger("tulip.datagram.readBatch", 64));
    /** What each queued datagram counts beyond its bytes (its UDP header), so empty datagrams count too. */
    private static final int DATAGRAM_OVERHEAD = 8;
    private static final int DEFAULT_HIGH_WATER = 64 * 1024;
    private static final int DEFAULT_LOW_WATER = 16 * 1024;

    private static final int OPEN = 0;
    /** close() was called: not reading, flushing the queue, then CLOSED. */
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    private final TulipLoop loop;
    private final DatagramChannel channel;
    private final DatagramProtocol protocol;
    /** The connected peer, or null for an unconnected endpoint. */
    private final InetSocketAddress remote;
    private final DatagramOptions.Family family;
    private final int maxDatagramSize;
    /** How datagrams are received: the channel's receive, or recvmmsg batches on the epoll backend. */
    private final DatagramIo io;
    private final TransportInfo info;
    /** The creation future: cancelled if the endpoint closes before it is ready (its scope was cancelled). */
    private final Future<?> startFuture;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private IoRegistration registration;
    /** The cancel action on the scope current at creation; cancelled when the endpoint closes by itself. */
    private Handle scopeAction;
    private int state = OPEN;
    /** connectionMade ran: reading may start, and connectionLost is owed. */
    private boolean made;
    private long queuedBytes;
    private int highWater = DEFAULT_HIGH_WATER;
    private int lowWater = DEFAULT_LOW_WATER;
    private boolean writingPaused;
    /** A received batch is being delivered: sends are staged in {@link #io} (epoll), sent after it. */
    private boolean gathering;
    /** {@link #flushStaged} runs: a send from errorReceived queues behind the staged datagrams. */
    private boolean flushingStaged;
    private Map<Membership, MembershipKey> memberships;
    /**
     * Test seam: the kernel's loopback device never makes a UDP send would-block (it releases the sender's buffer
     * at once), so tests of the send queue make the transport see "would block" here instead.
     */
    boolean sendWouldBlockForTest;
    /** Test seam, likewise: sendmmsg of the datagrams staged during a batch answers "would block". */
    boolean stagedSendWouldBlockForTest;

    SelectorDatagramTransport(TulipLoop loop, DatagramChannel channel, DatagramProtocol protocol,
                              InetSocketAddress remote, DatagramOptions.Family family, int maxDatagramSize,
                              Future<?> startFuture) throws IOException {
        this.startFuture = startFuture;
        this.loop = loop;
        this.channel = channel;
        this.protocol = protocol;
        this.remote = remote;
        this.family = family;
        this.maxDatagramSize = maxDatagramSize;
        this.io = DatagramIo.of(loop, channel, maxDatagramSize);
        this.info = TransportInfo.plain(channel.getLocalAddress(), remote, channel);
    }

    /** Registers with the backend (interest off until connectionMade) and with the current scope. */
    void register() throws IOException {
        registration = loop.register(channel, 0, this);
        ScopeImpl scope = loop.currentScopeImpl();
        scopeAction = scope.onCancel(() -> forceClose(
                new CancellationException("scope '" + scope.name() + "' was cancelled: datagram endpoint closed")));
    }

    /**
     * Runs connectionMade and starts reading.
     *
     * @return null if the endpoint is ready (the protocol may have closed it already, which is its right), or why it
     *         is not: the endpoint was closed before, or connectionMade threw
     */
    Throwable start() {
        if (state == CLOSED) {
            return new IllegalStateException("datagram endpoint was closed before it was ready");
        }
        made = true;
        try {
            protocol.connectionMade(this);
        } catch (RuntimeException | Error e) {
            protocolFailed("connectionMade", e);
            return e;
        }
        updateInterest();
        return null;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Readiness
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void ioReady(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0 && !queue.isEmpty()) {
            flush();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0 && state == OPEN && made) {
            readBatch();
        }
    }

    private void readBatch() {
        // Sends the protocol makes while the batch is delivered (an echo, a reply) are staged and go out together
        // after it, with one sendmmsg, where the receive strategy can (epoll); in order, as sends always go.
        gathering = io.gathersSends() && !sendWouldBlockForTest;
        try {
            receiveBatch();
        } finally {
            gathering = false;
            if (io.staged() > 0) {
                if (state == CLOSED) {
                    io.clearStaged();
                } else {
                    flushStaged();
                }
            }
        }
    }

    private void receiveBatch() {
        DatagramIo in = io;
        int budget = READ_BATCH;
        while (budget > 0) {
            int count;
            try {
                count = in.receive(budget);
            } catch (PortUnreachableException e) {
                // ICMP port unreachable about an earlier datagram of a connected endpoint: the error is consumed by
                // this call, the endpoint lives on, and more datagrams may be waiting.
                deliverError(e);
                if (state != OPEN) {
                    return;
                }
                budget--;
                continue;
            } catch (ClosedChannelException e) {
                forceClose(e);
                return;
            } catch (IOException e) {
                deliverError(e);
                return;
            }
            for (int i = 0; i < count; i++) {
                int n = in.length(i);
                if (n > maxDatagramSize) {
                    deliverError(new IOException("datagram of " + (n >= DatagramIo.CHANNEL_BUFFER_SIZE
                            ? "more than 65535" : n) + " bytes from " + in.source(i)
                            + " dropped: larger than maxDatagramSize " + maxDatagramSize));
                } else {
                    try {
                        protocol.datagramReceived(in.data(i), in.source(i));
                    } catch (RuntimeException | Error e) {
                        protocolFailed("datagramReceived", e);
                        return;
                    }
                }
                if (state != OPEN) {
                    return; // the rest of a native batch is dropped with the endpoint, as the kernel would drop it
                }
            }
            if (in.drained(count, budget)) {
                return; // the level-triggered backend reports the socket again when more arrives
            }
            budget -= count;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Sending
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void sendTo(ByteBuffer data, SocketAddress target) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(target, "target address");
        checkOpen();
        InetSocketAddress to = checkTarget(target);
        if (remote != null && !remote.equals(to)) {
            throw new IllegalArgumentException("endpoint is connected to " + remote + ": cannot send to " + to);
        }
        checkSize(data, to);
        doSend(data, to);
    }

    @Override
    public void send(ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        checkOpen();
        if (remote == null) {
            throw new IllegalStateException("datagram endpoint is not connected: use sendTo(data, address)");
        }
        checkSize(data, remote);
        doSend(data, remote);
    }

    private void checkOpen() {
        loop.checkThread();
        if (state != OPEN) {
            throw new IllegalStateException("datagram endpoint is " + (state == CLOSING ? "closing" : "closed")
                    + ": cannot send");
        }
    }

    private InetSocketAddress checkTarget(SocketAddress target) {
        if (!(target instanceof InetSocketAddress to)) {
            throw new IllegalArgumentException("not an IP socket address: " + target + " ("
                    + target.getClass().getName() + ")");
        }
        if (to.isUnresolved()) {
            throw new IllegalArgumentException("unresolved address " + to + ": resolve it before sending");
        }
        if (to.getPort() == 0) {
            throw new IllegalArgumentException("cannot send to port 0: " + to);
        }
        InetAddress a = to.getAddress();
        if (family == DatagramOptions.Family.IPV4 && a instanceof Inet6Address) {
            throw new IllegalArgumentException("IPv6 address " + to + " for an IPv4 endpoint");
        }
        if (family == DatagramOptions.Family.IPV6 && a instanceof Inet4Address) {
            throw new IllegalArgumentException("IPv4 address " + to + " for an IPv6 endpoint (use Family.DUAL_STACK)");
        }
        return to;
    }

    private static void checkSize(ByteBuffer data, InetSocketAddress to) {
        int max = to.getAddress() instanceof Inet4Address ? MAX_IPV4_DATAGRAM : MAX_IPV6_DATAGRAM;
        if (data.remaining() > max) {
            throw new IllegalArgumentException("datagram of " + data.remaining() + " bytes is larger than UDP allows to "
                    + to + " (" + max + " bytes)");
        }
    }

    private void doSend(ByteBuffer data, InetSocketAddress to) {
        if (flushingStaged) {
            // errorReceived, called from flushStaged, sends again: after the staged datagrams not yet sent, so queued
            // (flushed when the socket is writable).
            enqueue(copyOf(data), to);
            return;
        }
        if (gathering && queue.isEmpty()) {
            if (io.stage(data, to)) {
                return;
            }
            flushStaged(); // no room: send what is staged, then stage this one
            if (state == CLOSED) {
                return; // errorReceived aborted the endpoint (or closed it, with nothing left to send)
            }
            if (queue.isEmpty() && io.stage(data, to)) {
                return;
            }
        }
        if (queue.isEmpty()) {
            int r = trySend(data, to);
            if (r != WOULD_BLOCK) {
                return;
            }
        }
        enqueue(copyOf(data), to);
    }

    private static ByteBuffer copyOf(ByteBuffer data) {
        ByteBuffer copy = ByteBuffer.allocate(data.remaining());
        copy.put(data).flip();
        return copy;
    }

    /** Queues a datagram (the transport's own copy) behind the others, with flow control. */
    private void enqueue(ByteBuffer copy, InetSocketAddress to) {
        queue.addLast(new Pending(copy, to));
        queuedBytes += copy.remaining() + DATAGRAM_OVERHEAD;
        updateInterest();
        if (!writingPaused && queuedBytes > highWater) {
            writingPaused = true;
            callPauseResume(true);
        }
    }

    /**
     * Sends the staged datagrams, as many per system call as the kernel takes. As for single sends: an error about a
     * datagram goes to errorReceived and that datagram is lost, except an ICMP error reported instead of sending it
     * (connected endpoints), after which it is tried once more; what the kernel has no room for is queued, in order.
     */
    private void flushStaged() {
        flushingStaged = true;
        try {
            sendStaged();
        } finally {
            flushingStaged = false;
            io.clearStaged();
        }
        if (state == CLOSING) { // close() was called meanwhile (by errorReceived), or is the caller
            updateInterest();
            if (queue.isEmpty()) {
                finish(null);
            }
        }
    }

    private void sendStaged() {
        int count = io.staged();
        int next = 0;
        boolean retried = false;
        while (next < count) {
            int n;
            try {
                n = stagedSendWouldBlockForTest ? 0 : io.sendStaged(next);
            } catch (PortUnreachableException e) {
                deliverError(e);
                if (state == CLOSED) {
                    return;
                }
                if (retried) {
                    next++;
                }
                retried = !retried;
                continue;
            } catch (ClosedChannelException e) {
                forceClose(e);
                return;
            } catch (IOException e) {
                deliverError(e);
                if (state == CLOSED) {
                    return;
                }
                next++;
                retried = false;
                continue;
            }
            if (n == 0) {
                // Would block: the rest waits in the queue, ahead of what errorReceived sent during this flush;
                // flow control once, when the queue is in order (pauseWriting may send or close).
                ArrayDeque<Pending> later = new ArrayDeque<>(queue);
                queue.clear();
                for (int i = next; i < count; i++) {
                    ByteBuffer copy = io.stagedCopy(i);
                    queue.addLast(new Pending(copy, io.stagedTarget(i)));
                    queuedBytes += copy.remaining() + DATAGRAM_OVERHEAD;
                }
                queue.addAll(later);
                updateInterest();
                if (!writingPaused && queuedBytes > highWater) {
                    writingPaused = true;
                    callPauseResume(true);
                }
                return;
            }
            next += n;
            retried = false;
        }
    }

    private static final int SENT = 0;
    private static final int WOULD_BLOCK = 1;
    private static final int FAILED = 2;

    /** One send system call (two after an ICMP error); errors about the datagram go to errorReceived. */
    private int trySend(ByteBuffer data, InetSocketAddress to) {
        if (sendWouldBlockForTest) {
            return WOULD_BLOCK;
        }
        int want = data.remaining();
        for (int attempt = 0; ; attempt++) {
            try {
                int n = remote != null ? channel.write(data) : channel.send(data, to);
                // A non-blocking send answers 0 for "no room" (EAGAIN) and, in the JDK, a negative status for an
                // interrupted call (EINTR): both are retried when the socket is writable. For an empty datagram the
                // JDK cannot tell "sent" (0 bytes) from "no room" (0): we count it as sent.
                if (n < 0 || (n == 0 && want > 0)) {
                    return WOULD_BLOCK;
                }
                return SENT;
            } catch (PortUnreachableException e) {
                // A pending ICMP error about an earlier datagram to the connected peer: the kernel reported it instead
                // of sending this one. Report it, then send this datagram once more (the error is consumed).
                deliverError(e);
                if (state == CLOSED || attempt > 0) {
                    return FAILED;
                }
            } catch (ClosedChannelException e) {
                forceClose(e);
                return FAILED;
            } catch (IOException e) {
                // Network unreachable, permission denied (broadcast without allowBroadcast), message too long for
                // the route: that datagram is lost, the endpoint lives on (asyncio does the same).
                data.position(data.limit());
                deliverError(e);
                return FAILED;
            }
        }
    }

    private void flush() {
        while (!queue.isEmpty()) {
            Pending p = queue.peekFirst();
            int size = p.data.remaining() + DATAGRAM_OVERHEAD;
            int r = trySend(p.data, p.target);
            if (state == CLOSED) {
                return; // errorReceived aborted the endpoint
            }
            if (r == WOULD_BLOCK) {
                break;
            }
            queue.pollFirst();
            queuedBytes -= size;
        }
        updateInterest();
        if (writingPaused && queuedBytes <= lowWater) {
            writingPaused = false;
            callPauseResume(false);
        }
        if (state == CLOSING && queue.isEmpty()) {
            finish(null);
        }
    }

    private void updateInterest() {
        if (state == CLOSED || registration == null) {
            return;
        }
        int ops = (state == OPEN && made ? SelectionKey.OP_READ : 0) | (queue.isEmpty() ? 0 : SelectionKey.OP_WRITE);
        registration.interestOps(ops);
    }

    @Override
    public void setWriteBufferLimits(int high, int low) {
        loop.checkThread();
        if (high < 0 || low < 0 || low > high) {
            throw new IllegalArgumentException("water marks must satisfy 0 <= low <= high: high=" + high + ", low=" + low);
        }
        highWater = high;
        lowWater = low;
        if (state == OPEN && !writingPaused && queuedBytes > highWater) {
            writingPaused = true;
            callPauseResume(true);
        } else if (writingPaused && queuedBytes <= lowWater) {
            writingPaused = false;
            callPauseResume(false);
        }
    }

    @Override
    public long writeBufferSize() {
        return queuedBytes;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Multicast
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void joinGroup(InetAddress group, NetworkInterface networkInterface) throws IOException {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(networkInterface, "networkInterface");
        loop.checkThread();
        if (state != OPEN) {
            throw new IllegalStateException("datagram endpoint is closed: cannot join " + group);
        }
        if (!group.isMulticastAddress()) {
            throw new IllegalArgumentException("not a multicast address: " + group.getHostAddress());
        }
        if (family == DatagramOptions.Family.IPV4 && group instanceof Inet6Address) {
            throw new IllegalArgumentException("IPv6 group " + group.getHostAddress() + " for an IPv4 endpoint");
        }
        Membership m = new Membership(group, networkInterface);
        if (memberships == null) {
            memberships = new HashMap<>();
        }
        MembershipKey key = memberships.get(m);
        if (key == null || !key.isValid()) {
            memberships.put(m, channel.join(group, networkInterface));
        }
    }

    @Override
    public boolean leaveGroup(InetAddress group, NetworkInterface networkInterface) {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(networkInterface, "networkInterface");
        loop.checkThread();
        MembershipKey key = memberships == null ? null : memberships.remove(new Membership(group, networkInterface));
        if (key == null || !key.isValid()) {
            return false;
        }
        key.drop();
        return true;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Closing
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void close() {
        loop.checkThread();
        if (state != OPEN) {
            return;
        }
        state = CLOSING;
        if (flushingStaged) {
            return; // errorReceived closes during flushStaged, which sends the rest and then finishes the close
        }
        if (io.staged() > 0) {
            flushStaged(); // the protocol closes while its batch is delivered: what it sent goes first
            if (state == CLOSED) {
                return;
            }
        }
        updateInterest(); // stop reading; keep flushing
        if (queue.isEmpty()) {
            finish(null);
        }
    }

    @Override
    public void abort() {
        loop.checkThread();
        forceClose(null);
    }

    @Override
    public boolean isClosing() {
        return state != OPEN;
    }

    @Override
    public TransportInfo info() {
        return info;
    }

    /** Closes now, dropping the queue; connectionLost(cause) follows if connectionMade ran. */
    void forceClose(Throwable cause) {
        if (state == CLOSED) {
            return;
        }
        queue.clear();
        queuedBytes = 0;
        io.clearStaged();
        finish(cause);
    }

    private void finish(Throwable cause) {
        state = CLOSED;
        if (registration != null) {
            registration.deregister();
        }
        if (scopeAction != null) {
            scopeAction.cancel();
        }
        try {
            channel.close();
        } catch (IOException e) {
            loop.callExceptionHandler(new ExceptionContext("error closing datagram channel", e, null, null, this,
                    protocol));
        }
        if (!made && !startFuture.isDone()) {
            startFuture.cancel("datagram endpoint closed before it was ready"
                    + (cause != null ? ": " + cause.getMessage() : ""));
        }
        if (made) {
            // In the system scope: connectionLost must run even when the endpoint's scope was cancelled.
            loop.callSoonSystem(() -> {
                try {
                    protocol.connectionLost(cause);
                } catch (RuntimeException e) {
                    loop.callExceptionHandler(new ExceptionContext("datagram protocol connectionLost failed", e, null,
                            null, this, protocol));
                }
            });
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Protocol calls
    // ------------------------------------------------------------------------------------------------------------

    private void deliverError(Exception e) {
        try {
            protocol.errorReceived(e);
        } catch (RuntimeException | Error t) {
            protocolFailed("errorReceived", t);
        }
    }

    private void callPauseResume(boolean pause) {
        try {
            if (pause) {
                protocol.pauseWriting();
            } else {
                protocol.resumeWriting();
            }
        } catch (RuntimeException | Error t) {
            protocolFailed(pause ? "pauseWriting" : "resumeWriting", t);
        }
    }

    private void protocolFailed(String method, Throwable t) {
        if (t instanceof VirtualMachineError vme) {
            throw vme;
        }
        loop.callExceptionHandler(new ExceptionContext("datagram protocol " + method + " failed: endpoint aborted", t,
                null, null, this, protocol));
        forceClose(t);
    }

    @Override
    public String toString() {
        return "SelectorDatagramTransport[" + info.localAddress() + (remote != null ? " -> " + remote : "")
                + (state == OPEN ? "" : state == CLOSING ? ", closing" : ", closed")
                + (queue.isEmpty() ? "" : ", queued=" + queue.size()) + "]";
    }

    /** A datagram waiting to be sent: its own copy of the bytes. */
    private record Pending(ByteBuffer data, InetSocketAddress target) {
    }

    private record Membership(InetAddress group, NetworkInterface networkInterface) {
    }
}
