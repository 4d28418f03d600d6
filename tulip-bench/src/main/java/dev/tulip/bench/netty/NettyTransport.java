package dev.tulip.bench.netty;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.util.Locale;

/**
 * The Netty transport a comparison server runs on: NIO (the JDK selector, what Tulip's default backend also uses) or
 * epoll (Netty's JNI transport). One event-loop thread in both cases, for a fair comparison with single-threaded
 * loops.
 */
enum NettyTransport {
    NIO, EPOLL;

    /**
     * Parses "nio" or "epoll".
     *
     * @param name the transport name
     * @return the transport
     * @throws IllegalArgumentException if unknown, or epoll is asked for and unavailable (the cause says why)
     */
    static NettyTransport parse(String name) {
        NettyTransport t = switch (name.toLowerCase(Locale.ROOT)) {
            case "nio" -> NIO;
            case "epoll" -> EPOLL;
            default -> throw new IllegalArgumentException("transport must be nio or epoll, not '" + name + "'");
        };
        if (t == EPOLL && !Epoll.isAvailable()) {
            throw new IllegalArgumentException("Netty epoll is not available here", Epoll.unavailabilityCause());
        }
        return t;
    }

    /**
     * A group with exactly one event-loop thread, used for accepting and for all connections.
     *
     * @return the group
     */
    EventLoopGroup newSingleThreadGroup() {
        IoHandlerFactory f = this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        return new MultiThreadIoEventLoopGroup(1, f);
    }

    /**
     * The server channel class of this transport.
     *
     * @return the channel class
     */
    Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }
}
