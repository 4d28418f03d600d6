package dev.tulip.transport;

import java.net.SocketAddress;
import java.nio.ByteBuffer;

/**
 * A datagram (UDP) protocol: the callbacks a {@link DatagramTransport} makes.
 *
 * <p>Call order per endpoint, as in asyncio: {@code connectionMade -> (datagramReceived | errorReceived)* ->
 * connectionLost}. {@code connectionMade} runs before any datagram is delivered and {@code connectionLost} runs exactly
 * once, last (only if {@code connectionMade} ran). {@code pauseWriting}/{@code resumeWriting} may come at any time in
 * between, when the transport's queue of datagrams waiting to be sent crosses its water marks.
 *
 * <p>Buffer ownership: the buffer given to {@link #datagramReceived} belongs to the transport and is valid only during
 * the call (it is the loop's reusable receive buffer, overwritten by the next datagram); the datagram's bytes are
 * between its position and limit. Consume them or copy them before returning; do not keep the buffer.
 *
 * <p>Errors: an error of one datagram (an ICMP "port unreachable" reported on a connected endpoint, a network that is
 * unreachable, a datagram larger than {@link DatagramOptions#maxDatagramSize()}) goes to {@link #errorReceived} and the
 * endpoint keeps working. Only the endpoint's own end (its channel closed, its scope cancelled, a protocol callback that
 * threw) reaches {@link #connectionLost} with a cause.
 *
 * <p>A protocol method that throws is a bug in the protocol: the transport reports it to the loop's exception handler
 * and aborts the endpoint ({@code connectionLost} gets the exception); other endpoints are unaffected.
 *
 * <p>Loop thread only: every method is called on the loop thread, never concurrently.
 */
public interface DatagramProtocol extends BaseProtocol {

    /**
     * The endpoint is bound (and connected, if it has a remote address) and ready. Keep the transport to send with it.
     * Runs before any {@link #datagramReceived}.
     *
     * @param transport the endpoint's transport
     */
    default void connectionMade(DatagramTransport transport) {
    }

    /**
     * A datagram arrived, whole.
     *
     * @param data the datagram's bytes, between position and limit (possibly none: UDP allows empty datagrams); valid
     *             only during this call
     * @param from the sender's address (an {@link java.net.InetSocketAddress}; an IPv4 sender on a dual-stack
     *             endpoint appears with an {@link java.net.Inet4Address})
     */
    default void datagramReceived(ByteBuffer data, SocketAddress from) {
    }

    /**
     * An error about one datagram, sent or received; the endpoint stays open. Typical errors: a
     * {@link java.net.PortUnreachableException} on a connected endpoint whose peer has no socket on that port (an ICMP
     * error for an earlier datagram), a {@link java.net.SocketException} such as "Network is unreachable" for a send,
     * an {@link java.io.IOException} for a received datagram larger than the endpoint accepts (it is dropped, never
     * delivered truncated).
     *
     * <p>May be called from inside {@link DatagramTransport#sendTo} or {@link DatagramTransport#send} when the error is
     * about that very send (as in asyncio).
     *
     * @param error what went wrong
     */
    default void errorReceived(Exception error) {
    }
}
