package dev.tulip.transport;

import java.nio.ByteBuffer;

/**
 * A stream protocol that supplies its own receive buffer, so bytes land where the protocol wants them with no copy
 * (asyncio's {@code BufferedProtocol}). The transport calls {@link #getBuffer} before each read and
 * {@link #bufferUpdated} after it; {@link Protocol#dataReceived} is not called.
 *
 * <p>Loop thread only.
 */
public interface BufferedProtocol extends Protocol {

    /**
     * A buffer to read into: the transport reads into its remaining space (position to limit).
     *
     * @param sizeHint the size the transport would like (a hint; any non-empty buffer works)
     * @return a buffer with at least one byte remaining
     */
    ByteBuffer getBuffer(int sizeHint);

    /**
     * {@code n} bytes were read into the buffer from {@link #getBuffer}, starting at its position (the transport
     * leaves the position unchanged: the new bytes are at {@code position .. position + n}).
     *
     * @param n bytes read, at least 1
     */
    void bufferUpdated(int n);
}
