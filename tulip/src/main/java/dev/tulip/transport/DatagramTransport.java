package dev.tulip.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.nio.ByteBuffer;

/**
 * A datagram (UDP) endpoint: sends datagrams to any address and receives them from anyone.
 *
 * <p>Every endpoint is a server: an unconnected endpoint (the default) receives from and sends to any address with
 * {@link #sendTo}. An endpoint created with a {@link DatagramOptions#remoteAddress() remote address} is connected: the
 * kernel sends {@link #send} to that address by default, delivers only that peer's datagrams, and reports ICMP errors
 * about it ({@link java.net.PortUnreachableException}) to {@link DatagramProtocol#errorReceived}.
 *
 * <p>Sending never blocks: a datagram is handed to the kernel at once; if the socket buffer is full it is copied into
 * the transport's queue and sent, in order, as soon as the socket is writable. When the queue goes over the
 * high-water mark the protocol gets {@code pauseWriting()}; when it drains to the low-water mark, {@code resumeWriting()}
 * (defaults 64 KiB / 16 KiB, as for streams). Each queued datagram counts its length plus 8 bytes (its UDP header), so
 * queued empty datagrams count too.
 *
 * <p>Buffer ownership: {@code sendTo} and {@code send} read the buffer's remaining bytes before they return (copying
 * them only if they must be queued), so the caller may reuse the buffer at once. The buffer's position is advanced to
 * its limit.
 *
 * <p>Bad input fails before anything is sent: a null or unresolved address, an address of the wrong family for this
 * endpoint, and a datagram larger than UDP allows to that address (65,507 bytes over IPv4, 65,527 over IPv6) throw
 * {@link IllegalArgumentException} (or {@link NullPointerException}); sending on a closing or closed endpoint throws
 * {@link IllegalStateException}.
 *
 * <p>Loop thread only.
 */
public interface DatagramTransport extends BaseTransport {

    /** The largest UDP payload over IPv4: 65,535 - 20 (IPv4 header) - 8 (UDP header). */
    int MAX_IPV4_DATAGRAM = 65_507;

    /** The largest UDP payload over IPv6 without jumbograms: 65,535 - 8 (UDP header). */
    int MAX_IPV6_DATAGRAM = 65_527;

    /**
     * Sends one datagram to {@code target}.
     *
     * @param data   the datagram: the buffer's remaining bytes (may be none)
     * @param target where to send it: a resolved {@link java.net.InetSocketAddress} with a non-zero port; on a
     *               connected endpoint it must be the remote address
     * @throws NullPointerException     if data or target is null
     * @throws IllegalArgumentException if the target is unresolved, not an IP socket address, of the wrong family,
     *                                  has port 0, differs from a connected endpoint's remote address, or the datagram
     *                                  is larger than UDP allows to that address
     * @throws IllegalStateException    if the endpoint is closing or closed
     */
    void sendTo(ByteBuffer data, SocketAddress target);

    /**
     * Sends one datagram to the connected endpoint's remote address.
     *
     * @param data the datagram: the buffer's remaining bytes (may be none)
     * @throws NullPointerException     if data is null
     * @throws IllegalArgumentException if the datagram is larger than UDP allows
     * @throws IllegalStateException    if the endpoint is not connected (use {@link #sendTo}), closing or closed
     */
    void send(ByteBuffer data);

    /**
     * Closes the endpoint after the queued datagrams are sent: no datagram is delivered any more, and
     * {@code connectionLost(null)} follows once the queue is empty. Idempotent.
     */
    @Override
    void close();

    /** Closes the endpoint now, dropping queued datagrams; {@code connectionLost(null)} follows. Idempotent. */
    void abort();

    /**
     * Sets the send queue's water marks.
     *
     * @param high pause writing above this many queued bytes
     * @param low  resume at or below this many; at most {@code high}
     * @throws IllegalArgumentException if negative or low &gt; high
     */
    void setWriteBufferLimits(int high, int low);

    /**
     * Bytes queued and not yet sent: the queued datagrams' lengths plus 8 bytes each.
     *
     * @return the send queue's size
     */
    long writeBufferSize();

    /**
     * Joins multicast group {@code group} on network interface {@code networkInterface}: datagrams sent to the group
     * (and to this endpoint's port) are delivered to this endpoint. Joining a group already joined on that interface
     * does nothing.
     *
     * @param group            a multicast address of this endpoint's family (an IPv4 group on a dual-stack endpoint
     *                         is allowed)
     * @param networkInterface the interface to join on
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if group is not a multicast address, or of the wrong family
     * @throws IllegalStateException    if the endpoint is closing or closed
     * @throws IOException              if the kernel refuses (for instance the interface does not do multicast)
     */
    void joinGroup(InetAddress group, NetworkInterface networkInterface) throws IOException;

    /**
     * Leaves a group joined with {@link #joinGroup}.
     *
     * @param group            the multicast address
     * @param networkInterface the interface it was joined on
     * @return true if the group was joined on that interface and is now left; false if it was not joined
     * @throws NullPointerException if an argument is null
     */
    boolean leaveGroup(InetAddress group, NetworkInterface networkInterface);
}
