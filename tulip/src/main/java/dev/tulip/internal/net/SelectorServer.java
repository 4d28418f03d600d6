package dev.tulip.internal.net;

import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.TimerHandle;
import dev.tulip.internal.loop.IoHandler;
import dev.tulip.internal.loop.IoRegistration;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.Supplier;

/**
 * A {@link Server} over one or more non-blocking {@link ServerSocketChannel}s registered with the loop.
 *
 * <p>Accepting: each readiness event accepts up to {@code backlog} connections (asyncio's rule), each wrapped in a
 * {@link SelectorSocketTransport} in the server's scope. When accept fails for lack of file descriptors or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) the server reports it to the exception handler, stops watching its sockets for
 * {@link #ACCEPT_RETRY_DELAY} and then serves again; pending clients wait in the kernel's backlog meanwhile.
 *
 * <p>Loop thread only.
 */
final class SelectorServer implements Server {
    static final Duration ACCEPT_RETRY_DELAY = Duration.ofMillis(
            Long.getLong("tulip.acceptRetryDelayMillis", 1000));

    private final TulipLoop loop;
    private final ScopeImpl scope;
    private final Supplier<? extends Protocol> factory;
    private final ServerOptions options;
    private final List<Listener> listeners = new ArrayList<>(2);
    private final LinkedHashSet<SelectorSocketTransport> clients = new LinkedHashSet<>();
    private final Future<Void> closedFuture;
    private final Handle scopeAction;
    private Future<Void> serveForever;
    private TimerHandle retryTimer;
    private boolean serving;
    private boolean closed;

    private SelectorServer(TulipLoop loop, ScopeImpl scope, Supplier<? extends Protocol> factory,
                           ServerOptions options) {
        this.loop = loop;
        this.scope = scope;
        this.factory = factory;
        this.options = options;
        this.closedFuture = loop.createFuture();
        if (scope.isCancelled()) {
            throw new IllegalStateException("scope '" + scope.name() + "' is cancelled: it accepts no new work");
        }
        ScopeImpl saved = loop.swapScope(scope);
        try {
            this.scopeAction = scope.onCancel(() -> {
                close();
                CancellationException why = new CancellationException("scope '" + scope.name() + "' was cancelled");
                for (SelectorSocketTransport t : List.copyOf(clients)) {
                    t.closeNow(why);
                }
            });
        } finally {
            loop.swapScope(saved);
        }
    }

    static SelectorServer bindTcp(TulipLoop loop, ScopeImpl scope, Supplier<? extends Protocol> factory,
                                  List<InetSocketAddress> addrs, ServerOptions options) throws IOException {
        SelectorServer s = new SelectorServer(loop, scope, factory, options);
        try {
            int chosenPort = 0;
            for (InetSocketAddress given : new LinkedHashSet<>(addrs)) {
                // Port 0 with several addresses ("localhost": 127.0.0.1 and ::1): all listen on the port the kernel
                // picked for the first, so the server has one port (asyncio would give each its own).
                InetSocketAddress a = given.getPort() == 0 && chosenPort != 0
                        ? new InetSocketAddress(given.getAddress(), chosenPort) : given;
                // The wildcard gets the platform's default (dual-stack where IPv6 exists): one socket, both families.
                ServerSocketChannel ch = a.getAddress().isAnyLocalAddress() ? ServerSocketChannel.open()
                        : ServerSocketChannel.open(a.getAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
                try {
                    ch.setOption(StandardSocketOptions.SO_REUSEADDR, options.reuseAddress());
                    if (options.reusePort()) {
                        if (!ch.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
                            throw new UnsupportedOperationException("SO_REUSEPORT is not supported on this platform");
                        }
                        ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                    }
                    ch.bind(a, options.backlog());
                } catch (IOException | RuntimeException e) {
                    Sockets.closeQuietly(ch);
                    if (e instanceof BindException be) {
                        BindException named = new BindException(be.getMessage() + ": " + a);
                        named.initCause(be);
                        throw named;
                    }
                    throw e;
                }
                s.add(ch, null, null);
                chosenPort = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            }
            s.begin();
        } catch (IOException | RuntimeException e) {
            s.closeListeners();
            s.scopeAction.cancel();
            throw e;
        }
        return s;
    }

    static SelectorServer bindUnix(TulipLoop loop, ScopeImpl scope, Supplier<? extends Protocol> factory, Path path,
                                   ServerOptions options) throws IOException {
        removeStaleSocket(path);
        SelectorServer s = new SelectorServer(loop, scope, factory, options);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path), options.backlog());
            Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            s.add(ch, path, key);
            s.begin();
        } catch (IOException | RuntimeException e) {
            Sockets.closeQuietly(ch);
            s.closeListeners();
            s.scopeAction.cancel();
            throw e;
        }
        return s;
    }

    static SelectorServer wrap(TulipLoop loop, ScopeImpl scope, Supplier<? extends Protocol> factory,
                               ServerSocketChannel ch, ServerOptions options) throws IOException {
        SelectorServer s = new SelectorServer(loop, scope, factory, options);
        try {
            s.add(ch, null, null);
            s.begin();
        } catch (IOException | RuntimeException e) {
            s.closeListeners();
            s.scopeAction.cancel();
            throw e;
        }
        return s;
    }

    /**
     * A socket file left by a server that died is removed; a live one (something accepts on it) is an error, and so
     * is a path that exists and is not a socket (it is never deleted).
     */
    static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new FileAlreadyExistsException(path.toString(), null,
                    "exists and is not a socket; refusing to remove it");
        }
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            probe.connect(UnixDomainSocketAddress.of(path));
            throw new BindException("address already in use: a server is listening on " + path);
        } catch (BindException e) {
            throw e;
        } catch (IOException refused) {
            Files.deleteIfExists(path); // stale: nobody listens
        }
    }

    static boolean isSocket(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    private void add(ServerSocketChannel ch, Path unixPath, Object fileKey) throws IOException {
        Listener l = new Listener(ch, unixPath, fileKey);
        listeners.add(l);
        ch.configureBlocking(false);
        ScopeImpl saved = loop.swapScope(scope);
        try {
            l.reg = loop.register(ch, 0, l);
        } finally {
            loop.swapScope(saved);
        }
    }

    private void begin() {
        if (options.startServing()) {
            startServing();
        }
    }

    @Override
    public void startServing() {
        if (closed) {
            throw new IllegalStateException("the server is closed");
        }
        if (serving) {
            return;
        }
        serving = true;
        setAccepting(true);
    }

    private void setAccepting(boolean on) {
        for (Listener l : listeners) {
            l.reg.interestOps(on ? SelectionKey.OP_ACCEPT : 0);
        }
    }

    @Override
    public boolean isServing() {
        return serving;
    }

    @Override
    public Future<Void> serveForever() {
        if (closed) {
            throw new IllegalStateException("the server is closed");
        }
        if (serveForever == null) {
            serveForever = loop.createFuture();
            Sockets.onDone(loop, serveForever, f -> close());
        }
        startServing();
        return serveForever;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        serving = false;
        if (retryTimer != null) {
            retryTimer.cancel();
            retryTimer = null;
        }
        closeListeners();
        scopeAction.cancel();
        if (serveForever != null && !serveForever.isDone()) {
            serveForever.setResult(null);
        }
        maybeClosed();
    }

    private void closeListeners() {
        for (Listener l : listeners) {
            if (l.reg != null) {
                l.reg.deregister();
            }
            Sockets.closeQuietly(l.channel);
            if (l.unixPath != null) {
                try {
                    // Remove the socket file only if it is still ours (another server may have replaced it).
                    Object key = Files.readAttributes(l.unixPath, BasicFileAttributes.class,
                            LinkOption.NOFOLLOW_LINKS).fileKey();
                    if (Objects.equals(key, l.fileKey) && isSocket(l.unixPath)) {
                        Files.deleteIfExists(l.unixPath);
                    }
                } catch (IOException gone) {
                    // already removed
                }
            }
        }
        listeners.clear();
    }

    private void maybeClosed() {
        if (closed && clients.isEmpty() && !closedFuture.isDone()) {
            closedFuture.setResult(null);
        }
    }

    @Override
    public void closeClients() {
        for (SelectorSocketTransport t : List.copyOf(clients)) {
            t.close();
        }
    }

    @Override
    public void abortClients() {
        for (SelectorSocketTransport t : List.copyOf(clients)) {
            t.abort();
        }
    }

    @Override
    public Future<Void> waitClosed() {
        return closedFuture;
    }

    @Override
    public List<ServerSocketChannel> sockets() {
        ArrayList<ServerSocketChannel> out = new ArrayList<>(listeners.size());
        for (Listener l : listeners) {
            out.add(l.channel);
        }
        return List.copyOf(out);
    }

    @Override
    public List<SocketAddress> addresses() {
        ArrayList<SocketAddress> out = new ArrayList<>(listeners.size());
        for (Listener l : listeners) {
            try {
                out.add(l.channel.getLocalAddress());
            } catch (IOException closed) {
                // skip
            }
        }
        return List.copyOf(out);
    }

    private void lost(SelectorSocketTransport t) {
        clients.remove(t);
        maybeClosed();
    }

    private void accepted(SocketChannel c, boolean tcp) {
        Protocol p;
        try {
            c.configureBlocking(false);
            if (tcp && options.tcpNoDelay()) {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            p = Objects.requireNonNull(factory.get(), "the protocol factory returned null");
        } catch (Throwable e) {
            if (e instanceof VirtualMachineError vme) {
                throw vme;
            }
            Sockets.closeQuietly(c);
            loop.callExceptionHandler(new ExceptionContext("could not set up an accepted connection", e, null, null,
                    this, null));
            return;
        }
        try {
            clients.add(SelectorSocketTransport.start(loop, scope, c, p, this::lost, null));
        } catch (IOException | RuntimeException e) {
            loop.callExceptionHandler(new ExceptionContext("could not set up an accepted connection", e, null, null,
                    this, p));
        }
    }

    /** Whether an accept failure is the process or system running out of resources (back off, then retry). */
    private static boolean outOfResources(IOException e) {
        String m = String.valueOf(e.getMessage());
        return m.contains("Too many open files") || m.contains("No buffer space") || m.contains("Cannot allocate memory");
    }

    private void backOff(IOException e) {
        loop.callExceptionHandler(new ExceptionContext("accept failed (" + e.getMessage() + "): not accepting for "
                + ACCEPT_RETRY_DELAY.toMillis() + " ms", e, null, null, this, null));
        setAccepting(false);
        ScopeImpl saved = loop.swapScope(scope);
        try {
            retryTimer = loop.callLater(ACCEPT_RETRY_DELAY, () -> {
                retryTimer = null;
                if (serving && !closed) {
                    setAccepting(true);
                }
            });
        } finally {
            loop.swapScope(saved);
        }
    }

    @Override
    public String toString() {
        return "Server[" + addresses() + (closed ? ", closed" : serving ? ", serving" : "") + ", clients="
                + clients.size() + "]";
    }

    /** One listening socket. */
    private final class Listener implements IoHandler {
        final ServerSocketChannel channel;
        final Path unixPath;
        final Object fileKey;
        final boolean tcp;
        IoRegistration reg;

        Listener(ServerSocketChannel channel, Path unixPath, Object fileKey) throws IOException {
            this.channel = channel;
            this.unixPath = unixPath;
            this.fileKey = fileKey;
            this.tcp = !(channel.getLocalAddress() instanceof UnixDomainSocketAddress);
        }

        @Override
        public void ioReady(int readyOps) {
            for (int i = 0; i < options.backlog() && serving && retryTimer == null; i++) {
                SocketChannel c;
                try {
                    c = channel.accept();
                } catch (IOException e) {
                    if (outOfResources(e)) {
                        backOff(e);
                    } else if (channel.isOpen()) {
                        // ECONNABORTED and friends: the client gave up before we accepted; nothing to do.
                        SelectorSocketTransport.LOG.log(System.Logger.Level.DEBUG, "accept failed", e);
                    }
                    return;
                }
                if (c == null) {
                    return;
                }
                accepted(c, tcp);
            }
        }
    }
}
