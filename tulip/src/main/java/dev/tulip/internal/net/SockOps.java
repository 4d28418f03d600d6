package dev.tulip.internal.net;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.internal.loop.TulipLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectableChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Objects;

/**
 * The low-level awaitable socket operations ({@code sockRecv}, {@code sockRecvInto}, {@code sockSendAll},
 * {@code sockConnect}, {@code sockAccept}), as asyncio's {@code loop.sock_*}: each first tries the operation at once
 * and only waits for readiness (through the loop's reader/writer callbacks) when the socket would block. Cancelling
 * the returned future stops waiting; bytes already sent by {@code sockSendAll} stay sent.
 *
 * <p>Loop thread only. The channels must be in non-blocking mode.
 */
public final class SockOps {
    private SockOps() {
    }

    private static TulipLoop check(EventLoop eventLoop, SelectableChannel ch) {
        TulipLoop loop = Sockets.loop(eventLoop);
        Objects.requireNonNull(ch, "channel");
        if (ch.isBlocking()) {
            throw new IllegalArgumentException("the channel must be non-blocking: " + ch);
        }
        return loop;
    }

    public static Future<Integer> recvInto(EventLoop eventLoop, SocketChannel ch, ByteBuffer buf) {
        TulipLoop loop = check(eventLoop, ch);
        Objects.requireNonNull(buf, "buffer");
        if (buf.isReadOnly()) {
            throw new IllegalArgumentException("the buffer is read-only");
        }
        Future<Integer> f = loop.createFuture();
        if (tryRecv(ch, buf, f)) {
            return f;
        }
        Handle h = loop.addReader(ch, () -> {
            if (f.isDone() || tryRecv(ch, buf, f)) {
                loop.removeReader(ch);
            }
        });
        cancelOnDone(loop, f, h);
        return f;
    }

    private static boolean tryRecv(SocketChannel ch, ByteBuffer buf, Future<Integer> f) {
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
        f.setResult(n);
        return true;
    }

    public static Future<ByteBuffer> recv(EventLoop eventLoop, SocketChannel ch, int maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be at least 1: " + maxBytes);
        }
        TulipLoop loop = check(eventLoop, ch);
        ByteBuffer buf = ByteBuffer.allocate(maxBytes);
        Future<ByteBuffer> out = loop.createFuture();
        Future<Integer> n = recvInto(eventLoop, ch, buf);
        if (n.isDone()) {
            complete(n, buf, out);
            return out;
        }
        Sockets.onDone(loop, n, d -> {
            if (!out.isDone()) {
                complete(d, buf, out);
            }
        });
        Sockets.onDone(loop, out, o -> {
            if (o.isCancelled()) {
                n.cancel();
            }
        });
        return out;
    }

    private static void complete(Future<Integer> n, ByteBuffer buf, Future<ByteBuffer> out) {
        if (n.isCancelled()) {
            out.cancel();
        } else if (n.exception() != null) {
            out.setException(n.exception());
        } else {
            buf.flip(); // EOF gives an empty buffer, as asyncio's b''
            out.setResult(buf);
        }
    }

    public static Future<Void> sendAll(EventLoop eventLoop, SocketChannel ch, ByteBuffer data) {
        TulipLoop loop = check(eventLoop, ch);
        Objects.requireNonNull(data, "data");
        Future<Void> f = loop.createFuture();
        if (trySend(ch, data, f)) {
            return f;
        }
        Handle h = loop.addWriter(ch, () -> {
            if (f.isDone() || trySend(ch, data, f)) {
                loop.removeWriter(ch);
            }
        });
        cancelOnDone(loop, f, h);
        return f;
    }

    private static boolean trySend(SocketChannel ch, ByteBuffer data, Future<Void> f) {
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
                    f.setException(n.isCancelled() ? new java.util.concurrent.CancellationException() : n.exception());
                    return;
                }
                Future<SocketChannel> inner = loop.createFuture();
                connect(loop, ch, n.result().getFirst(), inner);
                Sockets.onDone(loop, inner, i -> {
                    if (!f.isDone()) {
                        if (i.isCancelled()) {
                            f.cancel();
                        } else if (i.exception() != null) {
                            f.setException(i.exception());
                        } else {
                            f.setResult(null);
                        }
                    }
                });
            });
            return f;
        }
        Future<SocketChannel> inner = loop.createFuture();
        connect(loop, ch, address, inner);
        if (inner.isDone()) {
            if (inner.exception() != null) {
                f.setException(inner.exception());
            } else {
                f.setResult(null);
            }
            return f;
        }
        Sockets.onDone(loop, inner, i -> {
            if (!f.isDone()) {
                if (i.isCancelled()) {
                    f.cancel();
                } else if (i.exception() != null) {
                    f.setException(i.exception());
                } else {
                    f.setResult(null);
                }
            }
        });
        Sockets.onDone(loop, f, o -> {
            if (o.isCancelled()) {
                inner.cancel();
            }
        });
        return f;
    }

    /** Connects {@code ch}, completing {@code f} with it; used by UNIX connections too. */
    static void connect(TulipLoop loop, SocketChannel ch, SocketAddress address, Future<SocketChannel> f) {
        try {
            if (ch.connect(address)) {
                f.setResult(ch);
                return;
            }
        } catch (IOException e) {
            f.setException(e);
            return;
        }
        Handle h = loop.addWriter(ch, () -> {
            if (f.isDone()) {
                loop.removeWriter(ch);
                return;
            }
            try {
                if (!ch.finishConnect()) {
                    return;
                }
                loop.removeWriter(ch);
                f.setResult(ch);
            } catch (IOException e) {
                loop.removeWriter(ch);
                f.setException(e);
            }
        });
        cancelOnDone(loop, f, h);
    }

    public static Future<SocketChannel> accept(EventLoop eventLoop, ServerSocketChannel ch) {
        TulipLoop loop = check(eventLoop, ch);
        Future<SocketChannel> f = loop.createFuture();
        if (tryAccept(ch, f)) {
            return f;
        }
        Handle h = loop.addReader(ch, () -> {
            if (f.isDone() || tryAccept(ch, f)) {
                loop.removeReader(ch);
            }
        });
        cancelOnDone(loop, f, h);
        return f;
    }

    private static boolean tryAccept(ServerSocketChannel ch, Future<SocketChannel> f) {
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

    /** When the future is cancelled from outside, stop watching the channel. */
    private static void cancelOnDone(TulipLoop loop, Future<?> f, Handle h) {
        Sockets.onDone(loop, f, d -> {
            if (d.isCancelled()) {
                h.cancel();
            }
        });
    }
}
