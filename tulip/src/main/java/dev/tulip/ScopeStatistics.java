package dev.tulip;

/**
 * Scheduling statistics of one {@link Scope}, as counted by its loop.
 *
 * <p>{@code callbacksRun} is always counted. Wait times (from the moment a callback entered the ready queue until it
 * ran) are measured only when the loop collects them: with a lottery policy, or when built with
 * {@link EventLoop.Builder#collectStatistics(boolean)}; otherwise they are zero.
 *
 * @param name           the scope's name
 * @param callbacksRun   callbacks (handles, timers, I/O events, task steps) of this scope that ran
 * @param totalWaitNanos sum of their waits in the ready queue, in loop nanoseconds
 * @param maxWaitNanos   the longest single wait
 * @param tickets        the scope's lottery tickets
 * @param cancelled      whether the scope is cancelled
 */
public record ScopeStatistics(String name, long callbacksRun, long totalWaitNanos, long maxWaitNanos, int tickets,
                              boolean cancelled) {

    /**
     * The mean wait in the ready queue.
     *
     * @return total wait divided by callbacks run, or 0 when none ran
     */
    public double meanWaitNanos() {
        return callbacksRun == 0 ? 0 : (double) totalWaitNanos / callbacksRun;
    }
}
