package dev.tulip.stream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Coroutine;
import dev.tulip.EventLoop;
import dev.tulip.Task;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class StreamWriterTest {
    EventLoop loop;
    StreamProtocol protocol;
    FakeTransport transport;
    StreamWriter writer;

    @BeforeEach
    void setUp() {
        loop = EventLoop.builder().virtualTime(true).build();
        protocol = new StreamProtocol(loop);
        transport = FakeTransport.connect(loop, protocol);
        writer = protocol.connection().result().writer();
        transport.setWriteBufferLimits(100, 20);
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

    @Test
    void writesInEveryForm() {
        writer.write("a".getBytes());
        writer.write("xbcx".getBytes(), 1, 2);
        writer.write(ByteBuffer.wrap("d".getBytes()));
        writer.write("é", UTF_8);
        writer.writeLines(List.of("1\n".getBytes(), "2\n".getBytes()));
        transport.kernelSends(1000);
        assertEquals("abcdé1\n2\n", new String(transport.sent.toByteArray(), UTF_8));
    }

    @Test
    void drainReturnsAtOnceBelowTheHighMark() {
        writer.write(new byte[50]);
        run(() -> {
            writer.drain();
            return null;
        });
        assertEquals(50, writer.bufferSize());
    }

    @Test
    void drainWaitsUntilTheLowMark() {
        writer.write(new byte[150]);
        List<Long> seen = new ArrayList<>();
        later(1, () -> transport.kernelSends(100)); // 50 left: still above low (20)
        later(2, () -> transport.kernelSends(40));  // 10 left: resume
        run(() -> {
            writer.drain();
            seen.add(loop.time());
            return null;
        });
        assertEquals(List.of(Duration.ofMillis(2).toNanos()), seen);
    }

    @Test
    void manyTasksMayAwaitDrainAtOnce() {
        writer.write(new byte[150]);
        List<Task<String>> tasks = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int k = i;
            tasks.add(loop.createTask(() -> {
                writer.drain();
                return "drained " + k;
            }));
        }
        later(1, () -> transport.kernelSends(150));
        for (int i = 0; i < 5; i++) {
            assertEquals("drained " + i, loop.runUntilComplete(tasks.get(i)));
        }
    }

    @Test
    void cancellingOneDrainLeavesTheOthersAndTheWriterUsable() {
        writer.write(new byte[150]);
        Task<String> a = loop.createTask(() -> {
            writer.drain();
            return "a";
        });
        Task<String> b = loop.createTask(() -> {
            writer.drain();
            return "b";
        });
        later(1, () -> a.cancel());
        assertThrows(CancellationException.class, () -> loop.runUntilComplete(a));
        assertFalse(b.isDone());
        later(2, () -> transport.kernelSends(150));
        assertEquals("b", loop.runUntilComplete(b));
        assertEquals(0, protocol.drainWaiters().size(), "the cancelled waiter was removed");
        writer.write("more".getBytes());
        run(() -> {
            writer.drain();
            return null;
        });
        transport.kernelSends(100);
        assertTrue(transport.sentText().endsWith("more"));
    }

    @Test
    void repeatedlyCancelledDrainsDoNotAccumulate() {
        writer.write(new byte[150]);
        for (int i = 0; i < 100; i++) {
            Task<Object> t = loop.createTask(() -> {
                writer.drain();
                return null;
            });
            later(1, () -> t.cancel());
            assertThrows(CancellationException.class, () -> loop.runUntilComplete(t));
        }
        assertEquals(0, protocol.drainWaiters().size());
    }

    @Test
    void writerLoopThatDrainsStaysWithinHighMarkPlusOneWrite() {
        int chunk = 30;
        // A slow peer: the kernel takes 7 bytes per millisecond.
        for (int i = 1; i <= 2000; i++) {
            later(i, () -> transport.kernelSends(7));
        }
        run(() -> {
            for (int i = 0; i < 300; i++) {
                writer.write(new byte[chunk]);
                writer.drain();
            }
            return null;
        });
        assertTrue(transport.maxBuffered <= 100 + chunk, "max buffered " + transport.maxBuffered);
        assertTrue(transport.sent.size() + transport.buffered.size() == 300 * chunk);
    }

    @Test
    void drainAndWriteThrowAfterFailure() {
        writer.write(new byte[150]);
        IOException boom = new IOException("broken pipe");
        Task<Object> t = loop.createTask(() -> {
            writer.drain();
            return null;
        });
        later(1, () -> transport.lose(boom));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> loop.runUntilComplete(t));
        assertEquals(boom, e.getCause());
        assertThrows(UncheckedIOException.class, () -> writer.write("x".getBytes()));
        assertThrows(UncheckedIOException.class, () -> run(() -> {
            writer.drain();
            return null;
        }));
    }

    @Test
    void closeThenWaitClosedFromSeveralTasks() {
        writer.write("bye".getBytes());
        writer.close();
        assertTrue(writer.isClosing());
        assertThrows(IllegalStateException.class, () -> writer.write("late".getBytes()));
        List<Task<String>> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int k = i;
            waiters.add(loop.createTask(() -> {
                writer.waitClosed();
                return "closed " + k;
            }));
        }
        later(5, () -> transport.kernelSends(100));
        for (int i = 0; i < 3; i++) {
            assertEquals("closed " + i, loop.runUntilComplete(waiters.get(i)));
        }
        assertEquals("bye", transport.sentText());
        run(() -> {
            writer.waitClosed(); // already closed: returns at once
            return null;
        });
    }

    @Test
    void waitClosedDoesNotThrowTheConnectionFailure() {
        later(1, () -> transport.lose(new IOException("reset")));
        run(() -> {
            writer.waitClosed();
            return null;
        });
    }

    @Test
    void halfCloseAndInfo() {
        assertTrue(writer.canWriteEof());
        writer.writeEof();
        assertTrue(transport.eofWritten);
        assertEquals(transport.info(), writer.info());
        assertEquals(transport, writer.transport());
        assertEquals(protocol.reader(), writer.reader());
    }

    @Test
    void peerEofKeepsTheConnectionHalfOpen() {
        transport.receiveEof();
        assertFalse(transport.closing, "half-open: the writer can still answer");
        writer.write("answer".getBytes());
        transport.kernelSends(100);
        assertEquals("answer", transport.sentText());
        assertTrue(protocol.reader().atEof());
    }
}
