package dev.tulip.internal.loop;

import dev.tulip.TimerHandle;

/**
 * A callback scheduled with callLater or callAt: a timer-heap entry ordered by ({@link #when}, {@link #seq}).
 *
 * <p>Loop thread only.
 */
final class TimerCallback extends CallbackHandle implements TimerHandle {
    /** Due time in loop nanos. */
    final long when;
    /** Tie-breaker: timers due at the same time run in scheduling order. */
    final long seq;
    /** True while this timer sits in the heap. */
    boolean inHeap;

    TimerCallback(ScopeImpl scope, Runnable callback, long when, long seq) {
        super(scope, callback);
        this.when = when;
        this.seq = seq;
    }

    @Override
    public void cancel() {
        if (cancelled) {
            return;
        }
        super.cancel();
        if (inHeap) {
            scope.loop.timerCancelled();
        }
    }

    @Override
    public long when() {
        return when;
    }
}
