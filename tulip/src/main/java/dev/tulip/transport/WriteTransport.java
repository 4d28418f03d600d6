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
 * <p>Closing: {@code close()} stops reading, sends what is buffered, then closes; {@code abort()} drops the buffer
 * and closes at once. Either may be called any number of times; {@code connectionLost} comes exactly once.
 *
 * <p>Loop thread only.
 */
public interface WriteTransport extends BaseTransport {

    /**
     * Sends the buffer's remaining bytes (in order after earlier writes). If nothing is queued the bytes go to the
     * socket at once; only what the kernel did not take is copied into the transport's buffer. After the connection
     * was lost through an error or the peer (the protocol learns of it in {@code connectionLost}) the bytes are
     * dropped, as in asyncio.
     *
     * @param data the bytes to send; its position is advanced to its limit
     * @throws IllegalStateException if {@link #close()}, {@link #abort()} or {@link #writeEof()} was called
     */
    void write(ByteBuffer data);

    /**
     * Sends several buffers, in order, as one gathering write when possible (same rules as {@link #write(ByteBuffer)}).
     *
     * @param data the buffers; each position is advanced to its limit
     * @throws IllegalStateException if {@link #close()}, {@link #abort()} or {@link #writeEof()} was called
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
     * Sets the write buffer's water marks (defaults 64 KiB and 16 KiB). {@code pauseWriting} comes as soon as the
     * buffered size goes over {@code high}; {@code resumeWriting} when it drains to {@code low} or below.
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
