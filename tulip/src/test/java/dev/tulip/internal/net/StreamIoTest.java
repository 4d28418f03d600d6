package dev.tulip.internal.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tulip.EventLoop;
import dev.tulip.internal.loop.TulipLoop;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;

/**
 * The stream transports' byte-moving strategy: the channel's own calls on the Selector backend, native calls on the
 * epoll backend, both with the channel's result convention. The native half runs where epoll can (the
 * "epoll-backend" surefire execution) and is skipped elsewhere.
 */
class StreamIoTest {

    private static SocketChannel[] pair() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel a = SocketChannel.open(server.getLocalAddress());
            SocketChannel b = server.accept();
            a.configureBlocking(false);
            b.configureBlocking(false);
            return new SocketChannel[] {a, b};
        }
    }

    @Test
    void theSelectorBackendUsesTheChannel() throws IOException {
        SocketChannel[] p = pair();
        try (EventLoop loop = EventLoop.builder().backend("nio").build()) {
            StreamIo io = StreamIo.of((TulipLoop) loop, p[1]);
            assertInstanceOf(StreamIo.Channel.class, io);
            checkConvention(io, p);
        } finally {
            p[0].close();
            p[1].close();
        }
    }

    @Test
    void theEpollBackendUsesNativeCalls() throws IOException {
        String why = epollUnavailable();
        org.junit.jupiter.api.Assumptions.assumeTrue(why == null, () -> "epoll unavailable: " + why);
        org.junit.jupiter.api.Assumptions.assumeTrue(StreamIo.NATIVE_ON_EPOLL, "run with -Dtulip.nativeIo=false");
        SocketChannel[] p = pair();
        try (EventLoop loop = EventLoop.builder().backend("epoll").build()) {
            StreamIo io = StreamIo.of((TulipLoop) loop, p[1]);
            assertInstanceOf(StreamIo.Native.class, io);
            checkConvention(io, p);
        } finally {
            p[0].close();
            p[1].close();
        }
    }

    /** 0 for "nothing there", n, -1 at EOF; a closed channel is a ClosedChannelException, never a native call. */
    private static void checkConvention(StreamIo io, SocketChannel[] p) throws IOException {
        ByteBuffer in = ByteBuffer.allocateDirect(16);
        assertEquals(0, io.read(in));
        p[0].write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        p[0].close();
        p[1].configureBlocking(true); // wait for the bytes and the FIN without timing assumptions
        int n = 0;
        while (n < 3) {
            n += io.read(in);
        }
        assertEquals(3, in.position());
        assertEquals(-1, io.read(in));
        ByteBuffer[] mixed = {ByteBuffer.allocate(1).put(0, (byte) 9), ByteBuffer.allocateDirect(1)};
        assertEquals(2, io.write(mixed, 0, 2));
        p[1].close();
        assertThrows(ClosedChannelException.class, () -> io.read(ByteBuffer.allocate(4)));
        assertThrows(ClosedChannelException.class, () -> io.write(ByteBuffer.allocate(4)));
        assertThrows(ClosedChannelException.class, () -> io.write(new ByteBuffer[] {ByteBuffer.allocate(4)}, 0, 1));
    }

    /**
     * The whole echo path (readiness, a read into the loop's buffer, dataReceived, a write) allocates nothing per
     * message once compiled, on either backend: a client and an echo server on one loop ping-pong 1 KiB. On epoll
     * this is the native data path (it allocated 40 bytes per call until NativeIo stopped inlining its downcalls).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"nio", "epoll"})
    void steadyStateEchoAllocatesNothing(String backend) throws Exception {
        if (backend.equals("epoll")) {
            String why = epollUnavailable();
            org.junit.jupiter.api.Assumptions.assumeTrue(why == null, () -> "epoll unavailable: " + why);
        }
        Object threads = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean")
                .invoke(null);
        java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getCurrentThreadAllocatedBytes");
        try (EventLoop loop = EventLoop.builder().backend(backend).build()) {
            java.util.function.Supplier<dev.tulip.transport.Protocol> echo = () -> new dev.tulip.transport.Protocol() {
                private dev.tulip.transport.Transport t;

                @Override
                public void connectionMade(dev.tulip.transport.Transport transport) {
                    t = transport;
                }

                @Override
                public void dataReceived(ByteBuffer data) {
                    t.write(data);
                }
            };
            dev.tulip.transport.Server srv = NetTesting.run(loop, loop.createServer(echo, "127.0.0.1", 0));
            int port = ((InetSocketAddress) srv.addresses().getFirst()).getPort();
            PingPong client = new PingPong();
            NetTesting.run(loop, loop.createConnection(() -> client, "127.0.0.1", port));
            long bytes = -1;
            for (int round = 0; round < 100; round++) {
                client.done = loop.createFuture();
                client.left = 5_000;
                client.send();
                long before = (long) allocated.invoke(threads);
                NetTesting.run(loop, client.done);
                bytes = (long) allocated.invoke(threads) - before;
                if (bytes < 1024) {
                    break;
                }
            }
            org.junit.jupiter.api.Assertions.assertTrue(bytes < 1024,
                    bytes + " bytes allocated for 5000 echo round trips after warm-up on " + backend);
            srv.close();
        }
    }

    /** Sends 1 KiB, waits for all of it to come back, repeats {@code left} times. */
    private static final class PingPong implements dev.tulip.transport.Protocol {
        final ByteBuffer message = ByteBuffer.allocateDirect(1024);
        dev.tulip.transport.Transport t;
        dev.tulip.Future<Void> done;
        int left;
        int pending;

        @Override
        public void connectionMade(dev.tulip.transport.Transport transport) {
            t = transport;
        }

        void send() {
            pending = message.capacity();
            t.write(message.clear());
        }

        @Override
        public void dataReceived(ByteBuffer data) {
            pending -= data.remaining();
            data.position(data.limit());
            if (pending == 0 && --left > 0) {
                send();
            } else if (pending == 0) {
                done.setResult(null);
            }
        }
    }

    /** Why epoll cannot run here, or null (Backends is package-private in the loop package). */
    private static String epollUnavailable() {
        try (EventLoop loop = EventLoop.builder().backend("auto").build()) {
            return "epoll".equals(((TulipLoop) loop).backendName()) ? null : "auto chose nio";
        }
    }
}
