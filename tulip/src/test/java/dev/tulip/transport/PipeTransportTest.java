package dev.tulip.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** connectReadPipe / connectWritePipe over a java.nio Pipe and plain streams. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PipeTransportTest {

    @Test
    void readPipeDeliversDataThenEofThenLost() throws Exception {
        Pipe pipe = Pipe.open();
        try (EventLoop loop = EventLoop.create()) {
            List<String> events = new ArrayList<>();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            Future<Void> lost = loop.createFuture();
            Protocol p = new Protocol() {
                @Override
                public void connectionMade(Transport t) {
                    events.add("made");
                    assertThrows(UnsupportedOperationException.class, () -> t.write(ByteBuffer.allocate(1)));
                }

                @Override
                public void dataReceived(ByteBuffer data) {
                    byte[] b = new byte[data.remaining()];
                    data.get(b);
                    got.writeBytes(b);
                }

                @Override
                public boolean eofReceived() {
                    events.add("eof");
                    return false;
                }

                @Override
                public void connectionLost(Throwable cause) {
                    events.add("lost " + cause);
                    lost.setResult(null);
                }
            };
            loop.runUntilComplete(loop.connectReadPipe(() -> p, Channels.newInputStream(pipe.source())));
            Thread writer = Thread.ofPlatform().start(() -> {
                try (OutputStream out = Channels.newOutputStream(pipe.sink())) {
                    for (int i = 0; i < 1000; i++) {
                        out.write(("line " + i + "\n").getBytes(StandardCharsets.UTF_8));
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            loop.runUntilComplete(lost);
            writer.join();
            assertEquals(List.of("made", "eof", "lost null"), events);
            String text = got.toString(StandardCharsets.UTF_8);
            assertTrue(text.startsWith("line 0\n") && text.endsWith("line 999\n"));
            assertEquals(1000, text.lines().count());
        }
    }

    @Test
    void writePipeDeliversAllBytesAndClosesAfterFlushing() throws Exception {
        Pipe pipe = Pipe.open();
        try (EventLoop loop = EventLoop.create()) {
            Future<Void> lost = loop.createFuture();
            boolean[] paused = {false};
            Protocol p = new Protocol() {
                @Override
                public void connectionMade(Transport t) {
                    assertThrows(UnsupportedOperationException.class, t::pauseReading);
                    for (int i = 0; i < 64; i++) {
                        t.write(ByteBuffer.wrap(new byte[16 * 1024]));
                    }
                    assertTrue(t.writeBufferSize() > 0);
                    t.close();
                    assertTrue(t.isClosing());
                    assertThrows(IllegalStateException.class, () -> t.write(ByteBuffer.allocate(1)));
                }

                @Override
                public void pauseWriting() {
                    paused[0] = true;
                }

                @Override
                public void connectionLost(Throwable cause) {
                    lost.setResult(null);
                }
            };
            long[] count = {0};
            Thread reader = Thread.ofPlatform().start(() -> {
                try (InputStream in = Channels.newInputStream(pipe.source())) {
                    byte[] b = new byte[8192];
                    for (int n; (n = in.read(b)) >= 0; ) {
                        count[0] += n;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            loop.runUntilComplete(loop.connectWritePipe(() -> p, Channels.newOutputStream(pipe.sink())));
            loop.runUntilComplete(lost);
            reader.join();
            assertEquals(64 * 16 * 1024, count[0]);
            assertTrue(paused[0], "1 MiB queued at once must cross the 64 KiB high-water mark");
        }
    }

    @Test
    void nullArgumentsAreRejected() {
        try (EventLoop loop = EventLoop.create()) {
            assertThrows(NullPointerException.class, () -> loop.connectReadPipe(null, InputStream.nullInputStream()));
            assertThrows(NullPointerException.class, () -> loop.connectWritePipe(() -> new Protocol() { }, null));
            assertFalse(loop.isClosed());
        }
    }
}
