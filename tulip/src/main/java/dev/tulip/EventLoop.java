package dev.tulip;

import dev.tulip.internal.loop.TulipLoop;
import java.nio.channels.SelectableChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;

/**
 * An event loop: one thread runs callbacks, timers and I/O readiness handlers, one at a time, in the order of
 * PEP 3156 (asyncio).
 *
 * <p>Each pass of the loop ({@link #runOnce()}) drops cancelled timers, polls the I/O backend (blocking only when
 * nothing is ready), moves due timers to the ready queue and runs the ready callbacks. By default a pass runs only
 * the callbacks that were ready when it began (Tornado style, what asyncio does), so a callback that keeps
 * rescheduling itself cannot starve I/O; {@link Builder#drainReadyQueue(boolean)} selects the original Tulip style.
 *
 * <p>A callback that throws never stops the loop: the failure goes to the exception handler as an
 * {@link ExceptionContext}. {@link VirtualMachineError}s (such as {@link OutOfMemoryError}) are the exception: they
 * propagate out of {@link #runOnce()}/{@link #runForever()} and the loop stops (it stays usable and closable),
 * because continuing after them is rarely safe.
 *
 * <p>Threading: a loop runs on one thread at a time. All methods must be called on that thread (while the loop is
 * not running, on any single thread that owns it), except {@link #callSoonThreadsafe}, {@link #stop()},
 * {@link #isRunning()}, {@link #isClosed()} and {@link #time()}, which any thread may call. In debug mode every
 * loop-only method checks its thread; {@code runForever}, {@code runUntilComplete}, {@code stop} and {@code close}
 * always check how they are used.
 *
 * <p>Compared with asyncio: time is a {@code long} in nanoseconds of a monotonic clock (not float seconds), handles
 * belong to {@link Scope scopes}, and done callbacks of a {@link Future} always run later, never inside
 * {@code setResult}.
 */
public interface EventLoop extends AutoCloseable {

    /**
     * Creates a loop with default options (FIFO, Tornado-style passes, the system monotonic clock).
     *
     * @return a new loop, not running
     */
    static EventLoop create() {
        return builder().build();
    }

    /**
     * A builder for a loop with options.
     *
     * @return a new builder
     */
    static Builder builder() {
        return new Builder();
    }

    /**
     * The loop running on this thread (including inside a task body).
     *
     * @return the running loop
     * @throws IllegalStateException if no loop is running on this thread
     */
    static EventLoop current() {
        return TulipLoop.currentOrThrow();
    }

    /**
     * The loop running on this thread, if any.
     *
     * @return the running loop, or empty
     */
    static Optional<EventLoop> find() {
        return Optional.ofNullable(TulipLoop.currentOrNull());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scheduling callbacks
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Schedules {@code callback} to run in a later pass of the loop, after the callbacks already ready (FIFO).
     *
     * @param callback what to run
     * @return a handle that can cancel it
     * @throws NullPointerException  if callback is null
     * @throws IllegalStateException if the loop is closed or the current scope is cancelled
     */
    Handle callSoon(Runnable callback);

    /**
     * Schedules {@code callback} after {@code delay}. Timers due at the same time run in the order scheduled.
     *
     * @param delay    how long from now; zero runs in the next pass
     * @param callback what to run
     * @return a handle that can cancel it
     * @throws IllegalArgumentException if delay is negative
     * @throws IllegalStateException    if the loop is closed or the current scope is cancelled
     */
    TimerHandle callLater(Duration delay, Runnable callback);

    /**
     * Schedules {@code callback} at loop time {@code whenNanos} ({@link #time()} units). A time in the past runs in
     * the next pass.
     *
     * @param whenNanos the loop time at which to run
     * @param callback  what to run
     * @return a handle that can cancel it
     * @throws IllegalStateException if the loop is closed or the current scope is cancelled
     */
    TimerHandle callAt(long whenNanos, Runnable callback);

    /**
     * Schedules {@code callback} from any thread and wakes the loop if it is waiting for I/O. Calls from one thread
     * run in the order made; wake-ups are coalesced (one system call while a wake-up is pending). The callback
     * belongs to the root scope (or, when called on the loop thread, to the current scope).
     *
     * @param callback what to run
     * @return a handle; its {@code cancel()} must be called on the loop thread
     * @throws NullPointerException  if callback is null
     * @throws IllegalStateException if the loop is closed, or (on the loop thread) the current scope is cancelled
     */
    Handle callSoonThreadsafe(Runnable callback);

    /**
     * The loop's time: nanoseconds of its monotonic clock (virtual on a virtual-time loop). Any thread.
     *
     * @return the current loop time
     */
    long time();

    // ---------------------------------------------------------------------------------------------------------
    // Running and stopping
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Runs the loop until {@link #stop()} is called.
     *
     * @throws IllegalStateException if the loop is closed, already running, or another loop runs on this thread
     */
    void runForever();

    /**
     * Runs the loop until {@code future} is done, then returns its result (or throws its failure, as
     * {@link Future#result()} does).
     *
     * @param future a future of this loop
     * @param <T>    the result type
     * @return the future's result
     * @throws IllegalStateException if the loop stopped before the future was done, or cannot run
     */
    <T> T runUntilComplete(Future<T> future);

    /**
     * Runs one pass of the loop: drop cancelled timers, poll I/O, move due timers to the ready queue, run the
     * callbacks that were ready. The only place callbacks run. Mostly for tests and for embedding the loop in another
     * one.
     *
     * <p>The poll does not block when a callback is ready; otherwise it waits for I/O, the next timer, or a wake-up
     * from another thread ({@link #callSoonThreadsafe}, {@link #stop()}). With nothing ready, no timer and no I/O
     * that will come, it waits forever, as asyncio's does: schedule something first. (A virtual-time loop jumps to
     * the next timer instead of waiting for it.)
     *
     * @throws IllegalStateException if the loop is closed or another loop runs on this thread
     */
    void runOnce();

    /**
     * Asks the running loop to stop after the current pass; if it is not running, the next {@link #runForever()}
     * runs one pass and returns. Any thread: from another thread it wakes the loop if it is waiting.
     */
    void stop();

    /**
     * Closes the loop: cancels its pending tasks and lets them unwind, cancels the root scope (closing the
     * transports and servers it owns), runs the cleanup callbacks that this schedules, and releases the I/O backend.
     * Pending handles are dropped. Idempotent.
     *
     * @throws IllegalStateException if the loop is running
     */
    @Override
    void close();

    /**
     * Whether the loop is running. Any thread.
     *
     * @return true between the start and the end of {@code runForever}/{@code runUntilComplete}
     */
    boolean isRunning();

    /**
     * Whether the loop was closed. Any thread.
     *
     * @return true once {@link #close()} was called
     */
    boolean isClosed();

    // ---------------------------------------------------------------------------------------------------------
    // Futures
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Creates a pending future bound to this loop.
     *
     * @param <T> the result type
     * @return a new future
     */
    default <T> Future<T> createFuture() {
        return new Future<>(this);
    }

    /**
     * Adopts a {@link CompletionStage} (a {@code CompletableFuture}, another library's future): returns a future of
     * this loop that completes, on the loop thread, when the stage does. Cancelling the returned future cancels the
     * stage if it is a {@code CompletableFuture}. Any thread.
     *
     * @param stage the stage to follow
     * @param <T>   the result type
     * @return a future of this loop
     */
    default <T> Future<T> wrapFuture(CompletionStage<T> stage) {
        return Future.fromStage(this, stage);
    }

    // ---------------------------------------------------------------------------------------------------------
    // I/O readiness callbacks
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Calls {@code callback} whenever {@code channel} is readable (or acceptable, for a server channel), until
     * removed. A second {@code addReader} for the same channel replaces the first. The channel is switched to
     * non-blocking mode.
     *
     * @param channel  a selectable channel
     * @param callback what to run when readable
     * @return a handle whose {@code cancel()} removes the reader
     * @throws IllegalStateException if the loop or the channel is closed
     */
    Handle addReader(SelectableChannel channel, Runnable callback);

    /**
     * Stops watching {@code channel} for reading.
     *
     * @param channel the channel
     * @return true if a reader was registered
     */
    boolean removeReader(SelectableChannel channel);

    /**
     * Calls {@code callback} whenever {@code channel} is writable (or connected, for a connecting socket), until
     * removed. A second {@code addWriter} for the same channel replaces the first.
     *
     * @param channel  a selectable channel
     * @param callback what to run when writable
     * @return a handle whose {@code cancel()} removes the writer
     * @throws IllegalStateException if the loop or the channel is closed
     */
    Handle addWriter(SelectableChannel channel, Runnable callback);

    /**
     * Stops watching {@code channel} for writing.
     *
     * @param channel the channel
     * @return true if a writer was registered
     */
    boolean removeWriter(SelectableChannel channel);

    // ---------------------------------------------------------------------------------------------------------
    // Errors and debugging
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Sets the handler for failures no caller can catch; null restores the default, which logs through
     * {@link System.Logger} (logger "dev.tulip") at ERROR.
     *
     * @param handler called on the loop thread with the loop and the context
     */
    void setExceptionHandler(BiConsumer<EventLoop, ExceptionContext> handler);

    /**
     * The handler set with {@link #setExceptionHandler}, or null for the default.
     *
     * @return the custom handler or null
     */
    BiConsumer<EventLoop, ExceptionContext> getExceptionHandler();

    /**
     * Passes {@code context} to the exception handler (the default one if none is set). If the handler itself
     * throws, both failures are logged.
     *
     * @param context what failed
     */
    void callExceptionHandler(ExceptionContext context);

    /**
     * The default handler's behaviour: logs the context at ERROR.
     *
     * @param context what failed
     */
    void defaultExceptionHandler(ExceptionContext context);

    /**
     * Turns debug mode on or off: thread checks on every loop-only method, slow-callback logging, and logging of
     * future exceptions never retrieved. Also enabled by {@code -Dtulip.debug=true}.
     *
     * @param debug on or off
     */
    void setDebug(boolean debug);

    /**
     * Whether debug mode is on.
     *
     * @return debug mode
     */
    boolean isDebug();

    /**
     * In debug mode, callbacks that take longer than this are logged at WARNING. Default 100 ms.
     *
     * @param threshold the threshold, positive
     * @throws IllegalArgumentException if not positive
     */
    void setSlowCallbackThreshold(Duration threshold);

    /**
     * The root scope of this loop: the one current when nothing else is.
     *
     * @return the root scope
     */
    Scope rootScope();

    /**
     * The scope current on the loop now.
     *
     * @return the current scope
     */
    Scope currentScope();

    // ---------------------------------------------------------------------------------------------------------
    // region tasks (issue 3): tasks and coroutines are added here
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Wraps {@code body} in a {@link Task} that starts in a later pass of this loop (asyncio's {@code create_task}).
     * Created inside a running task, the new task is that task's child (see {@link Task}). Loop thread only.
     *
     * @param body the coroutine
     * @param <T>  the result type
     * @return the new task
     * @throws IllegalStateException if the loop is closed or the current scope is cancelled
     */
    default <T> Task<T> createTask(Coroutine<T> body) {
        return Task.create(this, Task.Options.DEFAULT, body);
    }

    /**
     * Like {@link #createTask(Coroutine)}, with a name for the task.
     *
     * @param name the task's name
     * @param body the coroutine
     * @param <T>  the result type
     * @return the new task
     * @throws IllegalStateException if the loop is closed or the current scope is cancelled
     */
    default <T> Task<T> createTask(String name, Coroutine<T> body) {
        return Task.create(this, Task.Options.named(name), body);
    }

    /**
     * Like {@link #createTask(Coroutine)}, with options (name, eager start, detached from the current task).
     *
     * @param options how to start the task
     * @param body    the coroutine
     * @param <T>     the result type
     * @return the new task
     * @throws IllegalStateException if the loop is closed or the current scope is cancelled
     */
    default <T> Task<T> createTask(Task.Options options, Coroutine<T> body) {
        return Task.create(this, options, body);
    }

    /**
     * The tasks of this loop that are not done yet, in creation order (asyncio's {@code all_tasks()}). Loop thread
     * only. {@link Tulip#dumpTasks} shows where each is suspended.
     *
     * @return a snapshot of the pending tasks
     */
    default java.util.List<Task<?>> allTasks() {
        return dev.tulip.internal.task.Tasks.allTasks(this);
    }

    /**
     * Runs a blocking {@code job} on another thread and returns a future of this loop for its result (asyncio's
     * {@code run_in_executor}): the default executor starts one virtual thread per job. The result is delivered on
     * the loop thread. Cancelling the future (or the task awaiting it) interrupts the job's thread.
     * Loop thread only.
     *
     * @param job the blocking work
     * @param <T> the result type
     * @return a future completed with the job's result or failure
     */
    default <T> Future<T> runInExecutor(java.util.concurrent.Callable<T> job) {
        return dev.tulip.internal.task.Tasks.runInExecutor(this, null, job);
    }

    /**
     * Like {@link #runInExecutor(java.util.concurrent.Callable)} on {@code executor}; cancelling interrupts the job
     * if the executor ran it on a thread that honours interrupts.
     *
     * @param executor where the job runs (null for a virtual thread per job)
     * @param job      the blocking work
     * @param <T>      the result type
     * @return a future completed with the job's result or failure
     */
    default <T> Future<T> runInExecutor(java.util.concurrent.Executor executor, java.util.concurrent.Callable<T> job) {
        return dev.tulip.internal.task.Tasks.runInExecutor(this, executor, job);
    }


    // endregion tasks

    // ---------------------------------------------------------------------------------------------------------
    // region transports (issue 4): TCP and UNIX connections, servers, sock* operations
    // ---------------------------------------------------------------------------------------------------------


    /**
     * Opens a TCP connection with default {@link dev.tulip.transport.ConnectOptions options}; see
     * {@link #createConnection(java.util.function.Supplier, String, int, dev.tulip.transport.ConnectOptions)}.
     *
     * @param factory makes the connection's protocol
     * @param host    a host name or an IP literal ({@code "::1"}, {@code "[::1]"}, {@code "fe80::1%lo"})
     * @param port    the port
     * @param <P>     the protocol type
     * @return a future of the transport and protocol, done after {@code connectionMade} ran
     */
    default <P extends dev.tulip.transport.Protocol> Future<dev.tulip.transport.Connection<P>> createConnection(
            java.util.function.Supplier<P> factory, String host, int port) {
        return createConnection(factory, host, port, dev.tulip.transport.ConnectOptions.defaults());
    }

    /**
     * Opens a TCP connection (asyncio's {@code create_connection}): resolves {@code host} off the loop thread, races
     * its addresses (Happy Eyeballs, RFC 8305: attempts staggered by the options' delay, families interleaved,
     * the first connected socket wins and the others are closed), wraps the socket in a transport, makes the
     * protocol with {@code factory} and schedules {@code connectionMade}. The future completes after
     * {@code connectionMade} ran; no data is delivered before it.
     *
     * <p>The connection belongs to the current scope: cancelling the scope cancels the pending connect or aborts the
     * connection ({@code connectionLost} then gets a {@link java.util.concurrent.CancellationException}). Cancelling
     * the returned future before it completes stops the attempt and closes its sockets. Loop thread only.
     *
     * @param factory makes the connection's protocol
     * @param host    a host name or an IP literal ({@code "::1"}, {@code "[::1]"}, {@code "fe80::1%lo"})
     * @param port    the port, 0..65535
     * @param options timeout, Happy Eyeballs delay, local address, TCP_NODELAY (on by default)
     * @param <P>     the protocol type
     * @return a future of the transport and protocol; it fails with {@link java.net.UnknownHostException} if the
     *         name does not resolve, {@link java.net.ConnectException} if every address refused or was unreachable,
     *         {@link java.net.SocketTimeoutException} when the connect timeout expired
     * @throws IllegalArgumentException if the port is out of range
     * @throws IllegalStateException    if the current scope is cancelled
     */
    default <P extends dev.tulip.transport.Protocol> Future<dev.tulip.transport.Connection<P>> createConnection(
            java.util.function.Supplier<P> factory, String host, int port,
            dev.tulip.transport.ConnectOptions options) {
        return dev.tulip.internal.net.Sockets.createConnection(this, factory, host, port, options);
    }

    /**
     * Wraps an already connected socket (TCP or UNIX) in a transport with a protocol from {@code factory} (asyncio's
     * {@code create_connection(sock=...)}). The channel is switched to non-blocking mode and is owned by the
     * transport from now on. Loop thread only.
     *
     * @param factory makes the protocol
     * @param channel a connected channel
     * @param <P>     the protocol type
     * @return a future of the transport and protocol, done after {@code connectionMade} ran
     * @throws IllegalArgumentException if the channel is not connected
     */
    default <P extends dev.tulip.transport.Protocol> Future<dev.tulip.transport.Connection<P>> createConnection(
            java.util.function.Supplier<P> factory, java.nio.channels.SocketChannel channel) {
        return dev.tulip.internal.net.Sockets.wrapConnection(this, factory, channel);
    }

    /**
     * Opens a UNIX-domain stream connection to the socket file at {@code path} with default options. Loop thread
     * only.
     *
     * @param factory makes the protocol
     * @param path    the socket file
     * @param <P>     the protocol type
     * @return a future of the transport and protocol; fails with an {@link java.io.IOException} (such as
     *         {@link java.net.SocketException} when nothing listens)
     */
    default <P extends dev.tulip.transport.Protocol> Future<dev.tulip.transport.Connection<P>> createUnixConnection(
            java.util.function.Supplier<P> factory, java.nio.file.Path path) {
        return createUnixConnection(factory, path, dev.tulip.transport.ConnectOptions.defaults());
    }

    /**
     * Opens a UNIX-domain stream connection (asyncio's {@code create_unix_connection}); only the connect timeout
     * of {@code options} applies. Same scope and cancellation rules as {@code createConnection}. Loop thread only.
     *
     * @param factory makes the protocol
     * @param path    the socket file
     * @param options the options (connect timeout)
     * @param <P>     the protocol type
     * @return a future of the transport and protocol
     */
    default <P extends dev.tulip.transport.Protocol> Future<dev.tulip.transport.Connection<P>> createUnixConnection(
            java.util.function.Supplier<P> factory, java.nio.file.Path path,
            dev.tulip.transport.ConnectOptions options) {
        return dev.tulip.internal.net.Sockets.createUnixConnection(this, factory, path, options);
    }

    /**
     * Starts a TCP server with default {@link dev.tulip.transport.ServerOptions options}. Loop thread only.
     *
     * @param factory makes one protocol per accepted connection
     * @param host    the address to bind (a name binds each of its addresses); null or "" for all interfaces
     * @param port    the port; 0 picks a free one (read it back from {@link dev.tulip.transport.Server#addresses()})
     * @return a future of the server, serving
     */
    default Future<dev.tulip.transport.Server> createServer(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory, String host, int port) {
        return createServer(factory, host, port, dev.tulip.transport.ServerOptions.defaults());
    }

    /**
     * Starts a TCP server (asyncio's {@code create_server}): binds one listening socket per resolved address of
     * {@code host} with SO_REUSEADDR (on by default) and, if asked, SO_REUSEPORT, and accepts connections, each
     * with a fresh protocol from {@code factory}. The server and its connections belong to the current scope.
     * Loop thread only.
     *
     * @param factory makes one protocol per accepted connection
     * @param host    the address to bind; null or "" for all interfaces
     * @param port    the port; 0 picks a free one
     * @param options backlog, reuse flags, whether to start serving at once
     * @return a future of the server; fails with {@link java.net.BindException} if the address is in use
     * @throws IllegalArgumentException if the port is out of range
     */
    default Future<dev.tulip.transport.Server> createServer(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory, String host, int port,
            dev.tulip.transport.ServerOptions options) {
        return dev.tulip.internal.net.Sockets.createServer(this, factory, host, port, options);
    }

    /**
     * Starts a server on an already bound server socket (TCP or UNIX), which it owns from now on. Loop thread only.
     *
     * @param factory makes one protocol per accepted connection
     * @param channel a bound server channel
     * @param options backlog (the accept batch size here), whether to start serving at once
     * @return a future of the server
     * @throws IllegalArgumentException if the channel is not bound
     */
    default Future<dev.tulip.transport.Server> createServer(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory,
            java.nio.channels.ServerSocketChannel channel, dev.tulip.transport.ServerOptions options) {
        return dev.tulip.internal.net.Sockets.wrapServer(this, factory, channel, options);
    }

    /**
     * Starts a UNIX-domain stream server with default options. Loop thread only.
     *
     * @param factory makes one protocol per accepted connection
     * @param path    the socket file to create
     * @return a future of the server
     */
    default Future<dev.tulip.transport.Server> createUnixServer(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory, java.nio.file.Path path) {
        return createUnixServer(factory, path, dev.tulip.transport.ServerOptions.defaults());
    }

    /**
     * Starts a UNIX-domain stream server (asyncio's {@code create_unix_server}) listening on a new socket file at
     * {@code path}. A stale socket file (left by a dead server: nothing accepts on it) is removed first; a path
     * where a server is listening fails with {@link java.net.BindException}; a path that exists and is not a socket
     * is never deleted and fails with {@link java.nio.file.FileAlreadyExistsException}. Closing the server removes
     * the socket file if it is still the one it created. Loop thread only.
     *
     * @param factory makes one protocol per accepted connection
     * @param path    the socket file to create
     * @param options backlog, whether to start serving at once (the reuse flags do not apply)
     * @return a future of the server
     */
    default Future<dev.tulip.transport.Server> createUnixServer(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory, java.nio.file.Path path,
            dev.tulip.transport.ServerOptions options) {
        return dev.tulip.internal.net.Sockets.createUnixServer(this, factory, path, options);
    }

    /**
     * Resolves a host and port to all its socket addresses (asyncio's {@code getaddrinfo}), off the loop thread
     * for names and at once for IP literals ({@code "[::1]"} and scoped literals such as {@code "fe80::1%lo"}
     * included: the scope becomes the interface index). Loop thread only.
     *
     * @param host a name or literal; null or "" for the wildcard address
     * @param port the port
     * @return a future of the addresses in the resolver's order; fails with {@link java.net.UnknownHostException}
     * @throws IllegalArgumentException if the port is out of range
     */
    default Future<java.util.List<java.net.InetSocketAddress>> getAddrInfo(String host, int port) {
        return dev.tulip.internal.net.Resolver.resolve((dev.tulip.internal.loop.TulipLoop) this, host, port);
    }

    /**
     * Reads at most {@code maxBytes} from a non-blocking socket (asyncio's {@code sock_recv}), waiting until some
     * bytes or EOF arrive. Awaiting it is a cancellation point. Loop thread only.
     *
     * @param channel  a connected non-blocking channel
     * @param maxBytes at least 1
     * @return a future of a new buffer holding the bytes (position 0 to limit); empty at EOF
     * @throws IllegalArgumentException if the channel is blocking or maxBytes &lt; 1
     */
    default Future<java.nio.ByteBuffer> sockRecv(java.nio.channels.SocketChannel channel, int maxBytes) {
        return dev.tulip.internal.net.SockOps.recv(this, channel, maxBytes);
    }

    /**
     * Reads into {@code buffer}'s remaining space (asyncio's {@code sock_recv_into}), waiting until some bytes or EOF
     * arrive. Awaiting it is a cancellation point. Loop thread only.
     *
     * @param channel a connected non-blocking channel
     * @param buffer  where to read; its position advances
     * @return a future of the byte count, -1 at EOF (0 only if the buffer had no space)
     * @throws IllegalArgumentException if the channel is blocking or the buffer read-only
     */
    default Future<Integer> sockRecvInto(java.nio.channels.SocketChannel channel, java.nio.ByteBuffer buffer) {
        return dev.tulip.internal.net.SockOps.recvInto(this, channel, buffer);
    }

    /**
     * Sends all of {@code data}'s remaining bytes (asyncio's {@code sock_sendall}), waiting for the socket to be
     * writable as often as needed. The buffer must not be touched until the future is done. Awaiting it is a
     * cancellation point; on cancellation some bytes may have been sent. Loop thread only.
     *
     * @param channel a connected non-blocking channel
     * @param data    the bytes; its position advances
     * @return a future done when everything was written; fails with the {@link java.io.IOException}
     * @throws IllegalArgumentException if the channel is blocking
     */
    default Future<Void> sockSendAll(java.nio.channels.SocketChannel channel, java.nio.ByteBuffer data) {
        return dev.tulip.internal.net.SockOps.sendAll(this, channel, data);
    }

    /**
     * Connects a non-blocking socket (asyncio's {@code sock_connect}); an unresolved address is resolved off the
     * loop thread first. Awaiting it is a cancellation point. Loop thread only.
     *
     * @param channel a non-blocking, unconnected channel
     * @param address where to connect
     * @return a future done when connected; fails with {@link java.net.ConnectException} and the like
     * @throws IllegalArgumentException if the channel is blocking
     */
    default Future<Void> sockConnect(java.nio.channels.SocketChannel channel, java.net.SocketAddress address) {
        return dev.tulip.internal.net.SockOps.connect(this, channel, address);
    }

    /**
     * Accepts one connection (asyncio's {@code sock_accept}); the accepted channel is non-blocking. Awaiting it is a
     * cancellation point. Loop thread only.
     *
     * @param channel a bound, non-blocking server channel
     * @return a future of the accepted channel
     * @throws IllegalArgumentException if the channel is blocking
     */
    default Future<java.nio.channels.SocketChannel> sockAccept(java.nio.channels.ServerSocketChannel channel) {
        return dev.tulip.internal.net.SockOps.accept(this, channel);
    }

    // endregion transports

    // ---------------------------------------------------------------------------------------------------------
    // region datagrams (issue 5)
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Creates a datagram (UDP) endpoint: opens a socket, sets its options, binds it (port 0 lets the kernel pick a
     * free port, readable at once from {@code transport.info().localAddress()}), connects it if the options name a
     * remote address, and makes the protocol with {@code factory}. {@code connectionMade} runs in a later pass, before
     * any datagram is delivered; the returned future completes after it with the transport and the protocol.
     *
     * <p>Every endpoint is a server: without a remote address it receives from and sends to anyone. Host names in
     * the options are resolved off the loop. The endpoint belongs to the scope current now: cancelling that scope
     * aborts it ({@code connectionLost} gets a {@link java.util.concurrent.CancellationException}).
     *
     * <p>Loop thread only.
     *
     * @param factory makes the endpoint's protocol (called once, on the loop thread)
     * @param options where to bind and socket options ({@link dev.tulip.transport.DatagramOptions#defaults()} for
     *                the wildcard address and a free port)
     * @param <P>     the protocol type
     * @return a future of the endpoint; it fails with the {@link java.io.IOException} of the socket calls (such as a
     *         {@link java.net.BindException} for a port in use), an {@link java.net.UnknownHostException} for a name
     *         that does not resolve, or an {@link UnsupportedOperationException} for an option the platform lacks; it
     *         is cancelled if the scope is cancelled before the endpoint is ready
     * @throws NullPointerException  if factory or options is null
     * @throws IllegalStateException if the loop is closed or the current scope is cancelled
     */
    default <P extends dev.tulip.transport.DatagramProtocol>
    Future<dev.tulip.transport.DatagramEndpoint<P>> createDatagramEndpoint(
            java.util.function.Supplier<? extends P> factory, dev.tulip.transport.DatagramOptions options) {
        return dev.tulip.internal.net.DatagramEndpoints.create(this, factory, options);
    }

    /**
     * Creates a datagram endpoint over a channel the caller opened, bound and configured (asyncio's {@code sock=}).
     * The endpoint owns the channel from now on: it switches it to non-blocking mode and closes it when the endpoint
     * closes (or if this fails). A connected channel makes a connected endpoint. Otherwise as
     * {@link #createDatagramEndpoint(java.util.function.Supplier, dev.tulip.transport.DatagramOptions)}; datagrams up
     * to 65,535 bytes are delivered.
     *
     * <p>Loop thread only.
     *
     * @param factory makes the endpoint's protocol
     * @param channel an open, bound datagram channel
     * @param <P>     the protocol type
     * @return a future of the endpoint, done after {@code connectionMade}
     * @throws NullPointerException     if factory or channel is null
     * @throws IllegalArgumentException if the channel is not bound (the caller keeps it)
     * @throws IllegalStateException    if the channel or the loop is closed, or the current scope is cancelled
     */
    default <P extends dev.tulip.transport.DatagramProtocol>
    Future<dev.tulip.transport.DatagramEndpoint<P>> createDatagramEndpoint(
            java.util.function.Supplier<? extends P> factory, java.nio.channels.DatagramChannel channel) {
        return dev.tulip.internal.net.DatagramEndpoints.adopt(this, factory, channel);
    }

    // endregion datagrams

    // ---------------------------------------------------------------------------------------------------------
    // region tls (issue 7)
    // ---------------------------------------------------------------------------------------------------------

    /**
     * Opens a TLS connection over TCP: connects as {@code createConnection} does, then runs the TLS handshake; the
     * protocol's {@code connectionMade} comes after the handshake with a TLS transport (plaintext in and out,
     * {@code info()} carrying the {@code SSLSession} and the ALPN result, {@code canWriteEof()} false). The server
     * host name for SNI and verification is {@code tls.serverHostname()} if set, else {@code host}. Loop thread
     * only.
     *
     * @param factory makes the connection's protocol
     * @param host    the host name or IP literal to connect to
     * @param port    the port
     * @param options connect options (timeout, Happy Eyeballs, TCP_NODELAY)
     * @param tls     client TLS options ({@link dev.tulip.transport.TlsOptions#client()})
     * @param <P>     the protocol type
     * @return a future of the TLS transport and the protocol, done after {@code connectionMade} ran; it fails as
     *         {@code createConnection} does, or with a {@link dev.tulip.transport.TlsException} saying why the
     *         handshake failed (untrusted certificate, host name mismatch, not TLS, timeout, ...)
     * @throws IllegalArgumentException if {@code tls} is in server mode or the port is out of range
     */
    default <P extends dev.tulip.transport.Protocol> Future<dev.tulip.transport.Connection<P>> createConnection(
            java.util.function.Supplier<P> factory, String host, int port, dev.tulip.transport.ConnectOptions options,
            dev.tulip.transport.TlsOptions tls) {
        return dev.tulip.internal.tls.TlsSupport.createConnection(this, factory, host, port, options, tls);
    }

    /**
     * Starts a TLS server over TCP: as {@code createServer}, and each accepted connection runs a server handshake
     * before its protocol's {@code connectionMade} (a connection whose handshake fails never reaches the protocol;
     * the failure is logged at DEBUG on logger "dev.tulip.tls"). Loop thread only.
     *
     * @param factory makes one protocol per accepted connection
     * @param host    the address to bind; null or "" for all interfaces
     * @param port    the port; 0 picks a free one
     * @param options backlog, reuse flags, whether to start serving at once
     * @param tls     server TLS options ({@link dev.tulip.transport.TlsOptions#server})
     * @return a future of the server
     * @throws IllegalArgumentException if {@code tls} is in client mode or the port is out of range
     */
    default Future<dev.tulip.transport.Server> createServer(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory, String host, int port,
            dev.tulip.transport.ServerOptions options, dev.tulip.transport.TlsOptions tls) {
        return dev.tulip.internal.tls.TlsSupport.createServer(this, factory, host, port, options, tls);
    }

    /**
     * Upgrades a live connection to TLS (asyncio's {@code start_tls}, STARTTLS): from now on the transport's bytes
     * go through a TLS layer, and {@code protocol} gets {@code connectionMade} with the new TLS transport after the
     * handshake (the transport's previous protocol gets no more callbacks). Works over any transport this loop
     * made, a TLS one included (TLS over TLS). Bytes the peer sent before the upgrade must have been consumed
     * already. A client without {@code tls.serverHostname()} cannot verify host names and is refused unless the
     * options say {@code insecureNoHostnameVerification()}. Loop thread only.
     *
     * @param transport the connection to upgrade
     * @param protocol  the protocol for the TLS connection
     * @param tls       client or server TLS options
     * @return a future of the TLS transport, done after {@code protocol.connectionMade} ran; failed with a
     *         {@link dev.tulip.transport.TlsException} if the handshake fails
     * @throws IllegalArgumentException if the transport was not made by this library, or a verifying client has no
     *                                  server host name
     * @throws IllegalStateException    if the transport is closing
     */
    default Future<dev.tulip.transport.Transport> startTls(dev.tulip.transport.Transport transport,
            dev.tulip.transport.Protocol protocol, dev.tulip.transport.TlsOptions tls) {
        return dev.tulip.internal.tls.TlsSupport.startTls(this, transport, protocol, tls);
    }


    // endregion tls

    // ---------------------------------------------------------------------------------------------------------
    // region processes and signals (issue 8)
    // ---------------------------------------------------------------------------------------------------------


    /**
     * Starts a child process running {@code argv} (no shell) with its streams set up by {@code options}, and
     * connects a protocol from {@code factory} to it. {@code connectionMade} is scheduled before any pipe data.
     *
     * @param factory makes the protocol
     * @param argv    the program and its arguments
     * @param options streams, environment, working directory
     * @return a future of the transport; it fails (IOException) if the program cannot be started
     * @throws IllegalArgumentException if argv is empty or stdin is DISCARD
     */
    default Future<dev.tulip.transport.SubprocessTransport> subprocessExec(
            java.util.function.Supplier<? extends dev.tulip.transport.SubprocessProtocol> factory,
            java.util.List<String> argv, dev.tulip.transport.ProcessOptions options) {
        return dev.tulip.internal.proc.ProcessTransportImpl.start((TulipLoop) this, factory, argv, options);
    }

    /**
     * Starts {@code command} through {@code /bin/sh -c} (beware of quoting: prefer {@link #subprocessExec}).
     *
     * @param factory makes the protocol
     * @param command the shell command line
     * @param options streams, environment, working directory
     * @return a future of the transport
     */
    default Future<dev.tulip.transport.SubprocessTransport> subprocessShell(
            java.util.function.Supplier<? extends dev.tulip.transport.SubprocessProtocol> factory,
            String command, dev.tulip.transport.ProcessOptions options) {
        java.util.Objects.requireNonNull(command, "command");
        return subprocessExec(factory, java.util.List.of("/bin/sh", "-c", command), options);
    }

    /**
     * Connects a protocol to the read end of a pipe or any blocking stream (this JVM's {@code System.in}, a
     * {@code Pipe.SourceChannel} through {@code Channels.newInputStream}, a file): a virtual thread reads it and
     * hands the bytes to the loop, one chunk at a time (bounded memory; {@code pauseReading} stops reading).
     *
     * @param factory makes the protocol; its {@code connectionMade} gets a transport that cannot be written
     * @param in      the stream
     * @return a future of the read transport
     */
    default Future<dev.tulip.transport.ReadTransport> connectReadPipe(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory, java.io.InputStream in) {
        return dev.tulip.internal.proc.PipeConnections.connectRead((TulipLoop) this, factory, in);
    }

    /**
     * Connects a protocol to the write end of a pipe or any blocking stream ({@code System.out}, a
     * {@code Pipe.SinkChannel} through {@code Channels.newOutputStream}): writes are queued and a virtual thread
     * drains them, with pauseWriting/resumeWriting at the water marks.
     *
     * @param factory makes the protocol; its {@code connectionMade} gets a transport that cannot be read
     * @param out     the stream
     * @return a future of the write transport
     */
    default Future<dev.tulip.transport.WriteTransport> connectWritePipe(
            java.util.function.Supplier<? extends dev.tulip.transport.Protocol> factory, java.io.OutputStream out) {
        return dev.tulip.internal.proc.PipeConnections.connectWrite((TulipLoop) this, factory, out);
    }

    /**
     * Runs {@code callback} on this loop's thread whenever the process receives {@code signal} ("INT", "TERM", "HUP",
     * "USR2", ... with or without "SIG"). Replaces an earlier Tulip handler for that signal (on any loop). The JVM's
     * own handler only schedules the callback through {@link #callSoonThreadsafe}. Closing the loop removes its
     * handlers.
     *
     * @param signal   the signal name
     * @param callback what to run on the loop
     * @throws IllegalArgumentException if the name is unknown or the JVM reserves the signal (QUIT, USR1 in some
     *                                  configurations, KILL, STOP, SEGV...), or if it is INT, TERM or HUP and the
     *                                  process ignores it (started with nohup, or in the background by a shell
     *                                  without job control: the JVM then installs no handler), saying so
     */
    default void addSignalHandler(String signal, Runnable callback) {
        dev.tulip.internal.proc.Signals.add((TulipLoop) this, signal, callback);
    }

    /**
     * Removes this loop's handler for {@code signal} and restores the handler that was in place before (the JVM
     * default).
     *
     * @param signal the signal name
     * @return true if this loop had a handler for it
     */
    default boolean removeSignalHandler(String signal) {
        return dev.tulip.internal.proc.Signals.remove((TulipLoop) this, signal);
    }

    // endregion processes and signals

    /**
     * Options for a new loop. Not thread-safe; build once.
     */
    final class Builder {
        private SchedulingPolicy policy;
        private boolean drainReadyQueue;
        private boolean virtualTime;
        private boolean debug = Boolean.getBoolean("tulip.debug");
        private boolean collectStatistics;
        private Duration slowCallbackThreshold = Duration.ofMillis(100);
        private String backend = System.getProperty("tulip.backend", "auto");

        Builder() {
        }

        /**
         * The ready-queue policy; null or {@link SchedulingPolicy#fifo()} for FIFO.
         *
         * @param policy the policy, used by this loop only
         * @return this builder
         */
        public Builder schedulingPolicy(SchedulingPolicy policy) {
            this.policy = policy;
            return this;
        }

        /**
         * Tulip style (true: each pass runs until the ready queue is empty) or Tornado style (false, the default:
         * each pass runs only what was ready when it began).
         *
         * @param drain whether to drain the queue each pass
         * @return this builder
         */
        public Builder drainReadyQueue(boolean drain) {
            this.drainReadyQueue = drain;
            return this;
        }

        /**
         * A virtual-time loop, for tests: its clock starts at 0 and, when nothing is ready, jumps straight to the
         * next timer instead of sleeping. I/O still works (polled without blocking while timers are pending).
         *
         * @param virtualTime whether time is virtual
         * @return this builder
         */
        public Builder virtualTime(boolean virtualTime) {
            this.virtualTime = virtualTime;
            return this;
        }

        /**
         * Debug mode from the start (see {@link EventLoop#setDebug}).
         *
         * @param debug on or off
         * @return this builder
         */
        public Builder debug(boolean debug) {
            this.debug = debug;
            return this;
        }

        /**
         * Whether to measure ready-queue wait times per scope (always on with a lottery policy).
         *
         * @param collect on or off
         * @return this builder
         */
        public Builder collectStatistics(boolean collect) {
            this.collectStatistics = collect;
            return this;
        }

        /**
         * The slow-callback threshold used in debug mode.
         *
         * @param threshold positive duration
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder slowCallbackThreshold(Duration threshold) {
            if (threshold.isNegative() || threshold.isZero()) {
                throw new IllegalArgumentException("slow callback threshold must be positive: " + threshold);
            }
            this.slowCallbackThreshold = threshold;
            return this;
        }

        /**
         * The I/O backend: "auto" (default), "nio" (the {@code java.nio.channels.Selector} backend) or "epoll"
         * (Linux x86-64/aarch64, through the FFM API; needs {@code --enable-native-access=dev.tulip} and
         * {@code --add-exports java.base/sun.nio.ch=dev.tulip}, or {@code ALL-UNNAMED} for both on the class path).
         * "auto" picks epoll when the JVM allows it, else nio, and logs the choice and the reason once on the
         * "dev.tulip" logger. Also settable with {@code -Dtulip.backend=...}. {@link #build()} throws
         * {@link IllegalStateException} (with the reason) if "epoll" is asked for where it cannot run, and
         * {@link IllegalArgumentException} for an unknown name.
         *
         * @param name the backend name
         * @return this builder
         */
        public Builder backend(String name) {
            this.backend = java.util.Objects.requireNonNull(name, "backend");
            return this;
        }

        /**
         * Builds the loop.
         *
         * @return a new loop, not running
         * @throws java.io.UncheckedIOException if the I/O backend cannot be opened
         */
        public EventLoop build() {
            return new TulipLoop(policy, drainReadyQueue, virtualTime, debug, collectStatistics,
                    slowCallbackThreshold.toNanos(), backend);
        }
    }
}
