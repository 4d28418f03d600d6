package dev.tulip.sync;

/**
 * A {@link Semaphore} that refuses to be released above its initial number of permits: asyncio's
 * {@code BoundedSemaphore}. A release without a matching acquire is a bug this catches.
 *
 * <p>Threading: loop thread only; binds to the loop that first uses it (see {@link Lock}).
 */
public final class BoundedSemaphore extends Semaphore {
    private final int bound;

    /**
     * Creates a bounded semaphore with {@code permits} free permits, which is also its maximum. Any thread.
     *
     * @param permits the initial and maximum number of permits
     * @throws IllegalArgumentException if permits is negative
     */
    public BoundedSemaphore(int permits) {
        super(permits, "BoundedSemaphore");
        this.bound = permits;
    }

    /**
     * The maximum (and initial) number of permits.
     *
     * @return the bound
     */
    public int bound() {
        return bound;
    }

    /**
     * Gives a permit back, as {@link Semaphore#release()}. Never suspends.
     *
     * @throws IllegalStateException if every permit is already free (released more times than acquired); the
     *                               semaphore is unchanged
     */
    @Override
    public void release() {
        // A waiter implies value == 0 < bound, so the check never refuses a release that a waiter needs.
        if (value() >= bound) {
            throw new IllegalStateException("BoundedSemaphore released too many times: all " + bound
                    + " permits are already free");
        }
        super.release();
    }
}
