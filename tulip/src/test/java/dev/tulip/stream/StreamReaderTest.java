package dev.tulip.stream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Coroutine;
import dev.tulip.EventLoop;
import dev.tulip.Task;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class StreamReaderTest {
    EventLoop loop;
    StreamProtocol protocol;
    FakeTransport transport;
    StreamReader reader;

    @BeforeEach
    void setUp() {
        loop = EventLoop.builder().virtualTime(true).build();
        protocol = new StreamProtocol(loop);
        transport = FakeTransport.connect(loop, protocol);
        reader = protocol.reader();
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    <T> T run(Coroutine<T> body) {
        return loop.runUntilComplete(loop.createTask(body));
    }

    void later(int ms, Runnable r) {
        loop.callLater(Duration.ofMillis(ms), r);
    }

    static String s(byte[] b) {
        return new String(b, UTF_8);
    }

    @Test
    void readReturnsWhatIsBufferedUpToN() {
        transport.receive("hello world");
        assertEquals("hello", s(run(() -> reader.read(5))));
        assertEquals(" world", s(run(() -> reader.read(100))));
        assertEquals(0, run(() -> reader.read(0)).length);
    }

    @Test
    void readWaitsForDataThenEof() {
        later(10, () -> transport.receive("abc"));
        later(20, () -> transport.receiveEof());
        assertEquals("abc", s(run(() -> reader.read(100))));
        assertFalse(reader.atEof());
        assertEquals(0, run(() -> reader.read(100)).length);
        assertTrue(reader.atEof());
        assertEquals(0, run(() -> reader.read(100)).length);
    }

    @Test
    void negativeSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> reader.read(-1));
        assertThrows(IllegalArgumentException.class, () -> reader.readExactly(-1));
        assertThrows(IllegalArgumentException.class, () -> reader.setLimit(0));
        assertThrows(IllegalArgumentException.class, () -> reader.readUntil(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> reader.readUntil(new byte[0][]));
    }

    @Test
    void readExactlyWaitsAcrossChunks() {
        later(1, () -> transport.receive("ab"));
        later(2, () -> transport.receive("cd"));
        later(3, () -> transport.receive("efg"));
        assertEquals("abcdef", s(run(() -> reader.readExactly(6))));
        assertEquals("g", s(run(() -> reader.read(10))));
    }

    @Test
    void readExactlyAtEofCarriesThePartialData() {
        later(1, () -> transport.receive("abc"));
        later(2, () -> transport.receiveEof());
        IncompleteReadException e = assertThrows(IncompleteReadException.class, () -> run(() -> reader.readExactly(10)));
        assertEquals("abc", s(e.partial()));
        assertEquals(10, e.expected());
        assertTrue(e.getMessage().contains("3 bytes read on a total of 10"), e.getMessage());
        assertTrue(reader.atEof());
    }

    @Test
    void readExactlyMayExceedTheLimit() {
        reader.setLimit(10);
        byte[] big = new byte[1000];
        for (int i = 0; i < 10; i++) {
            later(i + 1, () -> transport.receive(new byte[100]));
        }
        assertArrayEquals(big, run(() -> reader.readExactly(1000)));
        assertTrue(transport.reading, "a reader waiting for more than the limit keeps the transport reading");
    }

    @Test
    void readLineAndTextLines() {
        later(1, () -> transport.receive("one\r\ntw"));
        later(2, () -> transport.receive("o\nthree"));
        later(3, () -> transport.receiveEof());
        assertEquals("one\r\n", s(run(() -> reader.readLine())));
        assertEquals("two", run(() -> reader.readLine(UTF_8)));
        assertEquals("three", run(() -> reader.readLine(UTF_8)));
        assertNull(run(() -> reader.readLine(UTF_8)));
        assertEquals(0, run(() -> reader.readLine()).length);
    }

    @Test
    void readUntilOneOrSeveralSeparators() {
        transport.receive("a::b;;c--d");
        assertEquals("a::", s(run(() -> reader.readUntil("::".getBytes()))));
        byte[][] seps = {"--".getBytes(), ";;".getBytes()};
        assertEquals("b;;", s(run(() -> reader.readUntil(seps))));
        assertEquals("c--", s(run(() -> reader.readUntil(seps))));
        transport.receiveEof();
        IncompleteReadException e = assertThrows(IncompleteReadException.class, () -> run(() -> reader.readUntil(seps)));
        assertEquals("d", s(e.partial()));
        assertEquals(-1, e.expected());
    }

    @Test
    void severalSeparatorsPickTheShortestRecord() {
        transport.receive("xx\r\nyy\n");
        assertEquals("xx\r\n", s(run(() -> reader.readUntil("\n".getBytes(), "\r\n".getBytes()))));
        assertEquals("yy\n", s(run(() -> reader.readUntil("\r\n".getBytes(), "\n".getBytes()))));
    }

    @Test
    void separatorSplitAcrossChunks() {
        later(1, () -> transport.receive("abc\r"));
        later(2, () -> transport.receive("\ndef"));
        assertEquals("abc\r\n", s(run(() -> reader.readUntil("\r\n".getBytes()))));
    }

    @Test
    void limitOverrunLeavesTheBufferAndTheLimitCanGrow() {
        reader.setLimit(8);
        transport.receive("0123456789abcdef\nrest\n");
        LimitOverrunException e = assertThrows(LimitOverrunException.class, () -> run(() -> reader.readLine()));
        assertTrue(e.separatorFound());
        assertEquals(17, e.consumed());
        assertEquals(22, reader.buffered(), "nothing consumed");
        reader.setLimit(64);
        assertEquals("0123456789abcdef\n", s(run(() -> reader.readLine())));
        assertEquals("rest\n", s(run(() -> reader.readLine())));
    }

    @Test
    void limitOverrunCanBeSkipped() {
        reader.setLimit(8);
        transport.receive("0123456789abcdef\nok\n");
        LimitOverrunException e = assertThrows(LimitOverrunException.class, () -> run(() -> reader.readLine()));
        run(() -> reader.readExactly(e.consumed()));
        assertEquals("ok\n", s(run(() -> reader.readLine())));
    }

    @Test
    void limitOverrunWithoutSeparator() {
        reader.setLimit(8);
        later(1, () -> transport.receive("0123456"));
        later(2, () -> transport.receive("789abcdef"));
        LimitOverrunException e = assertThrows(LimitOverrunException.class, () -> run(() -> reader.readLine()));
        assertFalse(e.separatorFound());
        assertEquals(16, e.consumed());
        assertEquals(16, reader.buffered());
        // The caller grows the limit and the line completes later: nothing was lost.
        reader.setLimit(1024);
        later(3, () -> transport.receive("\n"));
        assertEquals("0123456789abcdef\n", s(run(() -> reader.readLine())));
    }

    @Test
    void recordOfExactlyTheLimitIsAccepted() {
        reader.setLimit(4);
        later(1, () -> transport.receive("abcd\r"));
        later(2, () -> transport.receive("\n"));
        assertEquals("abcd\r\n", s(run(() -> reader.readUntil("\r\n".getBytes()))));
    }

    @Test
    void readAllIgnoresTheLimitAndReturnsEverything() {
        reader.setLimit(4);
        for (int i = 0; i < 5; i++) {
            int k = i;
            later(i + 1, () -> transport.receive("chunk" + k));
        }
        later(10, () -> transport.receiveEof());
        assertEquals("chunk0chunk1chunk2chunk3chunk4", s(run(() -> reader.readAll())));
        assertEquals(0, run(() -> reader.readAll()).length);
    }

    @Test
    void pausesTheTransportAboveTheLimitAndResumesBelowHalf() {
        reader.setLimit(100);
        transport.receive(new byte[60]);
        assertTrue(transport.reading);
        transport.receive(new byte[60]);
        assertFalse(transport.reading, "120 > limit 100: paused");
        assertEquals(1, transport.pauses);
        run(() -> reader.read(30)); // 90 left: still above half
        assertFalse(transport.reading);
        run(() -> reader.read(40)); // 50 left: at half
        assertTrue(transport.reading);
        assertEquals(1, transport.resumes);
    }

    @Test
    void setLimitResumesOrPauses() {
        reader.setLimit(100);
        transport.receive(new byte[150]);
        assertFalse(transport.reading);
        reader.setLimit(1000);
        assertTrue(transport.reading);
        reader.setLimit(100);
        assertFalse(transport.reading);
    }

    @Test
    void cancelledReadLosesNoBytes() {
        Task<byte[]> t = loop.createTask(() -> reader.readExactly(10));
        later(1, () -> transport.receive("abcde"));
        later(2, () -> t.cancel());
        later(3, () -> transport.receive("fgh"));
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        assertEquals("abcdefgh", s(run(() -> reader.readExactly(8))));
    }

    @Test
    void cancelledReadUntilLosesNoBytes() {
        Task<byte[]> t = loop.createTask(() -> reader.readLine());
        later(1, () -> transport.receive("partial"));
        later(2, () -> t.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        later(3, () -> transport.receive(" line\n"));
        assertEquals("partial line\n", s(run(() -> reader.readLine())));
    }

    @Test
    void cancelledReadAllLosesNoBytes() {
        Task<byte[]> t = loop.createTask(() -> reader.readAll());
        later(1, () -> transport.receive("abc"));
        later(2, () -> t.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        later(3, () -> transport.receive("def"));
        later(4, () -> transport.receiveEof());
        assertEquals("abcdef", s(run(() -> reader.readAll())));
    }

    @Test
    void secondConcurrentReaderIsRejected() {
        Task<byte[]> first = loop.createTask(() -> reader.read(10));
        Task<byte[]> second = loop.createTask(() -> reader.read(10));
        later(5, () -> transport.receive("x"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> loop.runUntilComplete(second));
        assertTrue(e.getMessage().contains("another task is already waiting"), e.getMessage());
        assertEquals("x", s(loop.runUntilComplete(first)));
    }

    @Test
    void aSeparatorSearchSurvivesAnotherTaskConsumingMeanwhile() {
        Task<byte[]> line = loop.createTask(() -> reader.readLine());
        List<String> other = new ArrayList<>();
        later(1, () -> {
            transport.receive("xyz");
            loop.createTask(() -> other.add(s(reader.read(2)))); // data is buffered: reads without waiting
        });
        later(2, () -> transport.receive("\n"));
        assertEquals("z\n", s(loop.runUntilComplete(line)));
        assertEquals(List.of("xy"), other);
    }

    @Test
    void aPeerThatDeliversOneByteAtATime() {
        byte[] all = "alpha\r\nbeta--gamma;;12345tail".getBytes();
        for (int i = 0; i < all.length; i++) {
            byte[] one = {all[i]};
            later(i + 1, () -> transport.receive(one));
        }
        later(all.length + 1, () -> transport.receiveEof());
        List<String> got = run(() -> {
            List<String> out = new ArrayList<>();
            out.add(s(reader.readLine()));
            out.add(s(reader.readUntil("--".getBytes())));
            out.add(s(reader.readUntil(";;".getBytes(), "--".getBytes())));
            out.add(s(reader.readExactly(5)));
            out.add(s(reader.readAll()));
            return out;
        });
        assertEquals(List.of("alpha\r\n", "beta--", "gamma;;", "12345", "tail"), got);
        assertTrue(reader.atEof());
    }

    @Test
    void waitingOutsideATaskIsAnError() {
        dev.tulip.Future<Throwable> failure = loop.createFuture();
        loop.callSoon(() -> failure.setResult(assertThrows(IllegalStateException.class, () -> reader.read(1))));
        assertTrue(loop.runUntilComplete(failure).getMessage().contains("outside a task"));
        transport.receive("z");
        dev.tulip.Future<byte[]> read = loop.createFuture();
        loop.callSoon(() -> read.setResult(reader.read(1))); // no wait needed: fine in a plain callback
        assertEquals("z", s(loop.runUntilComplete(read)));
    }

    @Test
    void failureAfterDataDeliversTheDataFirst() {
        transport.receive("data");
        IOException boom = new IOException("connection reset");
        transport.lose(boom);
        assertEquals("da", s(run(() -> reader.read(2))));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> run(() -> reader.readExactly(5)));
        assertEquals(boom, e.getCause());
        assertEquals("ta", s(run(() -> reader.read(2))));
        assertThrows(UncheckedIOException.class, () -> run(() -> reader.read(2)));
        assertEquals(boom, reader.exception());
    }

    @Test
    void failureWakesAWaitingReader() {
        IOException boom = new IOException("reset");
        later(5, () -> transport.lose(boom));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> run(() -> reader.readLine()));
        assertEquals(boom, e.getCause());
    }

    @Test
    void largeVolumeThroughSmallChunksKeepsOrder() {
        List<Byte> expected = new ArrayList<>();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            sb.append("line ").append(i).append('\n');
        }
        byte[] all = sb.toString().getBytes();
        for (int off = 0, i = 0; off < all.length; off += 7, i++) {
            int o = off;
            later(i + 1, () -> transport.receive(java.util.Arrays.copyOfRange(all, o, Math.min(all.length, o + 7))));
        }
        List<String> lines = run(() -> {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                out.add(reader.readLine(UTF_8));
            }
            return out;
        });
        assertEquals(2000, lines.size());
        assertEquals("line 1999", lines.get(1999));
        assertEquals(0, expected.size());
    }
}
