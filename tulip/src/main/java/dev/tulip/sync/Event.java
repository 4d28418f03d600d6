package dev.tulip.sync;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.sync.LoopBinding;
import dev.tulip.internal.sync.WaitQueue;
import java.util.concurrent.CancellationException;

/**
 * A flag that tasks can wait for: asyncio's {@code Event}.
 *
 * <p>{@link #set()} sets the flag and wakes every waiting task (in the order they started waiting); while the flag is
 * set, {@link #await()} returns at once; {@link #clear()} resets it. Tasks already woken by a {@code set()} return
 * from {@code await()} even if the flag is cleared again before they run.
 *
 * <p>Threading: loop thread only; binds to the loop that first uses it (see {@link Lock}). To set an event from
 * another thread, schedule {@code set()} with {@link dev.tulip.EventLoop#callSoonThreadsafe}.
 */
public final class Event {
    private final LoopBinding binding = new LoopBinding("Event");
    private final WaitQueue<Void> waiters = new WaitQueue<>();
    private boolean value;

    /**
     * Statistics of an event at one moment.
     *
     * @param set     whether the flag is set
     * @param waiting how many tasks wait in {@link #await()}
     */
    public record Statistics(boolean set, int waiting) {
    }

    /** Creates an event whose flag is clear. Any thread. */
    public Event() {
    }

    /**
     * Whether the flag is set. Never suspends.
     *
     * @return true if set
     */
    public boolean isSet() {
        binding.check();
        return value;
    }

    /** Sets the flag and wakes every waiting task. Does nothing more if already set. Never suspends. */
    public void set() {
        binding.check();
        if (!value) {
            value = true;
            waiters.grantAll(null);
        }
    }

    /** Clears the flag: later {@link #await()} calls wait for the next {@link #set()}. Never suspends. */
    public void clear() {
        binding.check();
        value = false;
    }

    /**
     * Waits until the flag is set; returns at once if it is set already.
     *
     * <p>A cancellation point when it has to wait: a cancelled waiter leaves the queue.
     *
     * @throws CancellationException if the task is cancelled while waiting
     * @throws IllegalStateException if it must wait outside a task, off the loop thread, or on another loop
     */
    public void await() {
        binding.check();
        if (value) {
            return;
        }
        TulipLoop loop = binding.forWaiting("await");
        waiters.await(waiters.add(loop, null), null);
    }

    /**
     * A snapshot of the event's state.
     *
     * @return the statistics
     */
    public Statistics statistics() {
        binding.check();
        return new Statistics(value, waiters.size());
    }

    @Override
    public String toString() {
        return "Event[" + (value ? "set" : "unset") + (waiters.isEmpty() ? "" : ", waiters=" + waiters.size()) + "]";
    }
}
