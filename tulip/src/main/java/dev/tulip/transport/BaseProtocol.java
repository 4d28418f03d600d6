package dev.tulip.transport;

/**
 * What every protocol receives from its transport, whatever the kind (stream, datagram, subprocess).
 *
 * <p>All methods are called on the loop thread, never concurrently, and have empty defaults.
 */
public interface BaseProtocol {

    /**
     * The connection is gone. Called exactly once per connection, last.
     *
     * @param cause null for a regular close or EOF; otherwise why (reset, error, abort, scope cancelled)
     */
    default void connectionLost(Throwable cause) {
    }

    /**
     * The transport's write buffer went over its high-water mark: stop writing until {@link #resumeWriting()}.
     * Writing anyway loses nothing (the buffer keeps growing), it only costs memory.
     */
    default void pauseWriting() {
    }

    /** The write buffer drained to its low-water mark: writing may go on. */
    default void resumeWriting() {
    }
}
