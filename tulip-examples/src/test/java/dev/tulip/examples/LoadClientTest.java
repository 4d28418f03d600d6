package dev.tulip.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Server;
import dev.tulip.transport.Transport;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class LoadClientTest {

    /** Runs a server with {@code factory} on its own loop thread while {@code body} runs. */
    private static LoadClient.Result withServer(Supplier<Protocol> factory, java.util.function.IntFunction<LoadClient.Result> body)
            throws InterruptedException {
        EventLoop loop = EventLoop.create();
        Server server = loop.runUntilComplete(loop.createServer(factory, "127.0.0.1", 0));
        int port = ((InetSocketAddress) server.addresses().get(0)).getPort();
        Thread t = Thread.ofPlatform().start(() -> {
            loop.runForever();
            loop.close();
        });
        try {
            return body.apply(port);
        } finally {
            loop.stop();
            t.join(10_000);
        }
    }

    static final class Echo implements Protocol {
        Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            transport.write(data);
        }
    }

    /** Echoes, but flips one byte in the tenth chunk. */
    static final class Corrupting extends ProtocolBase {
        int chunks;

        @Override
        public void dataReceived(ByteBuffer data) {
            if (++chunks == 10 && data.hasRemaining()) {
                data.put(data.position(), (byte) (data.get(data.position()) + 1));
            }
            transport.write(data);
        }
    }

    abstract static class ProtocolBase implements Protocol {
        Transport transport;

        @Override
        public void connectionMade(Transport t) {
            transport = t;
        }
    }

    @Test
    void measuresAnEchoServerWithoutErrors() throws Exception {
        LoadClient.Result r = withServer(Echo::new, port -> LoadClient.run("127.0.0.1", port, 4, 1024,
                Duration.ofMillis(200), Duration.ofMillis(500)));
        assertEquals(0, r.errors(), r.line());
        assertTrue(r.requests() > 0, r.line());
        assertTrue(r.p50Micros() > 0 && r.p99Micros() >= r.p50Micros(), r.line());
        assertTrue(r.line().matches("echo conns=4 size=1024 reqs_per_s=\\d+ MiB_per_s=[\\d.]+ p50_us=[\\d.]+ "
                + "p99_us=[\\d.]+ errors=0"), r.line());
    }

    @Test
    void largeMessagesArriveInManyChunks() throws Exception {
        LoadClient.Result r = withServer(Echo::new, port -> LoadClient.run("127.0.0.1", port, 2, 300_000,
                Duration.ZERO, Duration.ofMillis(500)));
        assertEquals(0, r.errors(), r.line());
        assertTrue(r.requests() > 0, r.line());
    }

    @Test
    void corruptedEchoesAreCountedAsErrors() throws Exception {
        LoadClient.Result r = withServer(Corrupting::new, port -> LoadClient.run("127.0.0.1", port, 1, 100,
                Duration.ZERO, Duration.ofMillis(300)));
        assertEquals(1, r.errors(), r.line());
    }

    @Test
    void refusedConnectionsAreErrors() throws java.io.IOException {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed below: nothing listens there any more
        }
        LoadClient.Result r = LoadClient.run("127.0.0.1", port, 3, 10, Duration.ZERO, Duration.ofMillis(200));
        assertEquals(3, r.errors(), r.line());
        assertEquals(0, r.requests());
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> LoadClient.run("127.0.0.1", 1, 0, 10, Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> LoadClient.run("127.0.0.1", 1, 1, 10, Duration.ZERO, Duration.ZERO));
    }

    @Test
    void histogramPercentilesAreWithinItsResolution() {
        LoadClient.Histogram h = new LoadClient.Histogram();
        for (int i = 1; i <= 1000; i++) {
            h.record(i * 1000L);
        }
        assertEquals(500_000, h.percentile(50), 500_000 * 0.02);
        assertEquals(990_000, h.percentile(99), 990_000 * 0.02);
    }
}
