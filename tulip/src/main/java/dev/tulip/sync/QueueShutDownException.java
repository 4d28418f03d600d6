package dev.tulip.sync;

/**
 * Thrown by a {@link Queue} that was {@linkplain Queue#shutdown(boolean) shut down}: by {@code put} always, and by
 * {@code get} once no item is left (at once after an immediate shutdown). asyncio 3.13's {@code QueueShutDown}.
 */
public class QueueShutDownException extends IllegalStateException {
    /**
     * Creates the exception.
     *
     * @param message which operation met the shut-down queue
     */
    public QueueShutDownException(String message) {
        super(message);
    }
}
