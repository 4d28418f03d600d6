package dev.tulip.bench.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;

/**
 * The Netty echo server of the comparison: writes back every buffer it reads and flushes once per read batch, as
 * Netty's own echo example does. One event-loop thread; binds 127.0.0.1 only.
 *
 * <p>Usage: {@code NettyEchoServer PORT nio|epoll}. Prints {@code listening PORT} once bound and runs until killed.
 */
public final class NettyEchoServer {

    private NettyEchoServer() {
    }

    /** Echoes each read buffer back; the flush at the end of the read batch sends them with one syscall. */
    @ChannelHandler.Sharable
    static final class EchoHandler extends ChannelInboundHandlerAdapter {
        static final EchoHandler INSTANCE = new EchoHandler();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg, ctx.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Runs the server.
     *
     * @param args PORT and nio|epoll
     * @throws Exception if binding fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: NettyEchoServer PORT nio|epoll");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        NettyTransport transport = NettyTransport.parse(args[1]);
        EventLoopGroup group = transport.newSingleThreadGroup();
        try {
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(EchoHandler.INSTANCE);
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", port)).sync().channel();
            System.out.println("listening " + ((InetSocketAddress) server.localAddress()).getPort());
            System.out.flush();
            server.closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }
}
