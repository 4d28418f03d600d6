package dev.tulip.internal.loop;

/**
 * A {@code Runnable} scheduled with callSoon or callSoonThreadsafe; {@link TimerCallback} adds a due time for
 * callLater and callAt. Kept small (32 bytes): it is allocated once per callSoon, the loop's hottest path.
 *
 * <p>Loop thread only.
 */
class CallbackHandle extends Callback {
    private Runnable callback;

    CallbackHandle(ScopeImpl scope, Runnable callback) {
        super(scope);
        this.callback = callback;
    }

    @Override
    protected final void fire() {
        Runnable r = callback;
        if (r == null) {
            return; // cancelled from another thread (racy, but then it simply does not run)
        }
        callback = null; // a handle runs once; drop the reference for the GC
        r.run();
    }

    @Override
    protected final Object describe() {
        Runnable r = callback;
        return r == null ? "done" : r;
    }

    @Override
    public void cancel() {
        if (cancelled) {
            return;
        }
        scope.loop.checkThread();
        cancelled = true;
        callback = null;
    }
}
