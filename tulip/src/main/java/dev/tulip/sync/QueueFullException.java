package dev.tulip.sync;

/**
 * Thrown by {@link Queue#putNowait} when the queue is full: asyncio's {@code QueueFull}. An
 * {@link IllegalStateException}, as {@link java.util.Queue#add} throws for a full queue.
 */
public class QueueFullException extends IllegalStateException {
    /**
     * Creates the exception.
     *
     * @param message what was full
     */
    public QueueFullException(String message) {
        super(message);
    }
}
