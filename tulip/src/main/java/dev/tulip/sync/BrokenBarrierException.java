package dev.tulip.sync;

/**
 * Thrown by {@link Barrier#await()} when the barrier is broken ({@link Barrier#abort()}) or reset
 * ({@link Barrier#reset()}) while a task waits, or is broken when a task arrives: asyncio's
 * {@code BrokenBarrierError}. Unchecked, unlike {@link java.util.concurrent.BrokenBarrierException}.
 */
public class BrokenBarrierException extends IllegalStateException {
    /**
     * Creates the exception.
     *
     * @param message what broke the barrier
     */
    public BrokenBarrierException(String message) {
        super(message);
    }
}
