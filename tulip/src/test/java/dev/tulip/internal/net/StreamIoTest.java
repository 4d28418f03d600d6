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

    /** Why epoll cannot run here, or null (Backends is package-private in the loop package). */
    private static String epollUnavailable() {
        try (EventLoop loop = EventLoop.builder().backend("auto").build()) {
            return "epoll".equals(((TulipLoop) loop).backendName()) ? null : "auto chose nio";
        }
    }
}
