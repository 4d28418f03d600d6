package dev.tulip.internal.net;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.TimerHandle;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The loop's entry points for stream connections and servers ({@code EventLoop.createConnection} and friends):
 * each one is resolve, connect (racing addresses), wrap in a {@link SelectorSocketTransport}, with the connect
 * timeout, cancellation of the returned future and cancellation of the current scope handled in one place.
 *
 * <p>Loop thread only.
 */
public final class Sockets {
    private Sockets() {
    }

    static TulipLoop loop(EventLoop loop) {
        TulipLoop l = (TulipLoop) Objects.requireNonNull(loop, "loop");
        l.checkThread();
        return l;
    }

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing a socket fails only if it was already broken: nothing left to release
        }
    }

    /** Adds a done callback that runs in the system scope, so cleanup happens even if the current scope is cancelled. */
    static <T> void onDone(TulipLoop loop, Future<T> f, Consumer<? super Future<T>> cb) {
        ScopeImpl saved = loop.swapScope(loop.systemScope());
        try {
            f.addDoneCallback(cb);
        } finally {
            loop.swapScope(saved);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Connections
    // ------------------------------------------------------------------------------------------------------------

    public static <P extends Protocol> Future<Connection<P>> createConnection(EventLoop eventLoop, Supplier<P> factory,
                                                                             String host, int port,
                                                                             ConnectOptions options) {
        TulipLoop loop = loop(eventLoop);
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(options, "options");
        Resolver.checkPort(port);
        Attempt<P> a = new Attempt<>(loop, factory, options, host + ":" + port);
        Future<List<InetSocketAddress>> names = Resolver.resolve(loop, host, port);
        a.stage = names;
        onDone(loop, names, n -> {
            if (a.out.isDone()) {
                return;
            }
            Throwable e = n.isCancelled() ? new CancellationException() : n.exception();
            if (e != null) {
                a.out.setException(e);
                return;
            }
            Future<SocketChannel> he = HappyEyeballs.connect(loop, n.result(), options);
            a.stage = he;
            onDone(loop, he, h -> a.connected(h));
        });
        return a.out;
    }

    public static <P extends Protocol> Future<Connection<P>> createUnixConnection(EventLoop eventLoop,
                                                                                 Supplier<P> factory, Path path,
                                                                                 ConnectOptions options) {
        TulipLoop loop = loop(eventLoop);
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        Attempt<P> a = new Attempt<>(loop, factory, options, path.toString());
        Future<SocketChannel> f = HappyEyeballs.connect(loop, List.of(UnixDomainSocketAddress.of(path)), options);
        a.stage = f;
        onDone(loop, f, a::connected);
        return a.out;
    }

    public static <P extends Protocol> Future<Connection<P>> wrapConnection(EventLoop eventLoop, Supplier<P> factory,
                                                                           SocketChannel channel) {
        TulipLoop loop = loop(eventLoop);
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(channel, "channel");
        if (!channel.isConnected()) {
            throw new IllegalArgumentException("the channel is not connected: " + channel);
        }
        Attempt<P> a = new Attempt<>(loop, factory, ConnectOptions.defaults(), String.valueOf(channel));
        SockOps.release(loop, channel); // the transport registers the channel itself
        Future<SocketChannel> f = loop.createFuture();
        a.stage = f;
        f.setResult(channel);
        onDone(loop, f, a::connected);
        return a.out;
    }

    /**
     * One createConnection: the returned future, the stage in progress, the timeout and the scope's cancel action.
     */
    private static final class Attempt<P extends Protocol> {
        final TulipLoop loop;
        final Supplier<P> factory;
        final ScopeImpl scope;
        final Future<Connection<P>> out;
        final String target;
        Future<?> stage;
        SelectorSocketTransport transport;
        TimerHandle timer;
        Handle scopeAction;
        int registeredWaits;

        Attempt(TulipLoop loop, Supplier<P> factory, ConnectOptions options, String target) {
            this.loop = loop;
            this.factory = factory;
            this.scope = loop.currentScopeImpl();
            this.target = target;
            this.out = loop.createFuture();
            if (scope.isCancelled()) {
                throw new IllegalStateException("scope '" + scope.name() + "' is cancelled: it accepts no new work");
            }
            scopeAction = scope.onCancel(() -> out.cancel("scope '" + scope.name() + "' was cancelled"));
            if (options.connectTimeout() != null) {
                ScopeImpl saved = loop.swapScope(loop.systemScope());
                try {
                    timer = loop.callLater(options.connectTimeout(), () -> {
                        if (!out.isDone()) {
                            out.setException(new SocketTimeoutException("connect to " + target + " timed out after "
                                    + options.connectTimeout().toMillis() + " ms"));
                        }
                    });
                } finally {
                    loop.swapScope(saved);
                }
            }
            onDone(loop, out, o -> finished());
        }

        /** The channel is connected (or failed): wrap it, unless the attempt is over already. */
        void connected(Future<SocketChannel> h) {
            if (h.isCancelled() || h.exception() != null) {
                if (!out.isDone()) {
                    out.setException(h.isCancelled() ? new CancellationException("connect cancelled") : h.exception());
                }
                return;
            }
            SocketChannel ch = h.result();
            if (out.isDone()) {
                closeQuietly(ch);
                return;
            }
            if (ch.isRegistered()) {
                // A registration that was just dropped (its selection key cancelled) goes away at the next poll;
                // registering again before that fails, so wait a pass or two. Still registered after that means
                // someone else watches the channel (addReader): refuse rather than share it.
                if (registeredWaits++ < 3) {
                    ScopeImpl saved = loop.swapScope(loop.systemScope());
                    try {
                        loop.callSoon(() -> connected(h));
                    } finally {
                        loop.swapScope(saved);
                    }
                    return;
                }
                closeQuietly(ch);
                out.setException(new IllegalStateException("the channel is still registered with a selector "
                        + "(remove its reader/writer first): " + ch));
                return;
            }
            P protocol;
            try {
                protocol = Objects.requireNonNull(factory.get(), "the protocol factory returned null");
            } catch (Throwable e) {
                closeQuietly(ch);
                out.setException(e);
                return;
            }
            try {
                transport = SelectorSocketTransport.start(loop, scope, ch, protocol, null, out);
            } catch (IOException | RuntimeException e) {
                if (!out.isDone()) {
                    out.setException(e);
                }
            }
        }

        void finished() {
            if (timer != null) {
                timer.cancel();
            }
            scopeAction.cancel();
            if (out.isCancelled() || out.exception() != null) {
                Future<?> s = stage;
                if (s != null && !s.isDone()) {
                    s.cancel(); // stops resolution or the connection race, closing its sockets
                }
                if (transport != null) {
                    transport.abort();
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Servers
    // ------------------------------------------------------------------------------------------------------------

    public static Future<Server> createServer(EventLoop eventLoop, Supplier<? extends Protocol> factory, String host,
                                              int port, ServerOptions options) {
        TulipLoop loop = loop(eventLoop);
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(options, "options");
        Resolver.checkPort(port);
        ScopeImpl scope = loop.currentScopeImpl();
        Future<Server> out = loop.createFuture();
        Future<List<InetSocketAddress>> names = Resolver.resolve(loop, host, port);
        onDone(loop, names, n -> {
            if (out.isDone()) {
                return;
            }
            if (n.isCancelled() || n.exception() != null) {
                out.setException(n.isCancelled() ? new CancellationException() : n.exception());
                return;
            }
            try {
                out.setResult(SelectorServer.bindTcp(loop, scope, factory, n.result(), options));
            } catch (IOException | RuntimeException e) {
                out.setException(e);
            }
        });
        return out;
    }

    public static Future<Server> createUnixServer(EventLoop eventLoop, Supplier<? extends Protocol> factory, Path path,
                                                  ServerOptions options) {
        TulipLoop loop = loop(eventLoop);
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(options, "options");
        Future<Server> out = loop.createFuture();
        try {
            out.setResult(SelectorServer.bindUnix(loop, loop.currentScopeImpl(), factory, path, options));
        } catch (IOException | RuntimeException e) {
            out.setException(e);
        }
        return out;
    }

    public static Future<Server> wrapServer(EventLoop eventLoop, Supplier<? extends Protocol> factory,
                                            ServerSocketChannel channel, ServerOptions options) {
        TulipLoop loop = loop(eventLoop);
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(options, "options");
        Future<Server> out = loop.createFuture();
        try {
            if (channel.getLocalAddress() == null) {
                throw new IllegalArgumentException("the server channel is not bound: " + channel);
            }
            out.setResult(SelectorServer.wrap(loop, loop.currentScopeImpl(), factory, channel, options));
        } catch (IOException e) {
            out.setException(e);
        }
        return out;
    }
}
