package dev.tulip.stream;

import dev.tulip.EventLoop;
import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Task;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The protocol that turns any stream transport into a {@link StreamReader} and a {@link StreamWriter} (asyncio's
 * {@code StreamReaderProtocol}). {@link Streams} uses it for TCP and UNIX sockets; give it to any other API that
 * takes a protocol factory (a TLS or pipe transport, a transport of your own) to use streams over that transport:
 *
 * <pre>{@code
 * StreamProtocol p = new StreamProtocol(loop);
 * someApi.open(() -> p, ...);                 // any transport-producing API
 * StreamConnection c = p.connection().await(); // completes at connectionMade
 * }</pre>
 *
 * <p>Without a handler it just completes {@link #connection()}. With a {@link ConnectionHandler}, it runs the handler
 * as a task of its own when the connection is made, closes the writer when the handler returns, and aborts the
 * connection when it throws or is cancelled. A handler failure is reported to the loop's exception handler, except
 * when the handler merely rethrew the connection's own failure (a reset by the peer, thrown by a read or
 * {@code drain()}): that is logged at DEBUG on logger {@code dev.tulip.stream}.
 *
 * <p>EOF from the peer keeps the connection half-open when the transport supports it, so the writer can still
 * answer; the reader sees EOF.
 *
 * <p>One instance per connection. Loop thread only.
 */
public final class StreamProtocol implements Protocol {
    private static final System.Logger LOG = System.getLogger("dev.tulip.stream");

    private final TulipLoop loop;
    private final StreamReader reader;
    private final ConnectionHandler handler;
    private final Future<StreamConnection> connection;
    private final Waiters drainWaiters = new Waiters();
    private final Waiters closedWaiters = new Waiters();
    private Transport transport;
    private StreamWriter writer;
    private boolean writingPaused;
    private boolean lost;
    private Throwable lostCause;

    /**
     * A protocol for a connection the caller drives: await {@link #connection()} to get the streams.
     *
     * @param loop the loop the connection runs on
     * @throws NullPointerException if loop is null
     */
    public StreamProtocol(EventLoop loop) {
        this(loop, null);
    }

    /**
     * A protocol that runs {@code handler} as a task when the connection is made (what stream servers use).
     *
     * @param loop    the loop the connection runs on
     * @param handler the per-connection body, or null for none
     * @throws NullPointerException if loop is null
     */
    public StreamProtocol(EventLoop loop, ConnectionHandler handler) {
        this.loop = (TulipLoop) Objects.requireNonNull(loop, "loop");
        this.reader = new StreamReader(loop, StreamReader.DEFAULT_LIMIT);
        this.handler = handler;
        this.connection = new Future<>(loop);
    }

    /**
     * The streams, once the connection is made: completes at {@code connectionMade}; fails if the connection is lost
     * first.
     *
     * @return the future (the same one every call)
     */
    public Future<StreamConnection> connection() {
        return connection;
    }

    /**
     * The reader (it exists before the connection is made, so its limit can be set early).
     *
     * @return the reader
     */
    public StreamReader reader() {
        return reader;
    }

    @Override
    public void connectionMade(Transport transport) {
        Objects.requireNonNull(transport, "transport");
        if (writer != null) {
            // StreamWriter.startTls: the same streams continue over the new TLS transport.
            this.transport = transport;
            reader.setTransport(transport);
            writer.setTransport(transport);
            writingPaused = false;
            return;
        }
        this.transport = transport;
        reader.setTransport(transport);
        writer = new StreamWriter(transport, this, reader);
        StreamConnection c = new StreamConnection(reader, writer);
        if (!connection.isDone()) {
            connection.setResult(c);
        }
        if (handler != null) {
            startHandler(c);
        }
    }

    @Override
    public void dataReceived(ByteBuffer data) {
        reader.feedData(data);
    }

    @Override
    public boolean eofReceived() {
        reader.feedEof();
        // Half-open so the writer can still answer; a transport that cannot half-close (TLS) closes instead.
        return transport != null && transport.canWriteEof();
    }

    @Override
    public void connectionLost(Throwable cause) {
        lost = true;
        lostCause = cause;
        if (cause == null) {
            reader.feedEof();
        } else {
            reader.setFailure(cause);
        }
        if (!connection.isDone()) {
            connection.setException(cause != null ? cause : new IOException("connection lost before it was made"));
        }
        drainWaiters.wakeAll();
        closedWaiters.wakeAll();
    }

    @Override
    public void pauseWriting() {
        writingPaused = true;
    }

    @Override
    public void resumeWriting() {
        writingPaused = false;
        drainWaiters.wakeAll();
    }

    @Override
    public String toString() {
        return "StreamProtocol[" + (transport == null ? "not connected" : transport) + (lost ? ", lost" : "") + "]";
    }

    // ------------------------------------------------------------------------------------------------------------
    // For the writer and the handler task
    // ------------------------------------------------------------------------------------------------------------

    TulipLoop loop() {
        return loop;
    }

    boolean writingPaused() {
        return writingPaused;
    }

    boolean isLost() {
        return lost;
    }

    Throwable lostCause() {
        return lostCause;
    }

    Waiters drainWaiters() {
        return drainWaiters;
    }

    Waiters closedWaiters() {
        return closedWaiters;
    }

    private void startHandler(StreamConnection c) {
        Task<Void> task = loop.createTask("stream handler " + transport.info().peerAddress(), () -> {
            handler.handle(c.reader(), c.writer());
            return null;
        });
        // The cleanup must run even if the connection's scope is cancelled (that is one way the task ends).
        ScopeImpl previous = loop.swapScope(loop.systemScope());
        try {
            task.addDoneCallback(this::finishHandler);
        } finally {
            loop.swapScope(previous);
        }
    }

    private void finishHandler(Future<Void> t) {
        if (t.isCancelled()) {
            transport.abort();
            return;
        }
        Throwable failure = t.exception();
        if (failure == null) {
            transport.close(); // the handler is done with the connection; buffered output is still sent
            return;
        }
        if (lostCause != null && (failure == lostCause || failure.getCause() == lostCause)) {
            // The handler only passed on the connection's own failure (a peer reset): the peer's doing, not a bug.
            LOG.log(System.Logger.Level.DEBUG, () -> "stream connection lost: " + transport, failure);
        } else {
            loop.callExceptionHandler(new ExceptionContext("stream connection handler failed; aborting the "
                    + "connection", failure, null, t, transport, this));
        }
        transport.abort();
    }
}
