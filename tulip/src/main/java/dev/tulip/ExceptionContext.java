package dev.tulip;

/**
 * What the loop's exception handler receives when something failed where no caller could catch it: a callback that
 * threw, a future whose exception was never retrieved, a transport error, a failing protocol callback.
 *
 * <p>Only {@code message} is always present; the other components are null when they do not apply.
 *
 * @param message   a human-readable description of what failed
 * @param exception the failure, or null
 * @param handle    the handle whose callback failed, or null
 * @param future    the future or task concerned, or null
 * @param transport the transport concerned (a {@code dev.tulip.transport.Transport} or similar), or null
 * @param protocol  the protocol concerned, or null
 */
public record ExceptionContext(String message, Throwable exception, Handle handle, Future<?> future,
                               Object transport, Object protocol) {

    /**
     * Creates a context; {@code message} must not be null.
     *
     * @throws NullPointerException if message is null
     */
    public ExceptionContext {
        java.util.Objects.requireNonNull(message, "message");
    }

    /**
     * A context with a message and an exception only.
     *
     * @param message   what failed
     * @param exception the failure, or null
     * @return the context
     */
    public static ExceptionContext of(String message, Throwable exception) {
        return new ExceptionContext(message, exception, null, null, null, null);
    }
}
