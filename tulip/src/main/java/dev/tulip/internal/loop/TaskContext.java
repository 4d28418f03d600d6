package dev.tulip.internal.loop;

import dev.tulip.Future;

/**
 * The seam between {@link Future#await()} and the coroutine engine: the task body running now on a loop. The engine
 * installs it with {@link TulipLoop#setCurrentTask} while a task step runs.
 *
 * <p>Called from the task body only.
 */
public interface TaskContext {

    /**
     * Suspends the running task until {@code future} is done. Returns normally when it is done (the caller then
     * reads the result); throws {@link java.util.concurrent.CancellationException} if the task was cancelled while
     * waiting.
     *
     * @param future the awaited future
     */
    void suspendUntilDone(Future<?> future);
}
