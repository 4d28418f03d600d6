package dev.tulip.examples;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Tulip;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.Transport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/**
 * A single-threaded echo server on one event loop, for the echo benchmark (uvloop/vmbench style): every byte a
 * client sends comes back.
 *
 * <pre>
 *   ./tulipw run EchoServer --port 25000 [--host 127.0.0.1] [--api protocol|sock] [--unix PATH]
 * </pre>
 *
 * <ul>
 *   <li>{@code --api protocol} (default): the transport/protocol API; {@code dataReceived} writes the loop's read
 *       buffer straight back (the write goes out at once; only what the kernel refuses is copied).</li>
 *   <li>{@code --api sock}: the low-level awaitable {@code sockAccept/sockRecvInto/sockSendAll} operations in tasks
 *       ({@code Tulip.run}, one task per connection, plain sequential code with {@code await()}; one 64 KiB buffer
 *       per connection). Run with {@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED} for the fast
 *       Continuation engine ({@code ./tulipw run} does).</li>
 *   <li>{@code --api sock-callbacks}: the same operations chained with done callbacks, no tasks.</li>
 * </ul>
 * Prints "listening on ADDRESS" when ready; runs until killed.
 */
public final class EchoServer {
    private EchoServer() {
    }

    /** The protocol echo: the received buffer goes straight back. */
    static final class EchoProtocol implements Protocol {
        private Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
            // Back-pressure as the C reference server does it: the moment the kernel does not take a whole echo,
            // stop reading until the rest is written (no unbounded buffering, no copy of data we could not send).
            t.setWriteBufferLimits(0, 0);
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            transport.write(data);
        }

        @Override
        public void pauseWriting() {
            transport.pauseReading();
        }

        @Override
        public void resumeWriting() {
            transport.resumeReading();
        }
    }

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 25000;
        String api = "protocol";
        String unix = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--host" -> host = args[++i];
                case "--api" -> api = args[++i];
                case "--unix" -> unix = args[++i];
                default -> {
                    System.err.println("usage: EchoServer [--host H] [--port P] [--api protocol|sock] [--unix PATH]");
                    System.exit(2);
                }
            }
        }
        if (api.equals("sock")) {
            serveWithTasks(host, port);
            return;
        }
        try (EventLoop loop = EventLoop.create()) {
            switch (api) {
                case "protocol" -> {
                    Future<Server> f = unix != null ? loop.createUnixServer(EchoProtocol::new, Path.of(unix))
                            : loop.createServer(EchoProtocol::new, host, port);
                    Server server = loop.runUntilComplete(f);
                    System.out.println("listening on " + server.addresses() + " (protocol API)");
                }
                case "sock-callbacks" -> {
                    ServerSocketChannel ss = ServerSocketChannel.open();
                    ss.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    ss.bind(new InetSocketAddress(host, port), 100);
                    ss.configureBlocking(false);
                    System.out.println("listening on " + ss.getLocalAddress() + " (sock* API)");
                    acceptLoop(loop, ss);
                }
                default -> {
                    System.err.println("unknown --api " + api + " (protocol, sock or sock-callbacks)");
                    System.exit(2);
                }
            }
            System.out.flush();
            loop.runForever();
        }
    }

    /** The sock* echo as asyncio users write it: an accept loop and one task per connection. */
    private static void serveWithTasks(String host, int port) {
        Tulip.run(() -> {
            EventLoop loop = EventLoop.current();
            try (ServerSocketChannel ss = ServerSocketChannel.open()) {
                ss.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                ss.bind(new InetSocketAddress(host, port), 100);
                ss.configureBlocking(false);
                System.out.println("listening on " + ss.getLocalAddress() + " (sock* API in tasks)");
                System.out.flush();
                while (true) {
                    SocketChannel ch = loop.sockAccept(ss).await();
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    loop.createTask(() -> {
                        ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
                        try (ch) {
                            while (loop.sockRecvInto(ch, buf.clear()).await() >= 0) {
                                loop.sockSendAll(ch, buf.flip()).await();
                            }
                        } catch (IOException | java.util.concurrent.CompletionException e) {
                            // the client went away: the connection is closed by try-with-resources
                        }
                        return null;
                    });
                }
            }
        });
    }

    private static void acceptLoop(EventLoop loop, ServerSocketChannel ss) {
        loop.sockAccept(ss).addDoneCallback(f -> {
            if (f.exception() != null) {
                System.err.println("accept failed: " + f.exception());
            } else {
                SocketChannel ch = f.result();
                try {
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                } catch (IOException ignored) {
                    // not fatal for an echo
                }
                pump(loop, ch, ByteBuffer.allocateDirect(64 * 1024));
            }
            acceptLoop(loop, ss);
        });
    }

    /** Receive, send back, repeat: iterates while operations complete at once, waits with a callback otherwise. */
    private static void pump(EventLoop loop, SocketChannel ch, ByteBuffer buf) {
        while (true) {
            buf.clear();
            Future<Integer> r = loop.sockRecvInto(ch, buf);
            if (!r.isDone()) {
                r.addDoneCallback(d -> {
                    if (echo(loop, ch, buf, d)) {
                        pump(loop, ch, buf);
                    }
                });
                return;
            }
            if (!echo(loop, ch, buf, r)) {
                return;
            }
        }
    }

    /** Sends back what {@code r} received; true if the pump may go on at once, false if it ended or waits. */
    private static boolean echo(EventLoop loop, SocketChannel ch, ByteBuffer buf, Future<Integer> r) {
        if (r.exception() != null || r.result() < 0) {
            close(ch);
            return false;
        }
        buf.flip();
        Future<Void> w = loop.sockSendAll(ch, buf);
        if (!w.isDone()) {
            w.addDoneCallback(d -> {
                if (d.exception() != null) {
                    close(ch);
                } else {
                    pump(loop, ch, buf);
                }
            });
            return false;
        }
        if (w.exception() != null) {
            close(ch);
            return false;
        }
        return true;
    }

    private static void close(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already broken
        }
    }
}
