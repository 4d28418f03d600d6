package dev.tulip;

/**
 * A {@link Handle} for a callback scheduled at a point in the loop's time ({@link EventLoop#callLater},
 * {@link EventLoop#callAt}).
 *
 * <p>Cancelled timers are removed from the loop's timer heap lazily, but never allowed to pile up: once more than
 * half of the heap is cancelled it is compacted, so scheduling and cancelling any number of timers keeps memory
 * bounded by the number of live timers.
 */
public interface TimerHandle extends Handle {

    /**
     * When the callback is due, in the loop's clock ({@link EventLoop#time()}, nanoseconds).
     *
     * @return the due time in loop nanoseconds
     */
    long when();
}
