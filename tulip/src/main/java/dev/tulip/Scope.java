package dev.tulip;

import dev.tulip.internal.loop.TulipLoop;
import java.util.concurrent.Callable;

/**
 * A context that owns work on an {@link EventLoop}: every handle, timer, reader/writer registration, task and
 * transport created while a scope is current belongs to it, and {@link #cancel()} cancels all of them at once (the
 * design notes' "kill all callbacks of a context"). Scopes nest: cancelling a scope cancels its descendants.
 *
 * <p>Each loop has a root scope, current whenever nothing else is. A callback runs with its own scope current, so
 * work scheduled from a callback joins the scope of the code that scheduled it. Each task runs in its own child scope.
 *
 * <pre>{@code
 * Scope downloads = Scope.current().newChild("downloads");
 * downloads.run(() -> { loop.callLater(Duration.ofSeconds(5), this::retry); loop.addReader(ch, this::onData); });
 * downloads.cancel();   // the timer and the reader registration are gone
 * }</pre>
 *
 * <p>A cancelled scope refuses new work: scheduling a callback while it is current throws
 * {@link IllegalStateException}. Cancelling is idempotent.
 *
 * <p>Scheduling: each scope holds lottery tickets (default {@value #DEFAULT_TICKETS}) that a
 * {@link SchedulingPolicy#lottery lottery policy} uses to share the loop between scopes, and statistics of what it ran.
 *
 * <p>Threading: loop thread only, except {@link #isCancelled()}, {@link #name()} and {@link #statistics()}, which any
 * thread may call (the statistics may be stale there).
 */
public interface Scope {

    /** Tickets a new scope holds. */
    int DEFAULT_TICKETS = 100;

    /**
     * The scope current on the running loop of this thread.
     *
     * @return the current scope
     * @throws IllegalStateException if no loop is running on this thread
     */
    static Scope current() {
        return TulipLoop.currentOrThrow().currentScope();
    }

    /**
     * Creates a child of this scope. The child is not entered: use {@link #run}, {@link #call} or {@link #enter()}.
     *
     * @param name a name for statistics and debugging
     * @return the new child scope
     * @throws IllegalStateException if this scope is cancelled
     */
    Scope newChild(String name);

    /**
     * The name given at creation ("root" for a loop's root scope).
     *
     * @return the name
     */
    String name();

    /**
     * The parent scope, or null for a root scope.
     *
     * @return the parent
     */
    Scope parent();

    /**
     * The loop this scope schedules on.
     *
     * @return the loop
     */
    EventLoop loop();

    /**
     * Cancels this scope and its descendants: their pending handles, timers and done callbacks never run, their
     * reader/writer registrations are removed at once, and the actions given to {@link #onCancel} run (transports
     * close, tasks are cancelled), with the loop's system scope current. Idempotent.
     *
     * @throws UnsupportedOperationException for a loop's root scope, which only {@link EventLoop#close()} cancels
     */
    void cancel();

    /**
     * Whether this scope or an ancestor was cancelled.
     *
     * @return true once cancelled
     */
    boolean isCancelled();

    /**
     * Runs {@code action} with this scope current, then restores the previous scope.
     *
     * @param action the code to run
     * @throws IllegalStateException if called off the loop thread
     */
    void run(Runnable action);

    /**
     * Calls {@code action} with this scope current, then restores the previous scope.
     *
     * @param action the code to call
     * @param <T>    its result type
     * @return what {@code action} returned
     * @throws Exception what {@code action} threw
     */
    <T> T call(Callable<T> action) throws Exception;

    /**
     * Makes this scope current until the returned token is closed (use try-with-resources). Closing does not cancel
     * anything: work created inside keeps running later, still owned by this scope.
     *
     * @return the token that restores the previous scope
     */
    Entered enter();

    /**
     * Registers an action to run when this scope is cancelled (at once if it already is). Transports and tasks use
     * this to close or cancel themselves with their scope.
     *
     * @param action what to do on cancellation; exceptions go to the loop's exception handler
     * @return a handle whose {@code cancel()} unregisters the action
     */
    Handle onCancel(Runnable action);

    /**
     * Sets this scope's lottery tickets (how much of the loop it gets under a lottery policy, relative to others).
     *
     * @param tickets at least 1
     * @throws IllegalArgumentException if tickets is less than 1
     */
    void setTickets(int tickets);

    /**
     * This scope's lottery tickets.
     *
     * @return the tickets
     */
    int tickets();

    /**
     * What this scope ran and how long its callbacks waited.
     *
     * @return a snapshot of the statistics
     */
    ScopeStatistics statistics();

    /** The token returned by {@link #enter()}; closing it restores the previous scope. */
    interface Entered extends AutoCloseable {
        /** Restores the scope that was current before {@link Scope#enter()}. */
        @Override
        void close();
    }
}
