package dev.tulip.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.tulip.Task;
import dev.tulip.Tulip;
import dev.tulip.stream.StreamConnection;
import dev.tulip.stream.Streams;
import dev.tulip.transport.Server;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class StreamsEchoServerTest {

    @Test
    void echoesFourMegabytesWhileTheClientWritesAndReadsConcurrently() {
        byte[] data = new byte[4 << 20];
        new Random(42).nextBytes(data);
        byte[] back = Tulip.run(() -> {
            Server server = Streams.startServer(StreamsEchoServer::echo, "127.0.0.1", 0).await();
            StreamConnection c = Streams.openConnection("127.0.0.1", Args.port(server)).await();
            Task<Void> writer = Task.spawn(() -> {
                for (int off = 0; off < data.length; off += 100_000) {
                    c.writer().write(data, off, Math.min(100_000, data.length - off));
                    c.writer().drain();
                }
                c.writer().writeEof();
                return null;
            });
            byte[] got = c.reader().readAll();
            writer.await();
            c.close();
            server.close();
            return got;
        });
        assertArrayEquals(data, back);
    }
}
