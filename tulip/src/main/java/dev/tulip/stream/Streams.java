package dev.tulip.stream;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.transport.ConnectOptions;
import dev.tulip.transport.Connection;
import dev.tulip.transport.Server;
import dev.tulip.transport.ServerOptions;
import dev.tulip.transport.TlsOptions;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Entry points of the streams API: open a connection or start a server and get {@link StreamReader}/{@link
 * StreamWriter} pairs instead of protocol callbacks (asyncio's {@code open_connection} and {@code start_server}).
 *
 * <pre>{@code
 * Server server = Streams.startServer((reader, writer) -> {
 *     for (String line; (line = reader.readLine(UTF_8)) != null; ) {
 *         writer.write(line.toUpperCase() + "\n", UTF_8);
 *         writer.drain();
 *     }
 * }, "127.0.0.1", 0).await();
 *
 * try (StreamConnection c = Streams.openConnection("127.0.0.1", port).await()) {
 *     c.writer().write("hello\n", UTF_8);
 *     String answer = c.reader().readLine(UTF_8);
 * }
 * }</pre>
 *
 * <p>Every method uses the loop running on the calling thread and returns a future; awaiting it inside a task is a
 * cancellation point. The connections and servers belong to the scope current when they are created (see
 * {@link EventLoop#createConnection} and {@link EventLoop#createServer}). Servers run each connection's
 * {@link ConnectionHandler} as a task of its own: when it returns the connection is closed; when it throws, the
 * failure is reported to the loop's exception handler and that connection is aborted, never the server.
 *
 * <p>Options are the transports' own ({@link ConnectOptions}, {@link ServerOptions}); a reader's limit is set on the
 * reader ({@link StreamReader#setLimit}).
 *
 * <p>To use streams over another kind of transport (TLS, pipes, your own), give a {@link StreamProtocol} to the API
 * that creates it.
 *
 * <p>Threading: loop thread only.
 */
public final class Streams {
    private Streams() {
    }

    /**
     * Opens a TCP connection with default options.
     *
     * @param host a host name or IP literal
     * @param port the port
     * @return a future of the streams; it fails as {@link EventLoop#createConnection} does
     * @throws IllegalStateException if no loop runs on this thread
     */
    public static Future<StreamConnection> openConnection(String host, int port) {
        return openConnection(host, port, ConnectOptions.defaults());
    }

    /**
     * Opens a TCP connection (resolution and Happy Eyeballs as in {@link EventLoop#createConnection}).
     *
     * @param host    a host name or IP literal
     * @param port    the port
     * @param options connect timeout, Happy Eyeballs delay, local address, TCP_NODELAY
     * @return a future of the streams; cancelling it stops the attempt
     * @throws IllegalStateException    if no loop runs on this thread
     * @throws IllegalArgumentException if the port is out of range
     */
    public static Future<StreamConnection> openConnection(String host, int port, ConnectOptions options) {
        EventLoop loop = EventLoop.current();
        return streamsOf(loop, loop.createConnection(() -> new StreamProtocol(loop), host, port, options));
    }

    /**
     * Opens a TLS connection over TCP (asyncio's {@code open_connection(ssl=...)}): the future completes after the
     * handshake; the streams carry plaintext.
     *
     * @param host    a host name or IP literal (also the name verified, unless the TLS options name another)
     * @param port    the port
     * @param options connect options
     * @param tls     client TLS options
     * @return a future of the streams; it fails with a {@link dev.tulip.transport.TlsException} if the handshake
     *         fails
     * @throws IllegalStateException    if no loop runs on this thread
     * @throws IllegalArgumentException if the port is out of range or {@code tls} is in server mode
     */
    public static Future<StreamConnection> openConnection(String host, int port, ConnectOptions options,
                                                          TlsOptions tls) {
        Objects.requireNonNull(tls, "tls");
        EventLoop loop = EventLoop.current();
        return streamsOf(loop, loop.createConnection(() -> new StreamProtocol(loop), host, port, options, tls));
    }

    /**
     * Opens a UNIX-domain stream connection with default options.
     *
     * @param path the socket file
     * @return a future of the streams
     * @throws IllegalStateException if no loop runs on this thread
     */
    public static Future<StreamConnection> openUnixConnection(Path path) {
        return openUnixConnection(path, ConnectOptions.defaults());
    }

    /**
     * Opens a UNIX-domain stream connection.
     *
     * @param path    the socket file
     * @param options the options (the connect timeout applies)
     * @return a future of the streams
     * @throws IllegalStateException if no loop runs on this thread
     */
    public static Future<StreamConnection> openUnixConnection(Path path, ConnectOptions options) {
        EventLoop loop = EventLoop.current();
        return streamsOf(loop, loop.createUnixConnection(() -> new StreamProtocol(loop), path, options));
    }

    /**
     * Wraps an already connected socket (TCP or UNIX) in streams; the channel is owned by them from now on.
     *
     * @param channel a connected channel
     * @return a future of the streams
     * @throws IllegalStateException    if no loop runs on this thread
     * @throws IllegalArgumentException if the channel is not connected
     */
    public static Future<StreamConnection> wrap(SocketChannel channel) {
        Objects.requireNonNull(channel, "channel");
        EventLoop loop = EventLoop.current();
        return streamsOf(loop, loop.createConnection(() -> new StreamProtocol(loop), channel));
    }

    /**
     * Starts a TCP server with default options.
     *
     * @param handler run as a task for each accepted connection
     * @param host    the address to bind; null or "" for all interfaces
     * @param port    the port; 0 picks a free one ({@link Server#addresses()})
     * @return a future of the server, serving
     * @throws IllegalStateException if no loop runs on this thread
     */
    public static Future<Server> startServer(ConnectionHandler handler, String host, int port) {
        return startServer(handler, host, port, ServerOptions.defaults());
    }

    /**
     * Starts a TCP server that runs {@code handler} as a task for each accepted connection.
     *
     * @param handler run as a task for each accepted connection
     * @param host    the address to bind; null or "" for all interfaces
     * @param port    the port; 0 picks a free one
     * @param options backlog, reuse flags, whether to start serving at once, TCP_NODELAY
     * @return a future of the server; it fails with {@link java.net.BindException} if the address is in use
     * @throws IllegalStateException    if no loop runs on this thread
     * @throws IllegalArgumentException if the port is out of range
     */
    public static Future<Server> startServer(ConnectionHandler handler, String host, int port,
                                             ServerOptions options) {
        Objects.requireNonNull(handler, "handler");
        EventLoop loop = EventLoop.current();
        return loop.createServer(() -> new StreamProtocol(loop, handler), host, port, options);
    }

    /**
     * Starts a TLS server over TCP: each accepted connection completes its handshake before {@code handler} runs
     * (connections whose handshake fails never reach it).
     *
     * @param handler run as a task for each accepted connection
     * @param host    the address to bind; null or "" for all interfaces
     * @param port    the port; 0 picks a free one
     * @param options backlog, reuse flags, whether to start serving at once
     * @param tls     server TLS options
     * @return a future of the server
     * @throws IllegalStateException    if no loop runs on this thread
     * @throws IllegalArgumentException if the port is out of range or {@code tls} is in client mode
     */
    public static Future<Server> startServer(ConnectionHandler handler, String host, int port, ServerOptions options,
                                             TlsOptions tls) {
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(tls, "tls");
        EventLoop loop = EventLoop.current();
        return loop.createServer(() -> new StreamProtocol(loop, handler), host, port, options, tls);
    }

    /**
     * Starts a UNIX-domain stream server with default options.
     *
     * @param handler run as a task for each accepted connection
     * @param path    the socket file to create
     * @return a future of the server
     * @throws IllegalStateException if no loop runs on this thread
     */
    public static Future<Server> startUnixServer(ConnectionHandler handler, Path path) {
        return startUnixServer(handler, path, ServerOptions.defaults());
    }

    /**
     * Starts a UNIX-domain stream server (socket file rules as in {@link EventLoop#createUnixServer}).
     *
     * @param handler run as a task for each accepted connection
     * @param path    the socket file to create
     * @param options backlog, whether to start serving at once
     * @return a future of the server
     * @throws IllegalStateException if no loop runs on this thread
     */
    public static Future<Server> startUnixServer(ConnectionHandler handler, Path path, ServerOptions options) {
        Objects.requireNonNull(handler, "handler");
        EventLoop loop = EventLoop.current();
        return loop.createUnixServer(() -> new StreamProtocol(loop, handler), path, options);
    }

    /** The streams of a connection future; cancelling the result cancels the connect. */
    private static Future<StreamConnection> streamsOf(EventLoop loop, Future<Connection<StreamProtocol>> connecting) {
        Future<StreamConnection> out = new Future<>(loop);
        connecting.addDoneCallback(f -> {
            if (out.isDone()) {
                if (!f.isCancelled() && f.exception() == null) {
                    f.result().transport().abort(); // the caller gave up (cancelled) just as it connected
                }
                return;
            }
            if (f.isCancelled()) {
                out.cancel("connect cancelled");
                return;
            }
            Throwable failure = f.exception();
            if (failure != null) {
                out.setException(failure);
            } else {
                out.setResult(f.result().protocol().connection().result());
            }
        });
        out.addDoneCallback(f -> {
            if (f.isCancelled()) {
                connecting.cancel("openConnection cancelled");
            }
        });
        return out;
    }
}
