package dev.tulip;

import java.util.concurrent.CancellationException;

/**
 * A deadline of {@link Tulip#timeout}, {@link Tulip#timeoutAt} or {@link Tulip#waitFor} passed: asyncio's
 * {@code TimeoutError}.
 *
 * <p>The timeout cancels the task, and the await that was interrupted throws this exception instead of a plain
 * {@link CancellationException}; it is a subclass so that code between the await and the timeout scope unwinds
 * exactly as for a cancellation ({@code catch (CancellationException e)} cleanup still runs). Once it leaves the
 * scope it is an ordinary failure: a task ending with it fails (it is not cancelled).
 */
public class TimeoutException extends CancellationException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what timed out
     */
    public TimeoutException(String message) {
        super(message);
    }
}
