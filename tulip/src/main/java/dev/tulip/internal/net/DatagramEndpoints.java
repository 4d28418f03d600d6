package dev.tulip.internal.net;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.DatagramEndpoint;
import dev.tulip.transport.DatagramOptions;
import dev.tulip.transport.DatagramOptions.Family;
import dev.tulip.transport.DatagramProtocol;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.channels.DatagramChannel;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Creates datagram endpoints: resolves host names off the loop, opens and configures the channel, binds (and
 * connects), makes the protocol and the {@link SelectorDatagramTransport}, and schedules {@code connectionMade}.
 *
 * <p>Loop thread only (the resolution runs on a virtual thread and comes back through
 * {@link EventLoop#callSoonThreadsafe}).
 */
public final class DatagramEndpoints {
    private static final InetAddress IPV4_ANY = anyAddress(4);
    private static final InetAddress IPV6_ANY = anyAddress(16);

    private DatagramEndpoints() {
    }

    /**
     * The implementation of {@code EventLoop.createDatagramEndpoint}: see its documentation.
     *
     * @param eventLoop the loop (a {@link TulipLoop})
     * @param factory   makes the endpoint's protocol
     * @param options   where to bind, socket options
     * @param <P>       the protocol type
     * @return a future of the endpoint, done after {@code connectionMade}
     */
    public static <P extends DatagramProtocol> Future<DatagramEndpoint<P>> create(
            EventLoop eventLoop, Supplier<? extends P> factory, DatagramOptions options) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(options, "options");
        TulipLoop loop = checkLoop(eventLoop);
        ScopeImpl scope = loop.currentScopeImpl();
        Future<DatagramEndpoint<P>> future = loop.createFuture();
        boolean needsResolution = (options.localAddress() != null && options.localAddress().isUnresolved())
                || (options.remoteAddress() != null && options.remoteAddress().isUnresolved());
        if (!needsResolution) {
            open(loop, factory, options, future);
            return future;
        }
        Handle onCancel = scope.onCancel(() -> future.cancel("scope '" + scope.name()
                + "' was cancelled while resolving the datagram endpoint's addresses"));
        Thread.ofVirtual().name("tulip-datagram-resolve").start(() -> {
            Object outcome;
            try {
                outcome = resolve(options);
            } catch (UnknownHostException | RuntimeException e) {
                outcome = e;
            }
            Object result = outcome;
            try {
                loop.callSoonThreadsafe(() -> {
                    onCancel.cancel();
                    if (future.isDone()) {
                        return; // cancelled meanwhile
                    }
                    if (result instanceof Exception e) {
                        future.setException(e);
                        return;
                    }
                    ScopeImpl saved = loop.swapScope(scope);
                    try {
                        open(loop, factory, (DatagramOptions) result, future);
                    } finally {
                        loop.swapScope(saved);
                    }
                });
            } catch (IllegalStateException loopClosed) {
                // The loop closed while we resolved: nothing is left to complete.
            }
        });
        return future;
    }

    private static <P extends DatagramProtocol> void open(TulipLoop loop, Supplier<? extends P> factory,
                                                          DatagramOptions o, Future<DatagramEndpoint<P>> future) {
        DatagramChannel ch = null;
        try {
            Family family = chooseFamily(o);
            if (family == Family.DUAL_STACK && o.family() == Family.AUTO) {
                try {
                    ch = DatagramChannel.open(StandardProtocolFamily.INET6);
                } catch (UnsupportedOperationException | IOException noIpv6) {
                    family = Family.IPV4; // no IPv6 on this system: AUTO means IPv4 then
                }
            }
            if (ch == null) {
                ch = DatagramChannel.open(family == Family.IPV4 ? StandardProtocolFamily.INET
                        : StandardProtocolFamily.INET6);
            }
            ch.configureBlocking(false);
            configure(ch, o);
            ch.bind(bindAddress(family, o.localAddress()));
            if (o.remoteAddress() != null) {
                ch.connect(o.remoteAddress());
            }
            start(loop, ch, factory, o.remoteAddress(), family, o.maxDatagramSize(), future);
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            future.setException(e);
        }
    }

    /**
     * The implementation of {@code EventLoop.createDatagramEndpoint(factory, channel)}: adopts a bound channel.
     *
     * @param eventLoop the loop (a {@link TulipLoop})
     * @param factory   makes the endpoint's protocol
     * @param channel   a bound datagram channel, connected or not
     * @param <P>       the protocol type
     * @return a future of the endpoint, done after {@code connectionMade}
     */
    public static <P extends DatagramProtocol> Future<DatagramEndpoint<P>> adopt(
            EventLoop eventLoop, Supplier<? extends P> factory, DatagramChannel channel) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(channel, "channel");
        TulipLoop loop = checkLoop(eventLoop);
        if (!channel.isOpen()) {
            throw new IllegalStateException("the datagram channel is closed: " + channel);
        }
        Future<DatagramEndpoint<P>> future = loop.createFuture();
        try {
            InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
            if (local == null) {
                throw new IllegalArgumentException("the datagram channel is not bound: bind it (port 0 picks a free "
                        + "port) or use createDatagramEndpoint(factory, options)");
            }
            // The JDK does not say a channel's family; an IPv4 local address means IPv4 only, otherwise the kernel
            // judges each destination (its refusals go to errorReceived).
            Family family = local.getAddress() instanceof Inet4Address ? Family.IPV4 : Family.DUAL_STACK;
            channel.configureBlocking(false);
            start(loop, channel, factory, (InetSocketAddress) channel.getRemoteAddress(), family,
                    DatagramOptions.MAX_DATAGRAM_SIZE, future);
        } catch (IllegalArgumentException e) {
            throw e; // bad input: the caller keeps the channel
        } catch (IOException | RuntimeException e) {
            try {
                channel.close(); // the endpoint owned the channel from the start
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            future.setException(e);
        }
        return future;
    }

    private static TulipLoop checkLoop(EventLoop eventLoop) {
        if (!(eventLoop instanceof TulipLoop loop)) {
            throw new UnsupportedOperationException("datagram endpoints need Tulip's own event loop, not "
                    + eventLoop.getClass().getName());
        }
        loop.checkThread();
        if (loop.isClosed()) {
            throw new IllegalStateException("event loop is closed");
        }
        ScopeImpl scope = loop.currentScopeImpl();
        if (scope.isCancelled()) {
            throw new IllegalStateException("scope '" + scope.name() + "' is cancelled: it accepts no new work");
        }
        return loop;
    }

    /** Makes the protocol and the transport, registers it, and schedules connectionMade. */
    private static <P extends DatagramProtocol> void start(TulipLoop loop, DatagramChannel ch,
                                                           Supplier<? extends P> factory, InetSocketAddress remote,
                                                           Family family, int maxDatagramSize,
                                                           Future<DatagramEndpoint<P>> future) throws IOException {
        P protocol = Objects.requireNonNull(factory.get(), "the protocol factory returned null");
        SelectorDatagramTransport t = new SelectorDatagramTransport(loop, ch, protocol, remote, family,
                maxDatagramSize, future);
        t.register();
        // connectionMade runs in a later pass, in the creation scope, before reading starts; the future is done
        // after it (asyncio's order).
        loop.callSoon(() -> {
            if (future.isDone()) {
                t.forceClose(null); // the caller cancelled the future: nobody will use the endpoint
                return;
            }
            Throwable failure = t.start();
            if (future.isDone()) {
                return;
            }
            if (failure == null) {
                future.setResult(new DatagramEndpoint<>(t, protocol));
            } else {
                future.setException(failure);
            }
        });
    }

    /** Socket options. SO_REUSEADDR stays off: on UDP it lets another process steal the port (cpython #81409). */
    private static void configure(DatagramChannel ch, DatagramOptions o) throws IOException {
        ch.setOption(StandardSocketOptions.SO_REUSEADDR, false);
        if (o.receiveBufferSize() > 0) {
            ch.setOption(StandardSocketOptions.SO_RCVBUF, o.receiveBufferSize()); // the kernel caps it silently
        }
        if (o.sendBufferSize() > 0) {
            ch.setOption(StandardSocketOptions.SO_SNDBUF, o.sendBufferSize());
        }
        if (o.reusePort()) {
            if (!ch.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
                throw new UnsupportedOperationException("reusePort: SO_REUSEPORT is not supported on this platform");
            }
            ch.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        }
        if (o.allowBroadcast()) {
            ch.setOption(StandardSocketOptions.SO_BROADCAST, true);
        }
        if (o.multicastInterface() != null) {
            ch.setOption(StandardSocketOptions.IP_MULTICAST_IF, o.multicastInterface());
        }
        if (o.multicastTtl() >= 0) {
            ch.setOption(StandardSocketOptions.IP_MULTICAST_TTL, o.multicastTtl());
        }
        if (!o.multicastLoopback()) {
            ch.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false);
        }
    }

    /** The family of the socket for these (resolved) options; see {@link Family#AUTO}. */
    static Family chooseFamily(DatagramOptions o) {
        if (o.family() != Family.AUTO) {
            return o.family();
        }
        InetSocketAddress l = o.localAddress();
        InetSocketAddress r = o.remoteAddress();
        if (l != null && !l.getAddress().isAnyLocalAddress()) {
            return l.getAddress() instanceof Inet4Address ? Family.IPV4 : Family.IPV6;
        }
        if (r != null) {
            return r.getAddress() instanceof Inet4Address ? Family.IPV4 : Family.IPV6;
        }
        if (l != null && l.getAddress() instanceof Inet4Address) {
            return Family.IPV4;
        }
        return Family.DUAL_STACK;
    }

    private static InetSocketAddress bindAddress(Family family, InetSocketAddress local) {
        if (local != null && !local.getAddress().isAnyLocalAddress()) {
            return local;
        }
        int port = local == null ? 0 : local.getPort();
        return new InetSocketAddress(family == Family.IPV4 ? IPV4_ANY : IPV6_ANY, port);
    }

    /** Resolves host names (blocking: call off the loop). The options' constructor re-checks the families. */
    static DatagramOptions resolve(DatagramOptions o) throws UnknownHostException {
        InetSocketAddress l = o.localAddress();
        InetSocketAddress r = o.remoteAddress();
        if (l != null && l.isUnresolved()) {
            l = new InetSocketAddress(pick(l.getHostString(), o.family(), null), l.getPort());
        }
        if (r != null && r.isUnresolved()) {
            r = new InetSocketAddress(pick(r.getHostString(), o.family(), l), r.getPort());
        }
        return o.toBuilder().localAddress(l).remoteAddress(r).build();
    }

    private static InetAddress pick(String host, Family family, InetSocketAddress local) throws UnknownHostException {
        Class<? extends InetAddress> want = switch (family) {
            case IPV4 -> Inet4Address.class;
            case IPV6 -> Inet6Address.class;
            default -> local != null && !local.getAddress().isAnyLocalAddress() ? local.getAddress().getClass() : null;
        };
        InetAddress[] all = InetAddress.getAllByName(host);
        for (InetAddress a : all) {
            if (want == null || want.isInstance(a)) {
                return a;
            }
        }
        throw new UnknownHostException(host + " has no " + (want == Inet4Address.class ? "IPv4" : "IPv6")
                + " address");
    }

    private static InetAddress anyAddress(int length) {
        try {
            return InetAddress.getByAddress(new byte[length]);
        } catch (UnknownHostException impossible) {
            throw new AssertionError(impossible);
        }
    }
}
