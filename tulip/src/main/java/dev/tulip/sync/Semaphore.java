package dev.tulip.sync;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.sync.LoopBinding;
import dev.tulip.internal.sync.WaitQueue;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * A counting semaphore for the tasks of one event loop: asyncio's {@code Semaphore}, with strict FIFO fairness.
 *
 * <pre>{@code
 * Semaphore connections = new Semaphore(10);
 * try (var permit = connections.acquired()) {
 *     ... // at most 10 tasks here at once
 * }
 * }</pre>
 *
 * <p>The semaphore holds a number of free permits. {@link #acquire()} takes one, waiting while none is free;
 * {@link #release()} gives one back, handing it directly to the first waiting task if there is one (so waiting
 * tasks get permits in arrival order and a newcomer cannot take a permit ahead of them, the fairness asyncio only
 * reached in 3.11.1). Permits are not owned: any code may release. A task cancelled while waiting leaves the queue
 * and takes no permit; if a permit had already been handed to it, the permit passes to the next waiter.
 *
 * <p>{@link BoundedSemaphore} additionally refuses to go above its initial number of permits.
 *
 * <p>Threading: loop thread only; binds to the loop that first uses it (see {@link Lock}).
 */
public sealed class Semaphore permits BoundedSemaphore {
    private final LoopBinding binding;
    /** Non-empty implies {@code value == 0}: a released permit goes to the first waiter, not to the count. */
    private final WaitQueue<Void> waiters = new WaitQueue<>();
    private final Held held = this::release;
    private final Consumer<Void> ungrant = granted -> passOn();
    private int value;

    /**
     * Statistics of a semaphore at one moment.
     *
     * @param available how many permits are free
     * @param waiting   how many tasks wait in {@link #acquire()}
     */
    public record Statistics(int available, int waiting) {
    }

    /**
     * Creates a semaphore with {@code permits} free permits. Any thread.
     *
     * @param permits the initial number of permits
     * @throws IllegalArgumentException if permits is negative
     */
    public Semaphore(int permits) {
        this(permits, "Semaphore");
    }

    Semaphore(int permits, String name) {
        if (permits < 0) {
            throw new IllegalArgumentException(name + " permits must not be negative: " + permits);
        }
        this.value = permits;
        this.binding = new LoopBinding(name);
    }

    /**
     * Takes a permit, waiting while none is free. Waiting tasks are served in arrival order.
     *
     * <p>A cancellation point when it has to wait (a free permit is taken without suspending): if the task is
     * cancelled while waiting, this throws {@link CancellationException} and no permit is taken.
     *
     * @throws CancellationException if the task is cancelled while waiting
     * @throws IllegalStateException if it must wait outside a task, off the loop thread, or on another loop
     */
    public final void acquire() {
        binding.check();
        if (value > 0) {
            value--;
            return;
        }
        TulipLoop loop = binding.forWaiting("acquire");
        waiters.await(waiters.add(loop, null), ungrant);
    }

    /**
     * Takes a permit if one is free, without waiting. Never suspends.
     *
     * @return true if a permit was taken
     */
    public final boolean tryAcquire() {
        binding.check();
        if (value > 0) {
            value--;
            return true;
        }
        return false;
    }

    /**
     * Takes a permit (as {@link #acquire()}) and returns a handle whose {@code close()} releases it, for
     * try-with-resources. The handle is shared and allocation-free.
     *
     * <p>A cancellation point when it has to wait.
     *
     * @return the permit
     * @throws CancellationException if the task is cancelled while waiting
     */
    public final Held acquired() {
        acquire();
        return held;
    }

    /**
     * Gives a permit back: to the first waiting task if any (it resumes later, through the loop), else to the count.
     * Never suspends.
     *
     * @throws IllegalStateException for a {@link BoundedSemaphore}, if this would exceed its initial permits
     */
    public void release() {
        binding.check();
        passOn();
    }

    /**
     * Whether {@link #acquire()} would have to wait. Never suspends.
     *
     * @return true if no permit is free
     */
    public final boolean isLocked() {
        binding.check();
        return value == 0;
    }

    /**
     * How many permits are free. Never suspends.
     *
     * @return the number of free permits
     */
    public final int availablePermits() {
        binding.check();
        return value;
    }

    /**
     * A snapshot of the semaphore's state.
     *
     * @return the statistics
     */
    public final Statistics statistics() {
        binding.check();
        return new Statistics(value, waiters.size());
    }

    @Override
    public String toString() {
        return binding + "[permits=" + value + (waiters.isEmpty() ? "" : ", waiters=" + waiters.size()) + "]";
    }

    /** Free permits now (for BoundedSemaphore's check). */
    final int value() {
        return value;
    }

    /** Hands a permit to the first waiter, or adds it to the count. */
    private void passOn() {
        if (waiters.grantFirst(null) == null) {
            value++;
        }
    }
}
