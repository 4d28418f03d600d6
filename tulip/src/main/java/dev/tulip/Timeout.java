package dev.tulip;

import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.task.TaskCore;

/**
 * A deadline for the code inside a try-with-resources block of a task: asyncio's {@code asyncio.timeout()}. Made by
 * {@link Tulip#timeout} or {@link Tulip#timeoutAt}.
 *
 * <pre>{@code
 * try (Timeout t = Tulip.timeout(Duration.ofSeconds(5))) {
 *     reply = request.await();          // throws TimeoutException if 5 s pass first
 *     t.reschedule(loop.time() + ...);  // move the deadline
 * }
 * }</pre>
 *
 * <p>When the deadline passes, the task is cancelled; the await that was interrupted throws a
 * {@link TimeoutException} (a {@link java.util.concurrent.CancellationException}, so cleanup written for
 * cancellation runs), which leaves the block as the failure. Closing the block takes the timeout's cancellation back
 * ({@link Task#uncancel()}), so a timeout never leaves a pending cancellation behind; a cancellation from elsewhere
 * still propagates as a plain {@code CancellationException}. If the deadline passes after the last await of the block,
 * nothing is thrown. Timeouts nest.
 *
 * <p>Threading: the task that opened it only.
 */
public final class Timeout implements AutoCloseable {
    private static final int ACTIVE = 0;
    private static final int EXPIRED = 1;
    private static final int CLOSED = 2;

    private final EventLoop loop;
    private final Task<?> task;
    private final TaskCore<?> core;
    private long when;
    private Handle timer;
    private int state = ACTIVE;

    Timeout(long whenNanos) {
        this.core = Task.currentCore();
        if (core == null) {
            throw new IllegalStateException("a timeout must be opened inside a task");
        }
        this.task = core.task();
        this.loop = task.loop();
        reschedule(whenNanos);
    }

    /**
     * The deadline in loop time (nanoseconds of {@link EventLoop#time()}), or {@link Long#MAX_VALUE} for none.
     *
     * @return the deadline
     */
    public long when() {
        return when;
    }

    /**
     * Moves the deadline; {@link Long#MAX_VALUE} removes it. A deadline already passed expires at the next pass.
     *
     * @param whenNanos the new deadline in loop time
     * @throws IllegalStateException if the timeout already expired or the block was closed
     */
    public void reschedule(long whenNanos) {
        if (state == CLOSED) {
            throw new IllegalStateException("the timeout block is closed");
        }
        if (state == EXPIRED) {
            throw new IllegalStateException("the timeout already expired");
        }
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        when = whenNanos;
        if (whenNanos == Long.MAX_VALUE) {
            return;
        }
        // Plumbing of this task, not work of its scope: in the system scope, so it works during cleanup too.
        TulipLoop l = (TulipLoop) loop;
        ScopeImpl saved = l.swapScope(l.systemScope());
        try {
            timer = whenNanos <= loop.time() ? loop.callSoon(this::expire) : loop.callAt(whenNanos, this::expire);
        } finally {
            l.swapScope(saved);
        }
    }

    /**
     * Whether the deadline passed (and the task was cancelled for it).
     *
     * @return true once expired
     */
    public boolean expired() {
        return state == EXPIRED || (state == CLOSED && expiredBeforeClose);
    }

    private boolean expiredBeforeClose;

    private void expire() {
        if (state != ACTIVE) {
            return;
        }
        state = EXPIRED;
        timer = null;
        core.cancelForTimeout("timed out");
    }

    /**
     * Ends the block: cancels the deadline, and if it expired takes its cancellation back. Does not throw: the
     * {@link TimeoutException} was thrown at the await that the deadline interrupted.
     *
     * @throws IllegalStateException if called from another task than the one that opened it
     */
    @Override
    public void close() {
        if (state == CLOSED) {
            return;
        }
        if (Task.currentCore() != core) {
            throw new IllegalStateException("a timeout must be closed by the task that opened it");
        }
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        if (state == EXPIRED) {
            expiredBeforeClose = true;
            core.uncancelTimeout();
        }
        state = CLOSED;
    }

    @Override
    public String toString() {
        return "Timeout[" + (state == ACTIVE ? "active" : state == EXPIRED ? "expired" : "closed")
                + (when == Long.MAX_VALUE ? ", no deadline" : ", when=" + when) + "]";
    }
}
