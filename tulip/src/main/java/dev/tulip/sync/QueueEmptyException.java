package dev.tulip.sync;

import java.util.NoSuchElementException;

/**
 * Thrown by {@link Queue#getNowait} when the queue has no item: asyncio's {@code QueueEmpty}. A
 * {@link NoSuchElementException}, as {@link java.util.Queue#remove} throws for an empty queue.
 */
public class QueueEmptyException extends NoSuchElementException {
    /**
     * Creates the exception.
     *
     * @param message what was empty
     */
    public QueueEmptyException(String message) {
        super(message);
    }
}
