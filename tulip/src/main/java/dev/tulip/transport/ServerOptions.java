package dev.tulip.transport;

/**
 * Options for a listening server ({@code createServer}, {@code createUnixServer}). Start from {@link #defaults()}
 * and change what you need with the {@code with...} methods.
 *
 * @param backlog      the listen backlog (pending connections the kernel queues); default 100, as asyncio. Also the
 *                     most connections accepted per readiness event
 * @param reuseAddress SO_REUSEADDR on the listening socket: on by default for TCP (a restarted server can bind while
 *                     old connections are in TIME_WAIT); ignored for UNIX sockets
 * @param reusePort    SO_REUSEPORT: off by default; on lets several loops (threads or processes) listen on the same
 *                     port, the kernel spreading connections among them
 * @param startServing whether to accept at once (default) or only after {@link Server#startServing()}
 * @param tcpNoDelay   TCP_NODELAY on accepted connections; on by default, as in asyncio
 */
public record ServerOptions(int backlog, boolean reuseAddress, boolean reusePort, boolean startServing,
                            boolean tcpNoDelay) {

    private static final ServerOptions DEFAULTS = new ServerOptions(100, true, false, true, true);

    /**
     * Checks the backlog.
     *
     * @throws IllegalArgumentException if backlog is less than 1
     */
    public ServerOptions {
        if (backlog < 1) {
            throw new IllegalArgumentException("backlog must be at least 1: " + backlog);
        }
    }

    /**
     * The defaults: backlog 100, SO_REUSEADDR on, SO_REUSEPORT off, start serving at once, TCP_NODELAY on.
     *
     * @return the default options
     */
    public static ServerOptions defaults() {
        return DEFAULTS;
    }

    /**
     * These options with another backlog.
     *
     * @param n at least 1
     * @return new options
     */
    public ServerOptions withBacklog(int n) {
        return new ServerOptions(n, reuseAddress, reusePort, startServing, tcpNoDelay);
    }

    /**
     * These options with SO_REUSEADDR on or off.
     *
     * @param on whether to set SO_REUSEADDR
     * @return new options
     */
    public ServerOptions withReuseAddress(boolean on) {
        return new ServerOptions(backlog, on, reusePort, startServing, tcpNoDelay);
    }

    /**
     * These options with SO_REUSEPORT on or off.
     *
     * @param on whether to set SO_REUSEPORT
     * @return new options
     */
    public ServerOptions withReusePort(boolean on) {
        return new ServerOptions(backlog, reuseAddress, on, startServing, tcpNoDelay);
    }

    /**
     * These options with serving at once or later.
     *
     * @param on whether to accept at once
     * @return new options
     */
    public ServerOptions withStartServing(boolean on) {
        return new ServerOptions(backlog, reuseAddress, reusePort, on, tcpNoDelay);
    }

    /**
     * These options with TCP_NODELAY on or off for accepted connections.
     *
     * @param on whether to disable Nagle's algorithm
     * @return new options
     */
    public ServerOptions withTcpNoDelay(boolean on) {
        return new ServerOptions(backlog, reuseAddress, reusePort, startServing, on);
    }
}
