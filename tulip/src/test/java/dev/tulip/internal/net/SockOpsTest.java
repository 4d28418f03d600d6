package dev.tulip.internal.net;

import static dev.tulip.internal.net.NetTesting.bytes;
import static dev.tulip.internal.net.NetTesting.run;
import static dev.tulip.internal.net.NetTesting.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The awaitable low-level socket operations over loopback. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SockOpsTest {
    EventLoop loop;
    ServerSocketChannel listener;

    @BeforeEach
    void setUp() throws Exception {
        loop = EventLoop.create();
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress("127.0.0.1", 0));
        listener.configureBlocking(false);
    }

    @AfterEach
    void tearDown() throws Exception {
        loop.close();
        listener.close();
    }

    @Test
    void acceptConnectSendRecvRoundTrip() throws Exception {
        Future<SocketChannel> accepted = loop.sockAccept(listener);
        assertFalse(accepted.isDone(), "nobody connected yet: the accept waits");
        SocketChannel client = SocketChannel.open();
        client.configureBlocking(false);
        run(loop, loop.sockConnect(client, listener.getLocalAddress()));
        SocketChannel server = run(loop, accepted);
        assertFalse(server.isBlocking());

        Future<ByteBuffer> pending = loop.sockRecv(server, 100);
        assertFalse(pending.isDone());
        run(loop, loop.sockSendAll(client, bytes("hello")));
        ByteBuffer got = run(loop, pending);
        assertEquals("hello", new String(got.array(), 0, got.limit()));

        // A big send waits for writability as often as needed while the other side drains it.
        ByteBuffer big = ByteBuffer.allocate(8 << 20);
        Future<Void> sent = loop.sockSendAll(client, big);
        ByteBuffer sink = ByteBuffer.allocateDirect(1 << 20);
        long total = 0;
        while (total < big.capacity()) {
            sink.clear();
            total += run(loop, loop.sockRecvInto(server, sink));
        }
        run(loop, sent);
        assertFalse(big.hasRemaining());

        client.shutdownOutput();
        assertEquals(-1, run(loop, loop.sockRecvInto(server, ByteBuffer.allocate(10))));
        assertEquals(0, run(loop, loop.sockRecv(server, 10)).remaining(), "EOF is an empty buffer");
        client.close();
        server.close();
    }

    @Test
    void cancellingAWaitStopsWatching() throws Exception {
        SocketChannel client = SocketChannel.open(listener.getLocalAddress());
        SocketChannel server = run(loop, loop.sockAccept(listener));
        client.configureBlocking(false);
        Future<Integer> r = loop.sockRecvInto(server, ByteBuffer.allocate(10));
        assertTrue(r.cancel());
        for (int i = 0; i < 3; i++) {
            loop.callLater(Duration.ofMillis(1), () -> { });
            loop.runOnce();
        }
        // A later receive still works.
        client.write(bytes("x"));
        assertEquals(1, run(loop, loop.sockRecvInto(server, ByteBuffer.allocate(10))));
        // A second receive while one is pending is refused with a clear error.
        Future<Integer> first = loop.sockRecvInto(server, ByteBuffer.allocate(10));
        Future<Integer> second = loop.sockRecvInto(server, ByteBuffer.allocate(10));
        assertInstanceOf(IllegalStateException.class, second.exception());
        first.cancel();
        // The channel can then become a transport.
        NetTesting.Recorder rec = new NetTesting.Recorder(loop);
        run(loop, loop.createConnection(() -> rec, server));
        client.write(bytes("to transport"));
        runUntil(loop, () -> rec.data.size() == 12);
        rec.transport.close();
        client.close();
        server.close();
    }

    @Test
    void errorsAndBadArguments() throws Exception {
        int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        listener.close();
        SocketChannel c = SocketChannel.open();
        c.configureBlocking(false);
        Future<Void> f = loop.sockConnect(c, new InetSocketAddress("127.0.0.1", port));
        runUntil(loop, f::isDone);
        assertInstanceOf(ConnectException.class, assertThrows(CompletionException.class, f::result).getCause());
        c.close();
        SocketChannel blocking = SocketChannel.open();
        assertThrows(IllegalArgumentException.class, () -> loop.sockRecv(blocking, 1));
        blocking.configureBlocking(false);
        assertThrows(IllegalArgumentException.class, () -> loop.sockRecv(blocking, 0));
        assertThrows(IllegalArgumentException.class,
                () -> loop.sockRecvInto(blocking, ByteBuffer.allocate(1).asReadOnlyBuffer()));
        blocking.close();
    }

    @Test
    void connectResolvesUnresolvedAddresses() throws Exception {
        ServerSocketChannel l = ServerSocketChannel.open();
        l.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = ((InetSocketAddress) l.getLocalAddress()).getPort();
        SocketChannel c = SocketChannel.open();
        c.configureBlocking(false);
        run(loop, loop.sockConnect(c, InetSocketAddress.createUnresolved("127.0.0.1", port)));
        assertTrue(c.isConnected());
        c.close();
        l.close();
    }
}
