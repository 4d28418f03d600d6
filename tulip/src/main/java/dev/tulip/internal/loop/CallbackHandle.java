package dev.tulip.internal.loop;

import dev.tulip.TimerHandle;

/**
 * A {@code Runnable} scheduled with callSoon, callLater or callAt. Also a timer-heap entry ({@link #when}, {@link #seq}).
 *
 * <p>Loop thread only.
 */
final class CallbackHandle extends Callback implements TimerHandle {
    private final TulipLoop loop;
    private Runnable callback;
    /** Due time in loop nanos; Long.MIN_VALUE for a non-timer handle. */
    final long when;
    /** Tie-breaker: timers due at the same time run in scheduling order. */
    final long seq;
    /** True while this timer sits in the heap. */
    boolean inHeap;

    CallbackHandle(TulipLoop loop, ScopeImpl scope, Runnable callback, long when, long seq) {
        super(scope);
        this.loop = loop;
        this.callback = callback;
        this.when = when;
        this.seq = seq;
    }

    @Override
    protected void fire() {
        Runnable r = callback;
        if (r == null) {
            return; // cancelled from another thread (racy, but then it simply does not run)
        }
        callback = null; // a handle runs once; drop the reference for the GC
        r.run();
    }

    @Override
    protected Object describe() {
        return callback == null ? "done" : callback;
    }

    @Override
    public void cancel() {
        if (cancelled) {
            return;
        }
        loop.checkThread();
        cancelled = true;
        callback = null;
        if (inHeap) {
            loop.timerCancelled();
        }
    }

    @Override
    public long when() {
        return when;
    }
}
