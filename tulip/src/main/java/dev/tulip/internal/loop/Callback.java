package dev.tulip.internal.loop;

import dev.tulip.Handle;
import dev.tulip.Scope;

/**
 * Anything the loop can hold in its ready queue and run: a scheduled callback, a timer, a future's done callback,
 * an I/O readiness event, a task step. Subclasses implement {@link #fire()}.
 *
 * <p>Loop thread only. Fields are guarded by the loop thread.
 */
public abstract class Callback implements Handle {
    /** The scope that owns this callback; it runs with this scope current. */
    ScopeImpl scope;
    /** Set by cancel(); a cancelled callback is skipped when its turn comes. */
    boolean cancelled;
    /** Loop time when it entered the ready queue; stamped only when the loop collects statistics. */
    long readyAt;

    protected Callback(ScopeImpl scope) {
        this.scope = scope;
    }

    /** Runs the callback. Exceptions are the loop's to report. */
    protected abstract void fire() throws Throwable;

    /** What the callback is, for error messages and slow-callback logs. */
    protected abstract Object describe();

    @Override
    public void cancel() {
        cancelled = true;
    }

    @Override
    public boolean isCancelled() {
        return cancelled || scope.isCancelled();
    }

    @Override
    public Scope scope() {
        return scope;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + describe() + (cancelled ? ", cancelled" : "") + "]";
    }
}
