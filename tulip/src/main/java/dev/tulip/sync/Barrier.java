package dev.tulip.sync;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.sync.LoopBinding;
import dev.tulip.internal.sync.WaitQueue;
import java.util.concurrent.CancellationException;

/**
 * A meeting point for a fixed number of tasks: asyncio's {@code Barrier} (3.11), reusable for any number of
 * rounds ("generations").
 *
 * <p>Each task calls {@link #await()}; the first {@code parties - 1} wait, and the arrival of the last one releases
 * them all at once and starts the next generation. Each {@code await()} of a generation returns a distinct index
 * from {@code 0} to {@code parties - 1} in arrival order (the last arrival gets {@code parties - 1}).
 *
 * <p>Differences from asyncio, on purpose:
 * <ul>
 *   <li>A task cancelled while waiting simply leaves: the barrier is not broken, and it needs one more arrival.
 *       Indices are assigned when the barrier trips, from the tasks actually released, so they stay distinct (asyncio
 *       can hand out the same index twice after a cancellation).</li>
 *   <li>A new generation starts at once when the barrier trips; arrivals for it need not wait for the released
 *       tasks to drain out.</li>
 *   <li>{@link #reset()} and {@link #abort()} are plain methods that never suspend.</li>
 * </ul>
 *
 * <p>Threading: loop thread only; binds to the loop that first uses it (see {@link Lock}).
 */
public final class Barrier {
    private final LoopBinding binding = new LoopBinding("Barrier");
    /** Tasks waiting in the current generation, in arrival order; granted their index when it trips. */
    private final WaitQueue<Integer> waiters = new WaitQueue<>();
    private final int parties;
    private boolean broken;
    private long generation;

    /**
     * Statistics of a barrier at one moment.
     *
     * @param parties    tasks needed to trip it
     * @param waiting    tasks waiting in the current generation
     * @param broken     whether it is broken ({@link #abort()})
     * @param generation how many times it has tripped
     */
    public record Statistics(int parties, int waiting, boolean broken, long generation) {
    }

    /**
     * Creates a barrier for {@code parties} tasks. Any thread.
     *
     * @param parties how many tasks must arrive to trip it
     * @throws IllegalArgumentException if parties is less than 1
     */
    public Barrier(int parties) {
        if (parties < 1) {
            throw new IllegalArgumentException("Barrier parties must be at least 1: " + parties);
        }
        this.parties = parties;
    }

    /**
     * Waits until {@code parties} tasks have called this method in the current generation, then returns this
     * task's arrival index. The last arrival releases the others and returns without suspending.
     *
     * <p>A cancellation point when it has to wait: a cancelled task leaves the barrier (it no longer counts as
     * arrived) and the barrier is not broken. A task cancelled after the barrier tripped but before it resumed still
     * counted for that generation: the others are released all the same, and it throws
     * {@link CancellationException}.
     *
     * @return the arrival index, from 0 to {@code parties - 1}
     * @throws BrokenBarrierException if the barrier is broken on arrival, or is aborted or reset while waiting
     * @throws CancellationException  if the task is cancelled while waiting
     * @throws IllegalStateException  if it must wait outside a task, off the loop thread, or on another loop
     */
    public int await() {
        binding.check();
        if (broken) {
            throw new BrokenBarrierException("Barrier is broken (aborted)");
        }
        if (waiters.size() + 1 >= parties) {
            int index = 0;
            while (waiters.grantFirst(index) != null) {
                index++;
            }
            generation++;
            return index;
        }
        TulipLoop loop = binding.forWaiting("await");
        return waiters.await(waiters.add(loop, null), null);
    }

    /**
     * Returns the barrier to its initial, unbroken state: tasks waiting now get {@link BrokenBarrierException}.
     * Never suspends.
     */
    public void reset() {
        binding.check();
        waiters.failAll(() -> new BrokenBarrierException("Barrier was reset while waiting"));
        broken = false;
    }

    /**
     * Breaks the barrier: tasks waiting now, and tasks arriving later until {@link #reset()}, get
     * {@link BrokenBarrierException}. Use it when a party fails and the others must not wait forever. Never
     * suspends.
     */
    public void abort() {
        binding.check();
        broken = true;
        waiters.failAll(() -> new BrokenBarrierException("Barrier was aborted while waiting"));
    }

    /**
     * How many tasks trip the barrier.
     *
     * @return the number of parties
     */
    public int parties() {
        return parties;
    }

    /**
     * How many tasks wait in the current generation. Never suspends.
     *
     * @return the number of waiting tasks
     */
    public int waiting() {
        binding.check();
        return waiters.size();
    }

    /**
     * Whether the barrier is broken. Never suspends.
     *
     * @return true after {@link #abort()} until {@link #reset()}
     */
    public boolean isBroken() {
        binding.check();
        return broken;
    }

    /**
     * A snapshot of the barrier's state.
     *
     * @return the statistics
     */
    public Statistics statistics() {
        binding.check();
        return new Statistics(parties, waiters.size(), broken, generation);
    }

    @Override
    public String toString() {
        return "Barrier[" + (broken ? "broken" : "waiting " + waiters.size() + "/" + parties) + ", generation="
                + generation + "]";
    }
}
