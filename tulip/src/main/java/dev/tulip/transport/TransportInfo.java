package dev.tulip.transport;

import java.net.SocketAddress;
import java.nio.channels.Channel;
import javax.net.ssl.SSLSession;

/**
 * What a transport knows about itself.
 *
 * @param localAddress        the local address, or null (pipes)
 * @param peerAddress         the peer's address, or null (unconnected datagram endpoints, pipes)
 * @param channel             the underlying channel, or null
 * @param sslSession          the TLS session, or null for plain transports
 * @param applicationProtocol the ALPN result, or null
 */
public record TransportInfo(SocketAddress localAddress, SocketAddress peerAddress, Channel channel,
                            SSLSession sslSession, String applicationProtocol) {

    /**
     * Information for a plain (non-TLS) transport.
     *
     * @param local   local address
     * @param peer    peer address
     * @param channel channel
     * @return the info
     */
    public static TransportInfo plain(SocketAddress local, SocketAddress peer, Channel channel) {
        return new TransportInfo(local, peer, channel, null, null);
    }
}
