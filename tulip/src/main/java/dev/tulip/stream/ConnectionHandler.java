package dev.tulip.stream;

/**
 * The body run for each connection a stream server accepts: a coroutine that talks to one client through its
 * reader and writer (the {@code client_connected_cb} of asyncio's {@code start_server}).
 *
 * <p>It runs as a task of its own on the loop, so it may await (read, drain, sleep). When it returns, the writer is
 * closed (buffered data is still sent). When it throws, the connection is aborted and the failure goes to the loop's
 * exception handler (unless it is the connection's own failure, such as a reset by the peer rethrown by a read: that
 * is only logged at DEBUG); the server and the other connections go on.
 */
@FunctionalInterface
public interface ConnectionHandler {

    /**
     * Serves one connection.
     *
     * @param reader the connection's reader
     * @param writer the connection's writer
     * @throws Exception anything: it is logged and the connection aborted
     */
    void handle(StreamReader reader, StreamWriter writer) throws Exception;
}
