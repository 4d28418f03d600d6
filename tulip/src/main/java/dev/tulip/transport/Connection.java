package dev.tulip.transport;

import java.util.Objects;

/**
 * What a successful {@code createConnection} yields: the transport and the protocol the factory made (asyncio's
 * {@code (transport, protocol)} pair).
 *
 * @param transport the connection's transport
 * @param protocol  the protocol bound to it
 * @param <P>       the protocol type
 */
public record Connection<P extends Protocol>(Transport transport, P protocol) {

    /**
     * Creates the pair.
     *
     * @throws NullPointerException if either is null
     */
    public Connection {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(protocol, "protocol");
    }
}
