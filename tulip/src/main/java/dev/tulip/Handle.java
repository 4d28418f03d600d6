package dev.tulip;

/**
 * A callback scheduled on an {@link EventLoop}: what {@link EventLoop#callSoon}, {@link EventLoop#callLater},
 * {@link EventLoop#callAt}, {@link EventLoop#addReader} and friends return.
 *
 * <p>A handle belongs to the {@link Scope} that was current when it was created; cancelling that scope cancels
 * the handle. A cancelled handle never runs. Cancelling a handle that already ran, or cancelling twice, does nothing.
 *
 * <p>Threading: {@link #cancel()} must be called on the loop's thread; {@link #isCancelled()} may be called from
 * any thread (it may be stale there).
 */
public interface Handle {

    /** Cancels the callback: if it has not run yet, it never will. Idempotent. Loop thread only. */
    void cancel();

    /**
     * Whether this handle was cancelled, directly or through its scope.
     *
     * @return true once {@link #cancel()} was called or the owning scope was cancelled
     */
    boolean isCancelled();

    /**
     * The scope this handle belongs to: the scope that was current when it was created.
     *
     * @return the owning scope, never null
     */
    Scope scope();
}
