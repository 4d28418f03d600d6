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


    // endregion tasks

    // ---------------------------------------------------------------------------------------------------------
    // region transports (issue 4): TCP and UNIX connections, servers, sock* operations
    // ---------------------------------------------------------------------------------------------------------


    // endregion transports

    // ---------------------------------------------------------------------------------------------------------
    // region datagrams (issue 5)
    // ---------------------------------------------------------------------------------------------------------


    // endregion datagrams

    // ---------------------------------------------------------------------------------------------------------
    // region tls (issue 7)
    // ---------------------------------------------------------------------------------------------------------


    // endregion tls

    // ---------------------------------------------------------------------------------------------------------
    // region processes and signals (issue 8)
    // ---------------------------------------------------------------------------------------------------------


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
         * The I/O backend: "auto" (default), "nio" (the {@code java.nio.channels.Selector} backend) or another
         * backend's name. Also settable with {@code -Dtulip.backend=...}.
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
