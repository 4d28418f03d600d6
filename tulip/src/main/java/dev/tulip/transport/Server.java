package dev.tulip.transport;

import dev.tulip.Future;
import java.net.SocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.util.List;

/**
 * A listening server: one or more bound server sockets that accept connections and give each a fresh protocol from
 * the factory (asyncio's {@code Server}).
 *
 * <p>The server belongs to the {@link dev.tulip.Scope} that was current when it was created: cancelling that scope
 * closes the server and aborts the connections it accepted. Accepted connections belong to the same scope.
 *
 * <p>When accepting fails because the process ran out of file descriptors ({@code EMFILE}), the server logs it, stops
 * accepting for a short moment and then serves again, as asyncio does; pending clients wait in the backlog.
 *
 * <p>Loop thread only.
 */
public interface Server {

    /**
     * Stops listening: closes the listening sockets (a UNIX socket's file is removed). Connections already accepted
     * stay open; {@link #waitClosed()} completes when they are gone too. Idempotent.
     */
    void close();

    /** Closes the connections accepted so far, gracefully (their buffered data is sent first). */
    void closeClients();

    /** Aborts the connections accepted so far (buffered data is dropped). */
    void abortClients();

    /**
     * A future that completes when the server is closed and all its accepted connections are lost.
     *
     * @return the future (the same one every call)
     */
    Future<Void> waitClosed();

    /**
     * Starts accepting (if not yet) and returns a future that completes when the server is closed; cancelling that
     * future closes the server (asyncio's {@code serve_forever}, which is awaited until cancelled).
     *
     * @return the future
     * @throws IllegalStateException if the server is closed
     */
    Future<Void> serveForever();

    /**
     * Starts accepting connections; for a server created with {@code startServing(false)}. Idempotent.
     *
     * @throws IllegalStateException if the server is closed
     */
    void startServing();

    /**
     * Whether the server is accepting connections.
     *
     * @return true between {@link #startServing()} (or creation) and {@link #close()}
     */
    boolean isServing();

    /**
     * The listening channels (one per bound address). Do not accept on them directly.
     *
     * @return the channels, empty once closed
     */
    List<ServerSocketChannel> sockets();

    /**
     * The bound addresses, with the real port when port 0 was asked for.
     *
     * @return the local addresses, empty once closed
     */
    List<SocketAddress> addresses();
}
