package dev.tulip.transport;

/**
 * What every transport offers: closing and information.
 *
 * <p>Loop thread only.
 */
public interface BaseTransport {

    /**
     * Closes the transport after the buffered data is sent; {@code connectionLost(null)} follows. Idempotent.
     */
    void close();

    /**
     * Whether {@link #close()} or {@code abort()} was called (or the connection was lost).
     *
     * @return true once closing
     */
    boolean isClosing();

    /**
     * Addresses, the channel and, for TLS, the session.
     *
     * @return the transport's information
     */
    TransportInfo info();
}
