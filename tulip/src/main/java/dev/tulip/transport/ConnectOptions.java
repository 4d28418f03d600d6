package dev.tulip.transport;

import java.net.SocketAddress;
import java.time.Duration;

/**
 * Options for opening a stream connection ({@code createConnection}, {@code createUnixConnection}). Start from
 * {@link #defaults()} and change what you need with the {@code with...} methods.
 *
 * @param connectTimeout     how long the whole connect (resolution and every attempt) may take, or null for no limit
 *                           beyond the operating system's
 * @param happyEyeballsDelay RFC 8305 "connection attempt delay": when a host has several addresses, the next attempt
 *                           starts after this delay or as soon as the previous attempt fails; null tries the addresses
 *                           one after another (the next only when the previous failed). Default 250 ms
 * @param localAddress       the local address to bind before connecting, or null
 * @param tcpNoDelay         TCP_NODELAY (Nagle's algorithm off); on by default, as in asyncio. Ignored for UNIX sockets
 * @param keepAlive          SO_KEEPALIVE; off by default. Ignored for UNIX sockets
 */
public record ConnectOptions(Duration connectTimeout, Duration happyEyeballsDelay, SocketAddress localAddress,
                             boolean tcpNoDelay, boolean keepAlive) {

    private static final ConnectOptions DEFAULTS =
            new ConnectOptions(null, Duration.ofMillis(250), null, true, false);

    /**
     * Checks the durations.
     *
     * @throws IllegalArgumentException if a duration is negative, or the timeout is zero
     */
    public ConnectOptions {
        if (connectTimeout != null && (connectTimeout.isNegative() || connectTimeout.isZero())) {
            throw new IllegalArgumentException("connect timeout must be positive: " + connectTimeout);
        }
        if (happyEyeballsDelay != null && happyEyeballsDelay.isNegative()) {
            throw new IllegalArgumentException("happy eyeballs delay must not be negative: " + happyEyeballsDelay);
        }
    }

    /**
     * The defaults: no timeout, 250 ms Happy Eyeballs delay, no local address, TCP_NODELAY on, keep-alive off.
     *
     * @return the default options
     */
    public static ConnectOptions defaults() {
        return DEFAULTS;
    }

    /**
     * These options with another connect timeout.
     *
     * @param timeout positive, or null for none
     * @return new options
     */
    public ConnectOptions withConnectTimeout(Duration timeout) {
        return new ConnectOptions(timeout, happyEyeballsDelay, localAddress, tcpNoDelay, keepAlive);
    }

    /**
     * These options with another Happy Eyeballs delay.
     *
     * @param delay zero or more, or null for strictly sequential attempts
     * @return new options
     */
    public ConnectOptions withHappyEyeballsDelay(Duration delay) {
        return new ConnectOptions(connectTimeout, delay, localAddress, tcpNoDelay, keepAlive);
    }

    /**
     * These options with a local address to bind.
     *
     * @param local the address, or null
     * @return new options
     */
    public ConnectOptions withLocalAddress(SocketAddress local) {
        return new ConnectOptions(connectTimeout, happyEyeballsDelay, local, tcpNoDelay, keepAlive);
    }

    /**
     * These options with TCP_NODELAY on or off.
     *
     * @param noDelay whether to disable Nagle's algorithm
     * @return new options
     */
    public ConnectOptions withTcpNoDelay(boolean noDelay) {
        return new ConnectOptions(connectTimeout, happyEyeballsDelay, localAddress, noDelay, keepAlive);
    }

    /**
     * These options with SO_KEEPALIVE on or off.
     *
     * @param on whether to enable TCP keep-alive
     * @return new options
     */
    public ConnectOptions withKeepAlive(boolean on) {
        return new ConnectOptions(connectTimeout, happyEyeballsDelay, localAddress, tcpNoDelay, on);
    }

    @Override
    public String toString() {
        return "ConnectOptions[timeout=" + connectTimeout + ", happyEyeballsDelay=" + happyEyeballsDelay
                + ", local=" + localAddress + ", tcpNoDelay=" + tcpNoDelay + ", keepAlive=" + keepAlive + "]";
    }

}
