package dev.tulip.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class StreamProtocolTest {
    EventLoop loop;
    final List<ExceptionContext> errors = new ArrayList<>();

    @BeforeEach
    void setUp() {
        loop = EventLoop.builder().virtualTime(true).build();
        loop.setExceptionHandler((l, c) -> errors.add(c));
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    @Test
    void connectionFutureCompletesAtConnectionMade() {
        StreamProtocol p = new StreamProtocol(loop);
        assertFalse(p.connection().isDone());
        FakeTransport t = FakeTransport.connect(loop, p);
        StreamConnection c = p.connection().result();
        assertSame(p.reader(), c.reader());
        assertSame(t, c.writer().transport());
        c.close();
        assertTrue(t.closing);
    }

    @Test
    void connectionLostBeforeMadeFailsTheConnectionFuture() {
        StreamProtocol p = new StreamProtocol(loop);
        IOException boom = new IOException("refused late");
        p.connectionLost(boom);
        assertSame(boom, loop.runUntilComplete(catching(p.connection())));
    }

    static Future<Throwable> catching(Future<?> f) {
        Future<Throwable> out = new Future<>(f.loop());
        f.addDoneCallback(x -> out.setResult(x.exception()));
        return out;
    }

    @Test
    void handlerThatReturnsClosesTheConnection() {
        StreamProtocol p = new StreamProtocol(loop, (r, w) -> w.write("bye".getBytes()));
        FakeTransport t = FakeTransport.connect(loop, p);
        loop.callLater(Duration.ofMillis(5), () -> t.kernelSends(100));
        Future<Void> done = loop.createFuture();
        loop.callLater(Duration.ofMillis(10), () -> done.setResult(null));
        loop.runUntilComplete(done);
        assertTrue(t.closing);
        assertTrue(t.lost);
        assertFalse(t.aborted);
        assertEquals("bye", t.sentText());
        assertEquals(List.of(), errors);
    }

    @Test
    void handlerThatThrowsAbortsAndReports() {
        StreamProtocol p = new StreamProtocol(loop, (r, w) -> {
            w.write("partial".getBytes());
            throw new IOException("bad request");
        });
        FakeTransport t = FakeTransport.connect(loop, p);
        Future<Void> done = loop.createFuture();
        loop.callLater(Duration.ofMillis(10), () -> done.setResult(null));
        loop.runUntilComplete(done);
        assertTrue(t.aborted, "a failed handler's half-written output must not look complete");
        assertEquals(1, errors.size());
        assertEquals("bad request", errors.get(0).exception().getMessage());
        assertSame(t, errors.get(0).transport());
    }

    @Test
    void handlerRethrowingAPeerResetIsNotReportedAsABug() {
        StreamProtocol p = new StreamProtocol(loop, (r, w) -> {
            r.readLine(); // throws the connection's failure
        });
        FakeTransport t = FakeTransport.connect(loop, p);
        loop.callLater(Duration.ofMillis(1), () -> t.lose(new IOException("Connection reset")));
        Future<Void> done = loop.createFuture();
        loop.callLater(Duration.ofMillis(10), () -> done.setResult(null));
        loop.runUntilComplete(done);
        assertEquals(List.of(), errors);
    }

    @Test
    void handlerCancelledWhenTheConnectionScopeIsCancelled() {
        dev.tulip.Scope scope;
        FakeTransport t;
        StreamProtocol p = new StreamProtocol(loop, (r, w) -> {
            r.readAll(); // waits forever
        });
        scope = loop.rootScope().newChild("conn");
        try (dev.tulip.Scope.Entered e = scope.enter()) {
            t = FakeTransport.connect(loop, p);
        }
        Future<Void> tick = loop.createFuture();
        loop.callLater(Duration.ofMillis(1), () -> tick.setResult(null));
        loop.runUntilComplete(tick);
        scope.cancel();
        Future<Void> done = loop.createFuture();
        loop.callLater(Duration.ofMillis(10), () -> done.setResult(null));
        loop.runUntilComplete(done);
        assertTrue(t.aborted);
        assertEquals(List.of(), errors);
    }

    @Test
    void eofKeepsHalfOpenOnlyWhenTheTransportCanHalfClose() {
        StreamProtocol p = new StreamProtocol(loop);
        FakeTransport t = new FakeTransport(loop, p) {
            @Override
            public boolean canWriteEof() {
                return false;
            }
        };
        p.connectionMade(t);
        assertFalse(p.eofReceived());
        assertTrue(p.reader().atEof());
    }

    @Test
    void dataAfterEofIsAProtocolError() {
        StreamProtocol p = new StreamProtocol(loop);
        FakeTransport.connect(loop, p);
        p.eofReceived();
        assertThrows(IllegalStateException.class, () -> p.dataReceived(java.nio.ByteBuffer.wrap(new byte[1])));
    }
}
