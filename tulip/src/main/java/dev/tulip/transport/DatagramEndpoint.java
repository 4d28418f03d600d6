package dev.tulip.transport;

import java.util.Objects;

/**
 * A datagram endpoint created by {@code EventLoop.createDatagramEndpoint}: its transport and the protocol the factory
 * made for it (asyncio's {@code (transport, protocol)} pair).
 *
 * @param transport the endpoint's transport
 * @param protocol  the endpoint's protocol
 * @param <P>       the protocol's type
 */
public record DatagramEndpoint<P extends DatagramProtocol>(DatagramTransport transport, P protocol) {

    /**
     * Creates the pair.
     *
     * @throws NullPointerException if an argument is null
     */
    public DatagramEndpoint {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(protocol, "protocol");
    }
}
