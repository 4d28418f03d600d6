package dev.tulip.bench.tls;

import dev.tulip.EventLoop;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS echo throughput, Tulip's TLS layer next to Netty's {@code SslHandler} (JDK provider, NIO transport), one
 * event-loop thread each.
 *
 * <pre>
 *   TlsEchoBench keystore PATH                      make a self-signed EC key (keytool) at PATH (PKCS12, "changeit")
 *   TlsEchoBench server tulip|netty PORT KEYSTORE   serve TLS echo on 127.0.0.1:PORT (one loop thread)
 *   TlsEchoBench client PORT CONNS SIZE SECONDS     closed-loop load: each connection sends SIZE bytes, reads them back
 * </pre>
 *
 * The client prints one line: {@code ops/s MiB/s} (MiB/s counts echoed payload one way).
 */
public final class TlsEchoBench {
    private static final char[] PASS = "changeit".toCharArray();

    private TlsEchoBench() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "keystore" -> keystore(Path.of(args[1]));
            case "server" -> server(args[1], Integer.parseInt(args[2]), Path.of(args[3]));
            case "client" -> client(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]));
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    static void keystore(Path path) throws Exception {
        Files.deleteIfExists(path);
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-validity", "30", "-keystore", path.toString(), "-storepass", "changeit", "-storetype", "PKCS12")
                .inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("keytool failed");
        }
    }

    static KeyManagerFactory kmf(Path ks) throws Exception {
        KeyStore k = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            k.load(in, PASS);
        }
        KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        f.init(k, PASS);
        return f;
    }

    static void server(String kind, int port, Path ks) throws Exception {
        KeyManagerFactory kmf = kmf(ks);
        if (kind.equals("tulip")) {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            try (EventLoop loop = EventLoop.create()) {
                loop.runUntilComplete(loop.createServer(Echo::new, "127.0.0.1", port, ServerOptions.defaults(),
                        TlsOptions.server(ctx).build()));
                System.out.println("tulip TLS echo on " + port);
                loop.runForever();
            }
        } else {
            SslContext ctx = SslContextBuilder.forServer(kmf).sslProvider(SslProvider.JDK).build();
            EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
            try {
                new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                        .childOption(ChannelOption.TCP_NODELAY, true)
                        .childHandler(new ChannelInitializer<SocketChannel>() {
                            @Override
                            protected void initChannel(SocketChannel ch) {
                                ch.pipeline().addLast(ctx.newHandler(ch.alloc()), new NettyEcho());
                            }
                        }).bind("127.0.0.1", port).sync();
                System.out.println("netty TLS echo on " + port);
                Thread.currentThread().join();
            } finally {
                group.shutdownGracefully();
            }
        }
    }

    /** Echo with backpressure. */
    static final class Echo implements Protocol {
        Transport t;

        @Override
        public void connectionMade(Transport transport) {
            t = transport;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            t.write(data);
        }

        @Override
        public void pauseWriting() {
            t.pauseReading();
        }

        @Override
        public void resumeWriting() {
            t.resumeReading();
        }
    }

    static final class NettyEcho extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
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

    static void client(int port, int conns, int size, int seconds) throws Exception {
        TrustManager trustAll = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] c, String a) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] c, String a) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {trustAll}, null);
        LongAdder ops = new LongAdder();
        AtomicBoolean counting = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < conns; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                byte[] msg = new byte[size];
                byte[] back = new byte[size];
                try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port)) {
                    s.setTcpNoDelay(true);
                    s.startHandshake();
                    OutputStream out = s.getOutputStream();
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    while (!stop.get()) {
                        out.write(msg);
                        out.flush();
                        in.readFully(back);
                        if (counting.get()) {
                            ops.increment();
                        }
                    }
                } catch (IOException e) {
                    if (!stop.get()) {
                        e.printStackTrace();
                    }
                }
            }));
        }
        TimeUnit.SECONDS.sleep(2); // warm-up
        counting.set(true);
        long t0 = System.nanoTime();
        TimeUnit.SECONDS.sleep(seconds);
        counting.set(false);
        long took = System.nanoTime() - t0;
        stop.set(true);
        double opsPerSec = ops.sum() * 1e9 / took;
        System.out.printf("%.0f ops/s %.1f MiB/s%n", opsPerSec, opsPerSec * size / (1024.0 * 1024.0));
        for (Thread t : threads) {
            t.join(2000);
        }
        System.exit(0);
    }
}
