package dev.tulip.internal.net;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.internal.loop.IoHandler;
import dev.tulip.internal.loop.IoRegistration;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;

/**
 * The low-level awaitable socket operations ({@code sockRecv}, {@code sockRecvInto}, {@code sockSendAll},
 * {@code sockConnect}, {@code sockAccept}), as asyncio's {@code loop.sock_*}: each first tries the operation at once
 * and only waits for readiness when the socket would block.
 *
 * <p>Design note. asyncio adds and removes a reader/writer around every wait, which costs two {@code epoll_ctl}
 * calls (and here a new selection key) per operation. Instead each channel used with these operations keeps one
 * registration ({@link Channel}) for the life of the channel, with at most one pending read-side and one pending
 * write-side operation; the interest set follows the pending operations (no system call when it does not change,
 * the backend caches it). A cancelled operation is noticed lazily, at the next readiness event or the next
 * operation, so cancelling costs no callback. Registrations of closed channels are swept when the table grows.
 * Registrations run in the loop's system scope: the futures' own done callbacks run in their callers' scopes.
 *
 * <p>Loop thread only. The channels must be in non-blocking mode. A channel used here must not also be watched with
 * {@code addReader}/{@code addWriter}; handing it to {@code createConnection} releases its registration.
 */
public final class SockOps {
    private final TulipLoop loop;
    private final HashMap<SelectableChannel, Channel> channels = new HashMap<>();
    private int sweepAt = 64;

    private SockOps(TulipLoop loop) {
        this.loop = loop;
    }

    private static SockOps of(TulipLoop loop) {
        return loop.local(SockOps.class, SockOps::new);
    }

    private static TulipLoop check(EventLoop eventLoop, SelectableChannel ch) {
        TulipLoop loop = Sockets.loop(eventLoop);
        Objects.requireNonNull(ch, "channel");
        if (ch.isBlocking()) {
            throw new IllegalArgumentException("the channel must be non-blocking: " + ch);
        }
        return loop;
    }

    /** Drops the channel's registration (before a transport takes the channel over). */
    static void release(TulipLoop loop, SelectableChannel ch) {
        SockOps ops = loop.local(SockOps.class, SockOps::new);
        Channel c = ops.channels.remove(ch);
        if (c != null && c.reg != null) {
            c.reg.deregister();
        }
    }

    private Channel channel(SelectableChannel ch) throws IOException {
        Channel c = channels.get(ch);
        if (c != null && c.reg.isRegistered()) {
            return c;
        }
        if (channels.size() >= sweepAt) {
            for (Iterator<Channel> it = channels.values().iterator(); it.hasNext(); ) {
                if (!it.next().ch.isOpen()) {
                    it.remove();
                }
            }
            sweepAt = Math.max(64, channels.size() * 2);
        }
        c = new Channel(ch);
        ScopeImpl saved = loop.swapScope(loop.systemScope());
        try {
            c.reg = loop.register(ch, 0, c);
        } finally {
            loop.swapScope(saved);
        }
        channels.put(ch, c);
        return c;
    }

    /** Waits for {@code op} on {@code ch}; fails the op's future if the channel cannot be watched. */
    private void park(SelectableChannel ch, Op op, boolean read) {
        Channel c;
        try {
            c = channel(ch);
        } catch (IOException | RuntimeException e) {
            op.future.setException(e);
            return;
        }
        Op old = read ? c.reader : c.writer;
        if (old != null && !old.future.isDone()) {
            op.future.setException(new IllegalStateException("another sock* " + (read ? "receive/accept" : "send/connect")
                    + " operation is pending on " + ch));
            return;
        }
        if (read) {
            c.reader = op;
        } else {
            c.writer = op;
        }
        c.updateInterest();
    }

    /** One channel's registration and its pending operations. */
    private final class Channel implements IoHandler {
        final SelectableChannel ch;
        IoRegistration reg;
        Op reader;
        Op writer;

        Channel(SelectableChannel ch) {
            this.ch = ch;
        }

        void updateInterest() {
            int ops = 0;
            if (reader != null) {
                ops |= ch.validOps() & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT);
            }
            if (writer != null) {
                ops |= writer instanceof Connect ? SelectionKey.OP_CONNECT : SelectionKey.OP_WRITE;
            }
            reg.interestOps(ops);
        }

        @Override
        public void ioReady(int readyOps) {
            // Read interest is dropped lazily: a loop of receives (the common case) parks the next one before the
            // next poll, so keeping OP_READ armed saves two epoll_ctl calls per receive; a readiness event that
            // finds nothing pending disarms it. Write/connect interest is dropped at once, since a socket is
            // writable almost always and would wake the loop on every poll.
            boolean idle = false;
            if ((readyOps & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
                Op r = reader;
                if (r == null || r.future.isDone()) {
                    reader = null;
                    idle = true;
                } else if (r.attempt() && reader == r) {
                    reader = null;
                }
            }
            if ((readyOps & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
                Op w = writer;
                if (w == null || w.future.isDone() || w.attempt()) {
                    if (writer == w) {
                        writer = null;
                    }
                    idle = true;
                }
            }
            if (idle && reg.isRegistered()) {
                updateInterest();
            }
        }
    }

    /** A pending operation: {@link #attempt()} tries it and returns true once its future is done. */
    private abstract static class Op {
        final Future<?> future;

        Op(Future<?> future) {
            this.future = future;
        }

        abstract boolean attempt();
    }

    // ------------------------------------------------------------------------------------------------------------

    public static Future<Integer> recvInto(EventLoop eventLoop, SocketChannel ch, ByteBuffer buf) {
        TulipLoop loop = check(eventLoop, ch);
        Objects.requireNonNull(buf, "buffer");
        if (buf.isReadOnly()) {
            throw new IllegalArgumentException("the buffer is read-only");
        }
        Read<Integer> op = new Read<>(loop.createFuture(), ch, buf, false);
        if (!op.attempt()) {
            of(loop).park(ch, op, true);
        }
        return op.f;
    }

    /**
     * One non-blocking read into {@code buf}: done when bytes (or EOF, -1) arrived. The future gets the count
     * ({@code recvInto}) or the buffer flipped for reading ({@code recv}; EOF gives an empty buffer, as asyncio's b'').
     */
    private static final class Read<T> extends Op {
        final Future<T> f;
        final SocketChannel ch;
        final ByteBuffer buf;
        final boolean returnBuffer;

        Read(Future<T> f, SocketChannel ch, ByteBuffer buf, boolean returnBuffer) {
            super(f);
            this.f = f;
            this.ch = ch;
            this.buf = buf;
            this.returnBuffer = returnBuffer;
        }

        @Override
        @SuppressWarnings("unchecked")
        boolean attempt() {
            int n;
            try {
                n = ch.read(buf);
            } catch (IOException e) {
                f.setException(e);
                return true;
            }
            if (n == 0 && buf.hasRemaining()) {
                return false;
            }
            f.setResult((T) (returnBuffer ? buf.flip() : Integer.valueOf(n)));
            return true;
        }
    }

    public static Future<ByteBuffer> recv(EventLoop eventLoop, SocketChannel ch, int maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be at least 1: " + maxBytes);
        }
        TulipLoop loop = check(eventLoop, ch);
        Read<ByteBuffer> op = new Read<>(loop.createFuture(), ch, ByteBuffer.allocate(maxBytes), true);
        if (!op.attempt()) {
            of(loop).park(ch, op, true);
        }
        return op.f;
    }

    public static Future<Void> sendAll(EventLoop eventLoop, SocketChannel ch, ByteBuffer data) {
        TulipLoop loop = check(eventLoop, ch);
        Objects.requireNonNull(data, "data");
        SendAll op = new SendAll(loop.createFuture(), ch, data);
        if (!op.attempt()) {
            of(loop).park(ch, op, false);
        }
        return op.f;
    }

    private static final class SendAll extends Op {
        final Future<Void> f;
        final SocketChannel ch;
        final ByteBuffer data;

        SendAll(Future<Void> f, SocketChannel ch, ByteBuffer data) {
            super(f);
            this.f = f;
            this.ch = ch;
            this.data = data;
        }

        @Override
        boolean attempt() {
            try {
                while (data.hasRemaining()) {
                    if (ch.write(data) == 0) {
                        return false;
                    }
                }
            } catch (IOException e) {
                f.setException(e);
                return true;
            }
            f.setResult(null);
            return true;
        }
    }

    public static Future<Void> connect(EventLoop eventLoop, SocketChannel ch, SocketAddress address) {
        TulipLoop loop = check(eventLoop, ch);
        Objects.requireNonNull(address, "address");
        Future<Void> f = loop.createFuture();
        if (address instanceof InetSocketAddress isa && isa.isUnresolved()) {
            Future<List<InetSocketAddress>> names = Resolver.resolve(loop, isa.getHostString(), isa.getPort());
            Sockets.onDone(loop, names, n -> {
                if (f.isDone()) {
                    return;
                }
                if (n.isCancelled() || n.exception() != null) {
                    f.setException(n.isCancelled() ? new CancellationException() : n.exception());
                    return;
                }
                startConnect(loop, ch, n.result().getFirst(), f);
            });
            return f;
        }
        startConnect(loop, ch, address, f);
        return f;
    }

    private static void startConnect(TulipLoop loop, SocketChannel ch, SocketAddress address, Future<Void> f) {
        try {
            if (ch.connect(address)) {
                f.setResult(null);
                return;
            }
        } catch (IOException e) {
            f.setException(e);
            return;
        }
        of(loop).park(ch, new Connect(f, ch), false);
    }

    private static final class Connect extends Op {
        final Future<Void> f;
        final SocketChannel ch;

        Connect(Future<Void> f, SocketChannel ch) {
            super(f);
            this.f = f;
            this.ch = ch;
        }

        @Override
        boolean attempt() {
            try {
                if (!ch.finishConnect()) {
                    return false;
                }
            } catch (IOException e) {
                f.setException(e);
                return true;
            }
            f.setResult(null);
            return true;
        }
    }

    public static Future<SocketChannel> accept(EventLoop eventLoop, ServerSocketChannel ch) {
        TulipLoop loop = check(eventLoop, ch);
        Accept op = new Accept(loop.createFuture(), ch);
        if (!op.attempt()) {
            of(loop).park(ch, op, true);
        }
        return op.f;
    }

    private static final class Accept extends Op {
        final Future<SocketChannel> f;
        final ServerSocketChannel ch;

        Accept(Future<SocketChannel> f, ServerSocketChannel ch) {
            super(f);
            this.f = f;
            this.ch = ch;
        }

        @Override
        boolean attempt() {
            SocketChannel c;
            try {
                c = ch.accept();
            } catch (IOException e) {
                f.setException(e);
                return true;
            }
            if (c == null) {
                return false;
            }
            try {
                c.configureBlocking(false);
            } catch (IOException e) {
                Sockets.closeQuietly(c);
                f.setException(e);
                return true;
            }
            f.setResult(c);
            return true;
        }
    }
}
