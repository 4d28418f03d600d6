package dev.tulip;

/**
 * Thrown when an operation does not fit the state of its object: setting the result of a future that is already
 * done, asking for the result of a future that is still pending, and similar (asyncio's {@code InvalidStateError}).
 */
public class InvalidStateException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what was wrong, naming the object and its state
     */
    public InvalidStateException(String message) {
        super(message);
    }
}
