package dev.tulip.internal.net;

import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.internal.loop.IoHandler;
import dev.tulip.internal.loop.IoRegistration;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.BufferedProtocol;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * A stream transport over a connected, non-blocking {@link SocketChannel} (TCP or UNIX domain) driven by the loop's
 * {@link IoRegistration}.
 *
 * <p>Design note. Reads: one read per readiness event into the loop's shared direct buffer (or, for a
 * {@link BufferedProtocol}, straight into the protocol's buffer), handed to the protocol before the next read.
 * Writes: {@link #write} tries the socket at once and keeps only what the kernel did not take, in chunks that
 * later small writes are appended to (heap chunks for small remainders, pooled direct ones for large: see
 * {@link DirectChunks}); the queue is flushed with one gathering write per writable event. The protocol
 * is told {@code pauseWriting} the moment the queue goes over the high mark and {@code resumeWriting} when it drains
 * to the low mark. State changes are all on the loop thread; the interest set is recomputed from the state by
 * {@link #updateInterest()} so no path can leave a stale OP_READ/OP_WRITE behind. The bytes themselves move through
 * a {@link StreamIo} chosen at construction: the channel's read/write, or native read/write/writev on its fd when
 * the loop runs the epoll backend (issue 10).
 *
 * <p>Lifecycle: {@code connectionMade} is a ready-queue entry in the transport's scope, and reading starts only
 * after it ran, so no data can overtake it. {@code connectionLost} runs exactly once, in the loop's system scope (it
 * runs even when the owning scope was cancelled), after the channel is closed. If the transport is closed before
 * {@code connectionMade} ran (its scope was cancelled at once), the protocol gets neither call.
 *
 * <p>Loop thread only.
 */
public final class SelectorSocketTransport implements Transport, IoHandler, dev.tulip.internal.tls.SwitchableTransport {
    static final System.Logger LOG = System.getLogger("dev.tulip.transport");
    /** Size of the loop's shared read buffer; chosen by benchmark (see the issue 4 report), settable for experiments. */
    static final int READ_BUFFER_SIZE = Integer.getInteger("tulip.readBufferSize", 256 * 1024);
    /** Smallest chunk allocated for a write remainder, so that later small writes can be appended to it. */
    private static final int MIN_CHUNK = 4096;
    /** At most this many buffers per gathering write (below every platform's IOV_MAX). */
    private static final int MAX_GATHER = 512;

    private final TulipLoop loop;
    /** The loop's pool for large write remainders. */
    private final DirectChunks chunks;
    private final SocketChannel channel;
    /** Moves the bytes: the channel's own read/write, or native calls on its fd under the epoll backend. */
    private final StreamIo io;
    /** Replaced only by {@link #setProtocol} (startTls). */
    private Protocol protocol;
    /** Non-null when the protocol supplies its own read buffer. */
    private BufferedProtocol buffered;
    private final IoRegistration reg;
    private final ScopeImpl scope;
    private final Handle scopeAction;
    private final TransportInfo info;
    /** Told after connectionLost ran (servers track their connections), or null. */
    private final Consumer<SelectorSocketTransport> onLost;
    /** Completed with a {@link Connection} after connectionMade ran (createConnection's result), or null. */
    private Future<Connection<Protocol>> madeWaiter;

    // Write queue: chunks in read mode (position..limit are unsent bytes). Created on first need.
    private ArrayDeque<ByteBuffer> queue;
    private ByteBuffer[] gather;
    private long queued;
    private int highWater = 64 * 1024;
    private int lowWater = 16 * 1024;
    private boolean protocolPaused;

    private boolean made;
    private boolean readingPaused;
    private boolean eofReceived;
    private boolean eofRequested;
    private boolean outputShut;
    /** close() was called (or the peer's EOF closed it): reading stopped, flushing, then closing. */
    private boolean closing;
    /** The application called close() or abort(): later writes are its bug and throw. */
    private boolean closedByUser;
    /** The channel is closed and connectionLost is scheduled (or skipped). */
    private boolean closed;

    private SelectorSocketTransport(TulipLoop loop, SocketChannel channel, Protocol protocol,
                                    Consumer<SelectorSocketTransport> onLost) throws IOException {
        this.loop = loop;
        this.chunks = loop.local(DirectChunks.class, l -> new DirectChunks());
        this.channel = channel;
        this.protocol = protocol;
        this.buffered = protocol instanceof BufferedProtocol bp ? bp : null;
        this.onLost = onLost;
        SocketAddress local = channel.getLocalAddress();
        SocketAddress peer = channel.getRemoteAddress();
        this.info = TransportInfo.plain(local, peer, channel);
        this.scope = loop.currentScopeImpl();
        this.io = StreamIo.of(loop, channel);
        this.reg = loop.register(channel, 0, this);
        this.scopeAction = scope.onCancel(() -> closeNow(new CancellationException(
                "scope '" + scope.name() + "' was cancelled")));
    }

    /**
     * Wraps a connected channel in {@code scope}: registers it, schedules {@code connectionMade}, then starts
     * reading. On failure the channel is closed.
     *
     * @param waiter completed with the connection after connectionMade ran (or failed if the transport closes
     *               first); may be null
     */
    @SuppressWarnings("unchecked")
    static SelectorSocketTransport start(TulipLoop loop, ScopeImpl scope, SocketChannel channel, Protocol protocol,
                                         Consumer<SelectorSocketTransport> onLost,
                                         Future<? extends Connection<?>> waiter) throws IOException {
        SelectorSocketTransport t;
        ScopeImpl saved = loop.swapScope(scope);
        try {
            if (channel.isBlocking()) {
                channel.configureBlocking(false);
            }
            t = new SelectorSocketTransport(loop, channel, protocol, onLost);
            t.madeWaiter = (Future<Connection<Protocol>>) waiter;
            loop.callSoon(t::connectionMade);
        } catch (IOException | RuntimeException e) {
            Sockets.closeQuietly(channel);
            throw e;
        } finally {
            loop.swapScope(saved);
        }
        return t;
    }

    private void connectionMade() {
        if (closed) {
            return;
        }
        made = true;
        try {
            protocol.connectionMade(this);
        } catch (Throwable e) {
            protocolFailed("connectionMade", e);
            return;
        }
        if (madeWaiter != null) {
            Future<Connection<Protocol>> w = madeWaiter;
            madeWaiter = null;
            if (!w.isDone()) {
                w.setResult(new Connection<>(this, protocol));
            }
        }
        if (closed) {
            return;
        }
        updateInterest();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Readiness
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void ioReady(int readyOps) {
        if ((readyOps & SelectionKey.OP_WRITE) != 0 && queued > 0) {
            flush();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0 && wantsRead()) {
            if (buffered != null) {
                readBuffered();
            } else {
                read();
            }
        }
    }

    private boolean wantsRead() {
        return made && !readingPaused && !eofReceived && !closing && !closed;
    }

    private void read() {
        ByteBuffer buf = loop.readBuffer(READ_BUFFER_SIZE);
        buf.clear();
        int n;
        try {
            n = io.read(buf);
        } catch (IOException e) {
            closeNow(e);
            return;
        }
        if (n > 0) {
            buf.flip();
            try {
                protocol.dataReceived(buf);
            } catch (Throwable e) {
                protocolFailed("dataReceived", e);
            }
        } else if (n < 0) {
            onEof();
        }
    }

    private void readBuffered() {
        ByteBuffer buf;
        try {
            buf = buffered.getBuffer(READ_BUFFER_SIZE);
            if (buf == null || !buf.hasRemaining()) {
                throw new IllegalStateException("getBuffer returned " + (buf == null ? "null" : "a full buffer"));
            }
        } catch (Throwable e) {
            protocolFailed("getBuffer", e);
            return;
        }
        int pos = buf.position();
        int n;
        try {
            n = io.read(buf);
        } catch (IOException e) {
            closeNow(e);
            return;
        } finally {
            buf.position(pos);
        }
        if (n > 0) {
            try {
                buffered.bufferUpdated(n);
            } catch (Throwable e) {
                protocolFailed("bufferUpdated", e);
            }
        } else if (n < 0) {
            onEof();
        }
    }

    private void onEof() {
        eofReceived = true;
        updateInterest();
        boolean keepOpen;
        try {
            keepOpen = protocol.eofReceived();
        } catch (Throwable e) {
            protocolFailed("eofReceived", e);
            return;
        }
        if (!keepOpen) {
            close();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void write(ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        if (!checkWritable()) {
            data.position(data.limit());
            return;
        }
        if (!data.hasRemaining()) {
            return;
        }
        if (queued == 0) {
            try {
                io.write(data);
            } catch (IOException e) {
                data.position(data.limit());
                closeNow(e);
                return;
            }
            if (!data.hasRemaining()) {
                return;
            }
        }
        enqueue(data);
        afterEnqueue();
    }

    @Override
    public void write(ByteBuffer... data) {
        Objects.requireNonNull(data, "data");
        for (ByteBuffer b : data) {
            Objects.requireNonNull(b, "data element");
        }
        if (!checkWritable()) {
            for (ByteBuffer b : data) {
                b.position(b.limit());
            }
            return;
        }
        if (queued == 0 && data.length > 1) {
            try {
                io.write(data, 0, data.length);
            } catch (IOException e) {
                for (ByteBuffer b : data) {
                    b.position(b.limit());
                }
                closeNow(e);
                return;
            }
        } else if (queued == 0 && data.length == 1) {
            write(data[0]);
            return;
        }
        boolean any = false;
        for (ByteBuffer b : data) {
            if (b.hasRemaining()) {
                enqueue(b);
                any = true;
            }
        }
        if (any) {
            afterEnqueue();
        }
    }

    /** False when the connection is already lost (the write is dropped, as asyncio does); throws after close(). */
    private boolean checkWritable() {
        if (closed) {
            if (closedByUser || eofRequested) {
                throw new IllegalStateException("write on a transport that is closed: " + this);
            }
            return false; // lost through an error the protocol learns of in connectionLost
        }
        if (closing) {
            throw new IllegalStateException("write after close(): " + this);
        }
        if (eofRequested) {
            throw new IllegalStateException("write after writeEof(): " + this);
        }
        return true;
    }

    /**
     * Copies the remaining bytes into the queue: into the last chunk when they fit, else into new chunks (pooled
     * direct chunks for a large remainder, see {@link DirectChunks}; a heap chunk otherwise or when the pool is
     * exhausted).
     */
    private void enqueue(ByteBuffer data) {
        int n = data.remaining();
        if (queue == null) {
            queue = new ArrayDeque<>(4);
        }
        ByteBuffer tail = queue.peekLast();
        int pos = data.position();
        if (tail != null && tail.capacity() - tail.limit() >= n) {
            int lim = tail.limit();
            tail.limit(lim + n);
            tail.put(lim, data, pos, n);
        } else {
            int left = n;
            if (n >= DirectChunks.THRESHOLD) {
                for (ByteBuffer chunk; left > 0 && (chunk = chunks.take()) != null; ) {
                    int k = Math.min(left, DirectChunks.CHUNK);
                    chunk.put(0, data, pos, k);
                    chunk.limit(k);
                    queue.addLast(chunk);
                    pos += k;
                    left -= k;
                }
            }
            if (left > 0) {
                ByteBuffer chunk = ByteBuffer.allocate(Math.max(left, MIN_CHUNK));
                chunk.put(0, data, pos, left);
                chunk.limit(left);
                queue.addLast(chunk);
            }
        }
        data.position(data.limit());
        queued += n;
    }

    /** Drops the queue, giving its pooled chunks back. */
    private void dropQueue() {
        ArrayDeque<ByteBuffer> q = queue;
        queue = null;
        queued = 0;
        if (q != null) {
            for (ByteBuffer b : q) {
                if (DirectChunks.isChunk(b)) {
                    chunks.give(b);
                }
            }
        }
    }

    private void afterEnqueue() {
        updateInterest();
        if (!protocolPaused && queued > highWater) {
            protocolPaused = true;
            try {
                protocol.pauseWriting();
            } catch (Throwable e) {
                protocolFailed("pauseWriting", e);
            }
        }
    }

    /** One gathering write of the queue; then EOF or close if they were waiting for the flush. */
    private void flush() {
        ArrayDeque<ByteBuffer> q = queue;
        int count = Math.min(q.size(), MAX_GATHER);
        long n;
        try {
            if (count == 1) {
                n = io.write(q.peekFirst());
            } else {
                if (gather == null || gather.length < count) {
                    gather = new ByteBuffer[Math.max(count, 8)];
                }
                int i = 0;
                for (ByteBuffer b : q) {
                    if (i == count) {
                        break;
                    }
                    gather[i++] = b;
                }
                n = io.write(gather, 0, count);
                java.util.Arrays.fill(gather, 0, count, null);
            }
        } catch (IOException e) {
            closeNow(e);
            return;
        }
        queued -= n;
        while (!q.isEmpty() && !q.peekFirst().hasRemaining()) {
            ByteBuffer done = q.pollFirst();
            if (DirectChunks.isChunk(done)) {
                chunks.give(done);
            }
        }
        if (queued == 0) {
            updateInterest();
            if (closing) {
                closeNow(null);
                return;
            }
            if (eofRequested) {
                shutdownOutput();
            }
        }
        if (protocolPaused && queued <= lowWater) {
            protocolPaused = false;
            try {
                protocol.resumeWriting();
            } catch (Throwable e) {
                protocolFailed("resumeWriting", e);
            }
        }
    }

    private void shutdownOutput() {
        if (outputShut || closed) {
            return;
        }
        outputShut = true;
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            closeNow(e);
        }
    }

    @Override
    public void writeEof() {
        if (closing || closed || eofRequested) {
            return;
        }
        eofRequested = true;
        if (queued == 0) {
            shutdownOutput();
        }
    }

    @Override
    public boolean canWriteEof() {
        return true;
    }

    @Override
    public void setWriteBufferLimits(int high, int low) {
        if (high < 0 || low < 0 || low > high) {
            throw new IllegalArgumentException("need 0 <= low <= high: high=" + high + ", low=" + low);
        }
        highWater = high;
        lowWater = low;
        if (!protocolPaused && queued > highWater) {
            protocolPaused = true;
            try {
                protocol.pauseWriting();
            } catch (Throwable e) {
                protocolFailed("pauseWriting", e);
            }
        } else if (protocolPaused && queued <= lowWater) {
            protocolPaused = false;
            try {
                protocol.resumeWriting();
            } catch (Throwable e) {
                protocolFailed("resumeWriting", e);
            }
        }
    }

    @Override
    public long writeBufferSize() {
        return queued;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Reading control
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void pauseReading() {
        if (!readingPaused) {
            readingPaused = true;
            updateInterest();
        }
    }

    @Override
    public void resumeReading() {
        if (readingPaused) {
            readingPaused = false;
            updateInterest();
        }
    }

    @Override
    public boolean isReading() {
        return !readingPaused && !closing && !closed && !eofReceived;
    }

    private void updateInterest() {
        if (closed) {
            return;
        }
        int ops = 0;
        if (wantsRead()) {
            ops = SelectionKey.OP_READ;
        }
        if (queued > 0) {
            ops |= SelectionKey.OP_WRITE;
        }
        reg.interestOps(ops);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Closing
    // ------------------------------------------------------------------------------------------------------------

    @Override
    public void close() {
        closedByUser = true;
        if (closing || closed) {
            return;
        }
        closing = true;
        if (queued == 0) {
            closeNow(null);
        } else {
            updateInterest(); // stop reading, keep flushing
        }
    }

    @Override
    public void abort() {
        closedByUser = true;
        closeNow(null);
    }

    @Override
    public boolean isClosing() {
        return closing || closed;
    }

    private void protocolFailed(String method, Throwable e) {
        if (e instanceof VirtualMachineError vme) {
            throw vme;
        }
        loop.callExceptionHandler(new ExceptionContext("protocol " + method + "() failed; closing the connection",
                e, null, null, this, protocol));
        closeNow(e);
    }

    /** Closes the channel now and schedules connectionLost(cause) once. */
    void closeNow(Throwable cause) {
        if (closed) {
            return;
        }
        closed = true;
        closing = true;
        dropQueue();
        reg.deregister();
        Sockets.closeQuietly(channel);
        scopeAction.cancel();
        if (madeWaiter != null && !madeWaiter.isDone()) {
            Future<Connection<Protocol>> w = madeWaiter;
            madeWaiter = null;
            w.setException(cause != null ? cause : new IOException("connection closed before it was made"));
        }
        if (!made) {
            if (onLost != null) {
                loop.callSoonSystem(() -> onLost.accept(this));
            }
            return; // the protocol never saw connectionMade: it gets no connectionLost either
        }
        loop.callSoonSystem(() -> {
            try {
                protocol.connectionLost(cause);
            } catch (VirtualMachineError vme) {
                throw vme;
            } catch (Throwable e) {
                loop.callExceptionHandler(new ExceptionContext("protocol connectionLost() failed", e, null, null,
                        this, protocol));
            } finally {
                if (onLost != null) {
                    onLost.accept(this);
                }
            }
        });
    }

    @Override
    public TransportInfo info() {
        return info;
    }

    /** The protocol bound to this transport. */
    public Protocol protocol() {
        return protocol;
    }

    /** Sends later callbacks to {@code p} (startTls slips a TLS layer in); no connectionMade is called on it. */
    @Override
    public void setProtocol(Protocol p) {
        this.protocol = Objects.requireNonNull(p, "protocol");
        this.buffered = p instanceof BufferedProtocol bp ? bp : null;
    }

    @Override
    public String toString() {
        return "SelectorSocketTransport[" + info.localAddress() + " <-> " + info.peerAddress()
                + (closed ? ", closed" : closing ? ", closing" : "") + (queued > 0 ? ", queued=" + queued : "") + "]";
    }
}
