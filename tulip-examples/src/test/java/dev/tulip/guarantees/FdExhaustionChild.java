package dev.tulip.guarantees;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.Transport;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Run in a child JVM under a low {@code ulimit -n}: one loop serves an echo server and connects to it until the
 * process runs out of file descriptors (accept fails first, then connect). Then it closes its connections and checks
 * that the loop still works: the server accepts again (after its back-off) and echoes. Prints one {@code FD ...} line.
 */
public final class FdExhaustionChild {
    private FdExhaustionChild() {
    }

    /** Echo. */
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
    }

    /** Collects what it receives. */
    static final class Sink implements Protocol {
        final StringBuilder got = new StringBuilder();
        Future<String> until;
        int want;

        @Override
        public void dataReceived(ByteBuffer data) {
            got.append(StandardCharsets.US_ASCII.decode(data));
            if (until != null && got.length() >= want && !until.isDone()) {
                until.setResult(got.toString());
            }
        }
    }

    public static void main(String[] args) throws Exception {
        AtomicInteger acceptFailures = new AtomicInteger();
        AtomicInteger otherFailures = new AtomicInteger();
        try (EventLoop loop = EventLoop.create()) {
            loop.setExceptionHandler((l, c) -> {
                if (c.message().startsWith("accept failed")) {
                    acceptFailures.incrementAndGet();
                } else {
                    otherFailures.incrementAndGet();
                    l.defaultExceptionHandler(c);
                }
            });
            Server server = loop.runUntilComplete(loop.createServer(Echo::new, "127.0.0.1", 0));
            int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
            List<Connection<Sink>> conns = new ArrayList<>();
            Throwable connectFailure = null;
            for (int i = 0; i < 10_000 && connectFailure == null; i++) {
                try {
                    conns.add(loop.runUntilComplete(loop.createConnection(Sink::new, "127.0.0.1", port)));
                } catch (Throwable e) {
                    // runUntilComplete wraps a checked failure in CompletionException (as Future.await does)
                    connectFailure = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
                            ? e.getCause() : e;
                }
            }
            int opened = conns.size();
            for (Connection<Sink> c : conns) {
                c.transport().abort();
            }
            sleep(loop, Duration.ofMillis(1500)); // the accept back-off is 1 s by default
            // Recovered: a new connection is accepted and echoes.
            Connection<Sink> c = loop.runUntilComplete(loop.createConnection(Sink::new, "127.0.0.1", port));
            c.protocol().until = loop.createFuture();
            c.protocol().want = 5;
            c.transport().write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
            Future<Void> timeout = loop.createFuture();
            loop.callLater(Duration.ofSeconds(20), () -> {
                if (!c.protocol().until.isDone()) {
                    c.protocol().until.setResult("TIMEOUT");
                }
            });
            String echoed = loop.runUntilComplete(c.protocol().until);
            c.transport().close();
            server.close();
            sleep(loop, Duration.ofMillis(100));
            System.out.println("FD opened=" + opened + " connectFailure="
                    + (connectFailure == null ? "none" : connectFailure.getClass().getName() + ":"
                            + connectFailure.getMessage()).replace(' ', '_')
                    + " acceptFailures=" + acceptFailures.get() + " otherFailures=" + otherFailures.get()
                    + " recovered=" + "hello".equals(echoed));
        }
        System.exit(0);
    }

    private static void sleep(EventLoop loop, Duration d) {
        Future<Void> f = loop.createFuture();
        loop.callLater(d, () -> f.setResult(null));
        loop.runUntilComplete(f);
    }
}
