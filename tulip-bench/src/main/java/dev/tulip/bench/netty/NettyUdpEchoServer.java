package dev.tulip.bench.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.InetSocketAddress;

/**
 * The Netty UDP echo server of the datagram comparison: one event-loop thread, a {@code DatagramChannel} (epoll by
 * default, or NIO) bound to 127.0.0.1, every datagram written back to its sender and flushed once per read batch
 * (so epoll can send the batch with one {@code sendmmsg}). {@code SO_RCVBUF} is 4 MiB, as Tulip's default.
 *
 * <p>Usage: {@code NettyUdpEchoServer [--port P] [--transport epoll|nio]}. Prints {@code listening HOST:PORT} once
 * bound and runs until killed. Run with {@code --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED}.
 */
public final class NettyUdpEchoServer {

    private NettyUdpEchoServer() {
    }

    /** Writes each datagram back to its sender; flushes at the end of each read batch. */
    static final class Echo extends SimpleChannelInboundHandler<DatagramPacket> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
            ctx.write(new DatagramPacket(packet.content().retain(), packet.sender()), ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            System.err.println("netty udp echo: " + cause); // ICMP errors and the like: keep serving
        }
    }

    /**
     * Runs the server.
     *
     * @param args {@code --port P}, {@code --transport epoll|nio}
     * @throws Exception if binding fails
     */
    public static void main(String[] args) throws Exception {
        int port = 0;
        boolean epoll = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--transport" -> epoll = switch (args[++i]) {
                    case "epoll" -> true;
                    case "nio" -> false;
                    default -> throw new IllegalArgumentException("transport must be epoll or nio: " + args[i]);
                };
                default -> {
                    System.err.println("usage: NettyUdpEchoServer [--port P] [--transport epoll|nio]");
                    System.exit(2);
                }
            }
        }
        if (epoll && !Epoll.isAvailable()) {
            throw new IllegalStateException("Netty epoll is not available", Epoll.unavailabilityCause());
        }
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, factory);
        try {
            Channel ch = new Bootstrap()
                    .group(group)
                    .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                    .option(ChannelOption.SO_RCVBUF, 4 * 1024 * 1024)
                    .handler(new Echo())
                    .bind(new InetSocketAddress("127.0.0.1", port)).sync().channel();
            InetSocketAddress bound = (InetSocketAddress) ch.localAddress();
            System.out.println("listening " + bound.getAddress().getHostAddress() + ":" + bound.getPort());
            System.out.flush();
            ch.closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }
}
