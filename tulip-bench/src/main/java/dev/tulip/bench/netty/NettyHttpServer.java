package dev.tulip.bench.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;

/**
 * The Netty HTTP/1.1 "Hello, World!" server of the comparison, in the style of Netty's TechEmpower entry:
 * {@link HttpServerCodec}, a prebuilt body, keep-alive, flush once per read batch. Response headers are the same set
 * the C reference server sends: Server, Date (refreshed once per second by a loop timer), Content-Type,
 * Content-Length. One event-loop thread; binds 127.0.0.1 only.
 *
 * <p>Usage: {@code NettyHttpServer PORT nio|epoll}. Prints {@code listening PORT} once bound and runs until killed.
 */
public final class NettyHttpServer {

    private static final byte[] BODY = "Hello, World!".getBytes(StandardCharsets.US_ASCII);
    private static final AsciiString SERVER = AsciiString.cached("Netty");
    private static final AsciiString TEXT_PLAIN = AsciiString.cached("text/plain");
    private static final AsciiString BODY_LENGTH = AsciiString.cached(Integer.toString(BODY.length));
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", java.util.Locale.ROOT);

    /** The current Date header value; written and read on the single event-loop thread only. */
    private static AsciiString date = now();

    private NettyHttpServer() {
    }

    private static AsciiString now() {
        return new AsciiString(HTTP_DATE.format(ZonedDateTime.now(ZoneOffset.UTC)));
    }

    /** Answers every request with the hello response; closes when the request asks for it. */
    static final class HelloHandler extends ChannelInboundHandlerAdapter {
        private final ByteBuf body = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(BODY));

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest req) {
                    boolean keepAlive = HttpUtil.isKeepAlive(req);
                    FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                            body.duplicate(), false);
                    res.headers()
                            .set(HttpHeaderNames.SERVER, SERVER)
                            .set(HttpHeaderNames.DATE, date)
                            .set(HttpHeaderNames.CONTENT_TYPE, TEXT_PLAIN)
                            .set(HttpHeaderNames.CONTENT_LENGTH, BODY_LENGTH);
                    if (keepAlive) {
                        ctx.write(res, ctx.voidPromise());
                    } else {
                        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
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
            System.err.println("usage: NettyHttpServer PORT nio|epoll");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        NettyTransport transport = NettyTransport.parse(args[1]);
        EventLoopGroup group = transport.newSingleThreadGroup();
        try {
            group.next().scheduleAtFixedRate(() -> date = now(), 1, 1, TimeUnit.SECONDS);
            Channel server = new ServerBootstrap()
                    .group(group)
                    .channel(transport.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HelloHandler());
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
