package dev.tulip.internal.tls;

import dev.tulip.transport.Protocol;

/**
 * A transport whose protocol can be replaced while it is open (asyncio's {@code set_protocol}): what
 * {@code startTls} needs to slip a TLS layer between a live transport and its protocol.
 *
 * <p>Loop thread only.
 */
public interface SwitchableTransport {

    /**
     * The protocol receiving this transport's callbacks now.
     *
     * @return the protocol
     */
    Protocol protocol();

    /**
     * Sends all later callbacks to {@code protocol} instead (no {@code connectionMade} is called on it).
     *
     * @param protocol the new protocol
     */
    void setProtocol(Protocol protocol);
}
