package dev.tulip.internal.loop;

/**
 * A clock that only moves when told to: the loop advances it to the next timer when it would otherwise sleep, so a
 * test that waits an hour of loop time runs in microseconds and always in the same order.
 *
 * <p>Advanced on the loop thread; read from any thread.
 */
public final class VirtualClock implements Clock {
    private volatile long now;

    @Override
    public long nanos() {
        return now;
    }

    @Override
    public boolean isVirtual() {
        return true;
    }

    /**
     * Moves time forward.
     *
     * @param nanos how far, not negative
     */
    public void advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("time cannot go backwards: " + nanos);
        }
        now += nanos;
    }
}
