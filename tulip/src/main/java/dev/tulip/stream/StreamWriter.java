package dev.tulip.stream;

import dev.tulip.transport.TlsOptions;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.Objects;

/**
 * The writing half of a stream connection: writes that never block, plus {@link #drain()} to wait until the
 * transport has sent enough (asyncio's {@code StreamWriter}).
 *
 * <p>Writes go straight to the transport, which sends at once what the kernel takes and buffers the rest. The
 * buffered amount is bounded by the caller: a loop that awaits {@code drain()} after each write never has more than
 * the transport's high-water mark plus one write buffered, whatever the peer's speed. Any number of tasks may await
 * {@code drain()} at the same time; each has its own wait, so cancelling one leaves the others and the writer intact.
 *
 * <p>Data types: {@code byte[]} (with or without a range), {@link ByteBuffer} and, as a helper, text with a
 * {@link Charset}. The writer reads the bytes before it returns, so the caller may reuse its arrays and buffers.
 *
 * <p>Errors: once the connection failed, {@link #write} and {@link #drain()} throw the failure
 * ({@link UncheckedIOException} for an {@link IOException}); after {@link #close()}, writing throws
 * {@link IllegalStateException}.
 *
 * <p>Threading: loop thread only.
 */
public final class StreamWriter {
    /** The current transport: replaced by the TLS transport after {@link #startTls}. */
    private Transport transport;
    private final StreamProtocol protocol;
    private final StreamReader reader;

    StreamWriter(Transport transport, StreamProtocol protocol, StreamReader reader) {
        this.transport = transport;
        this.protocol = protocol;
        this.reader = reader;
    }

    /**
     * Sends bytes (buffering what the kernel does not take at once).
     *
     * @param data the bytes
     * @throws IllegalStateException if the writer is closing or EOF was written
     * @throws UncheckedIOException  if the connection failed
     */
    public void write(byte[] data) {
        write(ByteBuffer.wrap(data));
    }

    /**
     * Sends {@code length} bytes of {@code data} from {@code offset}.
     *
     * @param data   the array
     * @param offset where the bytes start
     * @param length how many
     * @throws IndexOutOfBoundsException if the range is outside the array
     * @throws IllegalStateException     if the writer is closing or EOF was written
     * @throws UncheckedIOException      if the connection failed
     */
    public void write(byte[] data, int offset, int length) {
        write(ByteBuffer.wrap(data, offset, length));
    }

    /**
     * Sends the buffer's remaining bytes; its position advances to its limit.
     *
     * @param data the bytes
     * @throws IllegalStateException if the writer is closing or EOF was written
     * @throws UncheckedIOException  if the connection failed
     */
    public void write(ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        checkWritable();
        if (data.hasRemaining()) {
            transport.write(data);
        }
    }

    /**
     * Encodes and sends text.
     *
     * @param text    the text
     * @param charset its encoding
     * @throws IllegalStateException if the writer is closing or EOF was written
     * @throws UncheckedIOException  if the connection failed
     */
    public void write(String text, Charset charset) {
        Objects.requireNonNull(charset, "charset");
        write(text.getBytes(charset));
    }

    /**
     * Sends several byte arrays one after the other, as one gathering write when possible. As in asyncio (and
     * Python's {@code writelines}), no separator is added: the arrays carry their own line ends.
     *
     * @param chunks the arrays, in order
     * @throws IllegalStateException if the writer is closing or EOF was written
     * @throws UncheckedIOException  if the connection failed
     */
    public void writeLines(Iterable<byte[]> chunks) {
        Objects.requireNonNull(chunks, "chunks");
        ArrayList<ByteBuffer> list = new ArrayList<>();
        for (byte[] c : chunks) {
            list.add(ByteBuffer.wrap(Objects.requireNonNull(c, "chunk")));
        }
        checkWritable();
        if (!list.isEmpty()) {
            transport.write(list.toArray(ByteBuffer[]::new));
        }
    }

    /**
     * Waits until the transport's write buffer has drained to its low-water mark (returns at once if it is not over
     * its high-water mark). Any number of tasks may wait at once. A cancellation point when it waits: cancelling
     * the waiting task only ends its wait; the writer stays usable.
     *
     * @throws UncheckedIOException  if the connection failed (before or during the wait)
     * @throws IllegalStateException if called on the loop thread outside a task while it would have to wait
     */
    public void drain() {
        protocol.loop().checkThread();
        checkFailure();
        while (protocol.writingPaused() && !protocol.isLost()) {
            protocol.drainWaiters().await(protocol.loop());
        }
        checkFailure();
    }

    /**
     * Closes the write side after the buffered data is sent (TCP FIN); reading goes on (half-close).
     *
     * @throws UnsupportedOperationException if {@link #canWriteEof()} is false (TLS)
     * @throws IllegalStateException         if the writer is closing
     */
    public void writeEof() {
        transport.writeEof();
    }

    /**
     * Whether {@link #writeEof()} is supported (true for TCP and UNIX sockets, false for TLS).
     *
     * @return whether half-close is possible
     */
    public boolean canWriteEof() {
        return transport.canWriteEof();
    }

    /** Closes the connection after the buffered data is sent. Idempotent; see {@link #waitClosed()}. */
    public void close() {
        transport.close();
    }

    /** Closes the connection now, dropping the buffered data. Idempotent. */
    public void abort() {
        transport.abort();
    }

    /**
     * Whether the writer is closing or closed (by {@link #close()}, {@link #abort()} or a lost connection).
     *
     * @return true once closing
     */
    public boolean isClosing() {
        return transport.isClosing();
    }

    /**
     * Waits until the connection is closed (after {@link #close()}: once the buffered data was sent). Any number of
     * tasks may wait. It does not throw the connection's failure (reads and {@link #drain()} report that), so it is
     * safe in a {@code finally} block. A cancellation point when it waits.
     *
     * @throws IllegalStateException if called on the loop thread outside a task while it would have to wait
     */
    public void waitClosed() {
        protocol.loop().checkThread();
        while (!protocol.isLost()) {
            protocol.closedWaiters().await(protocol.loop());
        }
    }

    /**
     * Upgrades the connection to TLS (STARTTLS; asyncio's {@code StreamWriter.start_tls}): waits for the buffered
     * output to drain, runs the TLS handshake over the current transport, and from then on this writer and its
     * reader carry plaintext over TLS ({@link #info()} shows the session; {@link #canWriteEof()} becomes false).
     * Every byte the peer sent before its handshake must have been read already. A cancellation point: cancelling
     * the task during the handshake leaves the connection unusable (close it).
     *
     * @param tls client options ({@code TlsOptions.client()...serverHostname(...)}) or server options
     * @throws IllegalStateException if unread bytes are still buffered in the reader, or the writer is closing
     * @throws UncheckedIOException  if the handshake failed ({@link dev.tulip.transport.TlsException} as cause) or
     *                               the connection was lost
     */
    public void startTls(TlsOptions tls) {
        Objects.requireNonNull(tls, "tls");
        drain();
        if (reader.buffered() > 0) {
            throw new IllegalStateException("startTls with " + reader.buffered() + " unread bytes in the reader: they "
                    + "would be lost to the TLS layer; read everything the peer sent before its handshake first");
        }
        if (transport.isClosing()) {
            throw new IllegalStateException("startTls on a closing stream writer");
        }
        try {
            protocol.loop().startTls(transport, protocol, tls).await();
        } catch (java.util.concurrent.CompletionException e) {
            throw StreamReader.rethrow(e.getCause() != null ? e.getCause() : e);
        }
    }

    /**
     * Bytes buffered in the transport and not yet sent.
     *
     * @return the write buffer size
     */
    public long bufferSize() {
        return transport.writeBufferSize();
    }

    /**
     * Addresses, the channel and, for TLS, the session (asyncio's {@code get_extra_info}).
     *
     * @return the transport's information
     */
    public TransportInfo info() {
        return transport.info();
    }

    /**
     * The underlying transport, for what the writer does not wrap (water marks: {@code setWriteBufferLimits}).
     *
     * @return the transport
     */
    public Transport transport() {
        return transport;
    }

    /**
     * The reader of the same connection.
     *
     * @return the reader
     */
    public StreamReader reader() {
        return reader;
    }

    @Override
    public String toString() {
        return "StreamWriter[" + transport + (protocol.writingPaused() ? ", paused" : "")
                + (protocol.isLost() ? ", closed" : "") + "]";
    }

    void setTransport(Transport transport) {
        this.transport = transport;
    }

    private void checkWritable() {
        checkFailure();
        if (transport.isClosing()) {
            throw new IllegalStateException("write to a closed stream writer");
        }
    }

    private void checkFailure() {
        Throwable cause = protocol.lostCause();
        if (cause != null) {
            throw StreamReader.rethrow(cause);
        }
    }
}
