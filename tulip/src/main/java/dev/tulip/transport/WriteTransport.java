package dev.tulip.transport;

import java.nio.ByteBuffer;

/**
 * The writing side of a stream transport.
 *
 * <p>Writes never block and never fail synchronously because of the peer: the transport tries to write at once,
 * keeps what the kernel did not take, and flushes it later with one gathering write. When the kept bytes go over the
 * high-water mark the protocol gets {@code pauseWriting()}; when they drain to the low-water mark,
 * {@code resumeWriting()}. Errors surface in {@code connectionLost}.
 *
 * <p>Buffer ownership: {@code write} reads the buffer's remaining bytes before it returns (it copies only what it
 * could not send at once), so the caller may reuse the buffer immediately. The buffer's position is advanced to its
 * limit.
 *
 * <p>Loop thread only.
 */
public interface WriteTransport extends BaseTransport {

    /**
     * Sends the buffer's remaining bytes (in order after earlier writes).
     *
     * @param data the bytes to send
     * @throws IllegalStateException if the transport is closing or EOF was written
     */
    void write(ByteBuffer data);

    /**
     * Sends several buffers, in order, as one gathering write when possible.
     *
     * @param data the buffers
     * @throws IllegalStateException if the transport is closing or EOF was written
     */
    void write(ByteBuffer... data);

    /**
     * Closes the write side after the buffered data is sent (TCP FIN); reading goes on.
     *
     * @throws UnsupportedOperationException if {@link #canWriteEof()} is false (TLS), with the reason
     */
    void writeEof();

    /**
     * Whether {@link #writeEof()} is supported (true for TCP and UNIX sockets, false for TLS).
     *
     * @return whether half-close is possible
     */
    boolean canWriteEof();

    /** Closes now, dropping buffered data; {@code connectionLost} follows. Idempotent. */
    void abort();

    /**
     * Sets the write buffer's water marks.
     *
     * @param high pause writing above this many buffered bytes
     * @param low  resume at or below this many; at most {@code high}
     * @throws IllegalArgumentException if negative or low &gt; high
     */
    void setWriteBufferLimits(int high, int low);

    /**
     * Bytes buffered and not yet sent.
     *
     * @return the write buffer size
     */
    long writeBufferSize();
}
