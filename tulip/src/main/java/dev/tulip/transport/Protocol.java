package dev.tulip.transport;

import java.nio.ByteBuffer;

/**
 * A stream protocol (TCP, UNIX socket, TLS, pipe): the callbacks a {@link Transport} makes.
 *
 * <p>Call order per connection, as in asyncio: {@code connectionMade -> dataReceived* -> eofReceived? ->
 * connectionLost}. {@code connectionMade} always runs before any data is delivered, and {@code connectionLost} runs
 * exactly once, last. {@code pauseWriting}/{@code resumeWriting} may come at any time in between.
 *
 * <p>Buffer ownership: the buffer given to {@link #dataReceived} belongs to the transport and is valid only during
 * the call (it is the loop's reusable read buffer); its bytes are between position and limit. Consume them or copy
 * them before returning; handing it to {@link WriteTransport#write(ByteBuffer)} is fine (an echo costs no copy: the
 * write sends it at once or copies what the kernel did not take). {@link BufferedProtocol} avoids even the copy a
 * protocol that keeps the bytes would make.
 *
 * <p>If the transport's scope is cancelled before {@code connectionMade} ran, the protocol gets neither
 * {@code connectionMade} nor {@code connectionLost}.
 *
 * <p>A protocol method that throws is a bug in the protocol: the transport reports it to the loop's exception
 * handler and closes the connection ({@code connectionLost} gets the exception); other connections are unaffected.
 *
 * <p>Loop thread only.
 */
public interface Protocol extends BaseProtocol {

    /**
     * The connection is established. Keep the transport to write to it.
     *
     * @param transport the connection's transport
     */
    default void connectionMade(Transport transport) {
    }

    /**
     * Bytes arrived.
     *
     * @param data the bytes, between position and limit; valid only during this call
     */
    default void dataReceived(ByteBuffer data) {
    }

    /**
     * The peer closed its side (sent FIN). Return true to keep the connection half-open for writing (then close it
     * yourself later); false (the default) closes the transport.
     *
     * @return whether to keep the transport open for writing
     */
    default boolean eofReceived() {
        return false;
    }
}
