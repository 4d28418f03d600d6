package dev.tulip.internal.tls;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.net.Sockets;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * TLS at connect, at accept and by upgrade: the glue between the loop's TCP entry points and {@link SslProtocol}.
 *
 * <p>Loop thread only.
 */
public final class TlsSupport {
    private TlsSupport() {
    }

    /** createConnection with TLS: the future completes after the handshake and the app's connectionMade. */
    public static <P extends Protocol> Future<Connection<P>> createConnection(EventLoop eventLoop, Supplier<P> factory,
                                                                             String host, int port,
                                                                             ConnectOptions options, TlsOptions tls) {
        TulipLoop loop = (TulipLoop) eventLoop;
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(tls, "tls");
        if (!tls.isClient()) {
            throw new IllegalArgumentException("createConnection needs client TLS options (TlsOptions.client())");
        }
        String name = bareHost(host);
        Future<Connection<P>> out = loop.createFuture();
        Future<Transport> handshake = loop.createFuture();
        @SuppressWarnings("unchecked")
        P[] app = (P[]) new Protocol[1];
        Supplier<SslProtocol> layer = () -> {
            P p = Objects.requireNonNull(factory.get(), "the protocol factory returned null");
            app[0] = p;
            return new SslProtocol(loop, tls, name, port, p, handshake);
        };
        Future<Connection<SslProtocol>> tcp = Sockets.createConnection(loop, layer, host, port, options);
        onDone(loop, tcp, t -> {
            if (t.isCancelled()) {
                handshake.cancel();
                out.cancel();
            } else if (t.exception() != null) {
                handshake.cancel();
                if (!out.isDone()) {
                    out.setException(t.exception());
                }
            }
        });
        onDone(loop, handshake, h -> {
            if (out.isDone()) {
                return;
            }
            if (h.isCancelled()) {
                out.cancel();
            } else if (h.exception() != null) {
                out.setException(h.exception());
            } else {
                out.setResult(new Connection<>(h.result(), app[0]));
            }
        });
        onDone(loop, out, o -> {
            if (o.isCancelled()) {
                tcp.cancel();
                handshake.cancel(); // the layer aborts the connection if the handshake was still running
            }
        });
        return out;
    }

    /** createServer with TLS: each accepted connection runs a server handshake before its protocol's connectionMade. */
    public static Future<Server> createServer(EventLoop eventLoop, Supplier<? extends Protocol> factory, String host,
                                              int port, ServerOptions options, TlsOptions tls) {
        TulipLoop loop = (TulipLoop) eventLoop;
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(tls, "tls");
        if (tls.isClient()) {
            throw new IllegalArgumentException("createServer needs server TLS options (TlsOptions.server(context))");
        }
        return Sockets.createServer(loop, () -> new SslProtocol(loop, tls, null, -1,
                Objects.requireNonNull(factory.get(), "the protocol factory returned null"), null), host, port, options);
    }

    /** Upgrades a live transport to TLS (asyncio's start_tls). */
    public static Future<Transport> startTls(EventLoop eventLoop, Transport transport, Protocol protocol,
                                             TlsOptions tls) {
        TulipLoop loop = (TulipLoop) eventLoop;
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(tls, "tls");
        loop.checkThread();
        if (!(transport instanceof SwitchableTransport st)) {
            throw new IllegalArgumentException("startTls needs a transport made by this loop (TCP, UNIX or TLS), not "
                    + transport.getClass().getName());
        }
        if (transport.isClosing()) {
            throw new IllegalStateException("startTls on a closing transport");
        }
        SocketAddress peer = transport.info().peerAddress();
        int port = peer instanceof InetSocketAddress isa ? isa.getPort() : -1;
        Future<Transport> out = loop.createFuture();
        SslProtocol ssl = new SslProtocol(loop, tls, null, port, protocol, out);
        st.setProtocol(ssl);
        if (!transport.isReading()) {
            transport.resumeReading();
        }
        ssl.start(transport);
        return out;
    }

    /** "[::1]" -> "::1", "fe80::1%lo" -> "fe80::1": the name certificates are checked against. */
    static String bareHost(String host) {
        String h = host;
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        int pct = h.indexOf('%');
        if (pct > 0 && h.indexOf(':') >= 0) {
            h = h.substring(0, pct);
        }
        return h;
    }

    private static <T> void onDone(TulipLoop loop, Future<T> f, Consumer<? super Future<T>> cb) {
        ScopeImpl saved = loop.swapScope(loop.systemScope());
        try {
            f.addDoneCallback(cb);
        } finally {
            loop.swapScope(saved);
        }
    }

    static CancellationException cancelled() {
        return new CancellationException("cancelled");
    }
}
