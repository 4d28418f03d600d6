package dev.tulip.transport;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.util.Objects;

/**
 * How to create a datagram (UDP) endpoint: where to bind, an optional remote address, socket options.
 *
 * <p>Build one with {@link #builder()}; {@link #defaults()} binds the wildcard address on a port the kernel picks.
 * The defaults are chosen for a server: a receive socket buffer of {@value #DEFAULT_RECEIVE_BUFFER_SIZE} bytes (the
 * kernel caps it to its own maximum, {@code net.core.rmem_max} on Linux), so that a burst of a thousand 1 KiB datagrams
 * arriving while the loop is busy is not dropped by the endpoint; datagrams of every legal size delivered whole.
 *
 * <p>{@code SO_REUSEADDR} is deliberately not set and cannot be: on UDP it lets another process bind the same port and
 * steal its datagrams (asyncio removed it for that reason, cpython issue 81409). {@link #reusePort()}
 * ({@code SO_REUSEPORT}, which only lets sockets of the same user share a port, for load balancing or several
 * multicast receivers) is opt-in.
 *
 * <p>Addresses given as host names are resolved off the loop when the endpoint is created; IP literals are used as is.
 *
 * <p>Immutable; any thread.
 *
 * @param localAddress       where to bind; null for the wildcard address of the family; port 0 lets the kernel pick
 *                           a free port (read it back from {@link DatagramTransport#info()})
 * @param remoteAddress      null for an unconnected endpoint (the default: it talks to anyone), or the peer of a
 *                           connected one
 * @param family             the socket's address family
 * @param reusePort          whether to set {@code SO_REUSEPORT} (several sockets of this user on one port)
 * @param allowBroadcast     whether to set {@code SO_BROADCAST} (needed to send to a broadcast address)
 * @param receiveBufferSize  {@code SO_RCVBUF} in bytes, 0 for the operating system's default
 * @param sendBufferSize     {@code SO_SNDBUF} in bytes, 0 for the operating system's default
 * @param maxDatagramSize    the largest datagram delivered, at most 65,535; larger ones are reported to
 *                           {@link DatagramProtocol#errorReceived} and dropped, never delivered truncated
 * @param multicastInterface the interface multicast datagrams are sent from, or null for the system's choice
 * @param multicastTtl       the time-to-live of multicast datagrams sent (0 to 255), or -1 for the default (1)
 * @param multicastLoopback  whether multicast datagrams sent are also delivered to this host (the default, true)
 */
public record DatagramOptions(InetSocketAddress localAddress, InetSocketAddress remoteAddress, Family family,
                              boolean reusePort, boolean allowBroadcast, int receiveBufferSize, int sendBufferSize,
                              int maxDatagramSize, NetworkInterface multicastInterface, int multicastTtl,
                              boolean multicastLoopback) {

    /** The default {@code SO_RCVBUF} request: 4 MiB (what the kernel grants may be less). */
    public static final int DEFAULT_RECEIVE_BUFFER_SIZE = 4 * 1024 * 1024;

    /** The largest datagram size there is: 65,535 bytes (every legal UDP payload fits). */
    public static final int MAX_DATAGRAM_SIZE = 65_535;

    /**
     * The address family of an endpoint's socket.
     */
    public enum Family {
        /**
         * Chosen from the addresses: the family of a specific local address; else that of the remote address; else
         * IPv4 if the local address is {@code 0.0.0.0}; else dual-stack (IPv4 if the system has no IPv6).
         */
        AUTO,
        /** An IPv4 socket: IPv4 addresses only. */
        IPV4,
        /**
         * An IPv6 socket: sends only to IPv6 addresses. The JDK offers no {@code IPV6_V6ONLY} option, so an IPv6 socket
         * bound to the wildcard address also receives IPv4 datagrams (as asyncio's {@code AF_INET6} sockets do on Linux);
         * bind a specific IPv6 address to avoid that.
         */
        IPV6,
        /** An IPv6 socket bound to the wildcard address that sends to and receives from IPv4 and IPv6 peers alike. */
        DUAL_STACK
    }

    /**
     * Checks the options.
     *
     * @throws NullPointerException     if family is null
     * @throws IllegalArgumentException if a size or the TTL is out of range, the remote port is 0, or the addresses do
     *                                  not fit the family (or each other)
     */
    public DatagramOptions {
        Objects.requireNonNull(family, "family");
        if (receiveBufferSize < 0) {
            throw new IllegalArgumentException("receiveBufferSize must not be negative: " + receiveBufferSize);
        }
        if (sendBufferSize < 0) {
            throw new IllegalArgumentException("sendBufferSize must not be negative: " + sendBufferSize);
        }
        if (maxDatagramSize < 0 || maxDatagramSize > MAX_DATAGRAM_SIZE) {
            throw new IllegalArgumentException("maxDatagramSize must be between 0 and " + MAX_DATAGRAM_SIZE + ": "
                    + maxDatagramSize);
        }
        if (multicastTtl < -1 || multicastTtl > 255) {
            throw new IllegalArgumentException("multicastTtl must be between 0 and 255 (or -1 for the default): "
                    + multicastTtl);
        }
        if (remoteAddress != null && remoteAddress.getPort() == 0) {
            throw new IllegalArgumentException("remote address has port 0: " + remoteAddress);
        }
        checkFamily(localAddress, remoteAddress, family);
    }

    /**
     * Checks that resolved addresses fit the family and each other (unresolved ones are checked once resolved).
     *
     * @param local  the local address or null
     * @param remote the remote address or null
     * @param family the family
     * @throws IllegalArgumentException if they do not fit
     */
    static void checkFamily(InetSocketAddress local, InetSocketAddress remote, Family family) {
        InetAddress l = local == null ? null : local.getAddress();
        InetAddress r = remote == null ? null : remote.getAddress();
        switch (family) {
            case IPV4 -> {
                if (l instanceof Inet6Address && !l.isAnyLocalAddress()) {
                    throw new IllegalArgumentException("IPv6 local address " + local + " for an IPv4 endpoint");
                }
                if (r instanceof Inet6Address) {
                    throw new IllegalArgumentException("IPv6 remote address " + remote + " for an IPv4 endpoint");
                }
            }
            case IPV6 -> {
                if (l instanceof Inet4Address && !l.isAnyLocalAddress()) {
                    throw new IllegalArgumentException("IPv4 local address " + local + " for an IPv6 endpoint");
                }
                if (r instanceof Inet4Address) {
                    throw new IllegalArgumentException("IPv4 remote address " + remote + " for an IPv6 endpoint");
                }
            }
            case DUAL_STACK -> {
                if (l != null && !l.isAnyLocalAddress()) {
                    throw new IllegalArgumentException("a dual-stack endpoint binds the wildcard address, not " + local);
                }
            }
            case AUTO -> {
                if (l != null && r != null && !l.isAnyLocalAddress()
                        && (l instanceof Inet4Address) != (r instanceof Inet4Address)) {
                    throw new IllegalArgumentException("local address " + local + " and remote address " + remote
                            + " are of different families");
                }
            }
        }
    }

    /**
     * The default options: bind the wildcard address on a port the kernel picks, unconnected.
     *
     * @return the defaults
     */
    public static DatagramOptions defaults() {
        return builder().build();
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder starting from these options.
     *
     * @return a new builder
     */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.localAddress = localAddress;
        b.remoteAddress = remoteAddress;
        b.family = family;
        b.reusePort = reusePort;
        b.allowBroadcast = allowBroadcast;
        b.receiveBufferSize = receiveBufferSize;
        b.sendBufferSize = sendBufferSize;
        b.maxDatagramSize = maxDatagramSize;
        b.multicastInterface = multicastInterface;
        b.multicastTtl = multicastTtl;
        b.multicastLoopback = multicastLoopback;
        return b;
    }

    /**
     * Whether the endpoint is connected (has a remote address).
     *
     * @return true if a remote address is set
     */
    public boolean isConnected() {
        return remoteAddress != null;
    }

    /**
     * Builds {@link DatagramOptions}. Not thread-safe.
     */
    public static final class Builder {
        private InetSocketAddress localAddress;
        private InetSocketAddress remoteAddress;
        private Family family = Family.AUTO;
        private boolean reusePort;
        private boolean allowBroadcast;
        private int receiveBufferSize = DEFAULT_RECEIVE_BUFFER_SIZE;
        private int sendBufferSize;
        private int maxDatagramSize = MAX_DATAGRAM_SIZE;
        private NetworkInterface multicastInterface;
        private int multicastTtl = -1;
        private boolean multicastLoopback = true;

        Builder() {
        }

        /**
         * Where to bind; null for the wildcard address and a port the kernel picks.
         *
         * @param address the local address (may be unresolved: it is resolved off the loop)
         * @return this builder
         */
        public Builder localAddress(InetSocketAddress address) {
            this.localAddress = address;
            return this;
        }

        /**
         * Where to bind, by host and port.
         *
         * @param host an IP literal or a host name (resolved off the loop), or null for the wildcard address
         * @param port the port, 0 to let the kernel pick
         * @return this builder
         * @throws IllegalArgumentException if the port is out of range
         */
        public Builder localAddress(String host, int port) {
            this.localAddress = address(host, port);
            return this;
        }

        /**
         * The local port, keeping the local host (the wildcard address if none was set).
         *
         * @param port the port, 0 to let the kernel pick
         * @return this builder
         * @throws IllegalArgumentException if the port is out of range
         */
        public Builder localPort(int port) {
            InetSocketAddress old = localAddress;
            if (old == null) {
                this.localAddress = wildcardPort(port);
            } else if (old.isUnresolved()) {
                this.localAddress = InetSocketAddress.createUnresolved(old.getHostString(), checkPort(port));
            } else {
                this.localAddress = new InetSocketAddress(old.getAddress(), checkPort(port));
            }
            return this;
        }

        /**
         * The peer of a connected endpoint; null (the default) for an unconnected one.
         *
         * @param address the remote address (may be unresolved: it is resolved off the loop)
         * @return this builder
         */
        public Builder remoteAddress(InetSocketAddress address) {
            this.remoteAddress = address;
            return this;
        }

        /**
         * The peer of a connected endpoint, by host and port.
         *
         * @param host an IP literal or a host name (resolved off the loop)
         * @param port the port, 1 to 65,535
         * @return this builder
         * @throws NullPointerException     if host is null
         * @throws IllegalArgumentException if the port is out of range
         */
        public Builder remoteAddress(String host, int port) {
            this.remoteAddress = address(Objects.requireNonNull(host, "host"), port);
            return this;
        }

        /**
         * The socket's address family (default {@link Family#AUTO}).
         *
         * @param family the family
         * @return this builder
         */
        public Builder family(Family family) {
            this.family = Objects.requireNonNull(family, "family");
            return this;
        }

        /**
         * Whether to set {@code SO_REUSEPORT} (default false).
         *
         * @param on on or off
         * @return this builder
         */
        public Builder reusePort(boolean on) {
            this.reusePort = on;
            return this;
        }

        /**
         * Whether to set {@code SO_BROADCAST} (default false).
         *
         * @param on on or off
         * @return this builder
         */
        public Builder allowBroadcast(boolean on) {
            this.allowBroadcast = on;
            return this;
        }

        /**
         * {@code SO_RCVBUF} in bytes (default {@value DatagramOptions#DEFAULT_RECEIVE_BUFFER_SIZE}); 0 for the
         * operating system's default.
         *
         * @param bytes the size
         * @return this builder
         */
        public Builder receiveBufferSize(int bytes) {
            this.receiveBufferSize = bytes;
            return this;
        }

        /**
         * {@code SO_SNDBUF} in bytes; 0 (the default) for the operating system's default.
         *
         * @param bytes the size
         * @return this builder
         */
        public Builder sendBufferSize(int bytes) {
            this.sendBufferSize = bytes;
            return this;
        }

        /**
         * The largest datagram delivered (default and maximum 65,535: every legal datagram).
         *
         * @param bytes the size
         * @return this builder
         */
        public Builder maxDatagramSize(int bytes) {
            this.maxDatagramSize = bytes;
            return this;
        }

        /**
         * The interface multicast datagrams are sent from ({@code IP_MULTICAST_IF}); null for the system's choice.
         *
         * @param networkInterface the interface
         * @return this builder
         */
        public Builder multicastInterface(NetworkInterface networkInterface) {
            this.multicastInterface = networkInterface;
            return this;
        }

        /**
         * The time-to-live of multicast datagrams sent ({@code IP_MULTICAST_TTL}), -1 for the default.
         *
         * @param ttl 0 to 255, or -1
         * @return this builder
         */
        public Builder multicastTtl(int ttl) {
            this.multicastTtl = ttl;
            return this;
        }

        /**
         * Whether multicast datagrams sent loop back to this host ({@code IP_MULTICAST_LOOP}, default true).
         *
         * @param on on or off
         * @return this builder
         */
        public Builder multicastLoopback(boolean on) {
            this.multicastLoopback = on;
            return this;
        }

        /**
         * Builds the options.
         *
         * @return the options
         * @throws IllegalArgumentException if they are inconsistent (see the record's constructor)
         */
        public DatagramOptions build() {
            return new DatagramOptions(localAddress, remoteAddress, family, reusePort, allowBroadcast,
                    receiveBufferSize, sendBufferSize, maxDatagramSize, multicastInterface, multicastTtl,
                    multicastLoopback);
        }

        private static int checkPort(int port) {
            if (port < 0 || port > 0xFFFF) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            return port;
        }

        private static InetSocketAddress wildcardPort(int port) {
            return new InetSocketAddress(checkPort(port));
        }

        private static InetSocketAddress address(String host, int port) {
            checkPort(port);
            if (host == null) {
                return wildcardPort(port);
            }
            try {
                return new InetSocketAddress(InetAddress.ofLiteral(host), port);
            } catch (IllegalArgumentException notALiteral) {
                return InetSocketAddress.createUnresolved(host, port); // resolved off the loop at creation
            }
        }
    }
}
