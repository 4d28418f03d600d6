package dev.tulip.transport;

/**
 * The reading side of a stream transport: flow control toward the protocol.
 *
 * <p>Loop thread only.
 */
public interface ReadTransport extends BaseTransport {

    /** Stops delivering data (the kernel buffers, then the peer is slowed down by TCP) until {@link #resumeReading}. */
    void pauseReading();

    /** Delivers data again, including what arrived meanwhile. */
    void resumeReading();

    /**
     * Whether data is being delivered.
     *
     * @return false while paused or closed
     */
    boolean isReading();
}
