package dev.tulip;

import dev.tulip.internal.loop.LotteryPolicy;

/**
 * The order in which a loop runs its ready callbacks: the ready queue, made pluggable.
 *
 * <p>The default is FIFO: callbacks run in the order they became ready, at no extra cost (the loop uses its own
 * array queue and never calls a policy object). {@link #lottery(long)} shares the loop between {@link Scope scopes}
 * by their tickets (lottery scheduling, as suggested at the PyCon 2013 sprint for several frameworks sharing one
 * loop): each draw picks a scope with a ready callback with probability proportional to its tickets, and runs that
 * scope's oldest ready callback. Within a scope order stays FIFO.
 *
 * <p>A custom policy implements {@link #offer}, {@link #poll} and {@link #size}. It is called on the loop thread only,
 * and must return every offered handle exactly once.
 */
public interface SchedulingPolicy {

    /**
     * Adds a ready handle.
     *
     * @param handle the handle; {@link Handle#scope()} tells whose it is
     */
    void offer(Handle handle);

    /**
     * Removes and returns the next handle to run.
     *
     * @return the next handle, or null when empty
     */
    Handle poll();

    /**
     * The number of ready handles held.
     *
     * @return the count
     */
    int size();

    /**
     * The FIFO policy (the default).
     *
     * @return null, which the loop builder reads as "its own FIFO queue"
     */
    static SchedulingPolicy fifo() {
        return null;
    }

    /**
     * A lottery policy with a fixed seed (so runs are reproducible).
     *
     * @param seed the random seed
     * @return a new lottery policy, for one loop
     */
    static SchedulingPolicy lottery(long seed) {
        return new LotteryPolicy(seed);
    }
}
