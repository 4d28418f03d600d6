package dev.tulip.transport;

import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * Why a TLS connection failed: the exception a TLS transport passes to {@code connectionLost} (or fails its
 * connection future with) when the failure is TLS's own, with a {@link Reason} a program can switch on. The
 * {@link #getCause() cause}, when there is one, is the JDK's exception ({@code SSLHandshakeException},
 * {@code CertificateException}, ...).
 *
 * <p>It is an {@link SSLException}, so code that catches {@code SSLException} or {@code IOException} sees it.
 */
public final class TlsException extends SSLException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Reason {
        /** The handshake failed for another reason (no common protocol or cipher, an alert from the peer, EOF). */
        HANDSHAKE_FAILED,
        /** The handshake did not finish within the handshake timeout. */
        HANDSHAKE_TIMEOUT,
        /** The peer's certificate chain is not trusted (unknown or untrusted CA, expired, malformed). */
        UNTRUSTED_CERTIFICATE,
        /** The peer's certificate is valid but not for the host name (or IP address) we connected to. */
        HOSTNAME_MISMATCH,
        /** The peer does not speak TLS (plaintext, for example an HTTP client on a TLS port). */
        NOT_TLS,
        /** The peer sent bytes that are not valid TLS records after the handshake (garbage, bad MAC). */
        PROTOCOL_ERROR,
        /** The peer closed the connection without sending close_notify: the data may have been cut short. */
        TRUNCATED,
        /** We sent close_notify and the peer neither answered nor closed within the shutdown timeout. */
        SHUTDOWN_TIMEOUT
    }

    private final Reason reason;

    /**
     * Creates an exception.
     *
     * @param reason  what went wrong
     * @param message a human-readable explanation
     * @param cause   the underlying failure, or null
     * @throws NullPointerException if reason is null
     */
    public TlsException(Reason reason, String message, Throwable cause) {
        super(Objects.requireNonNull(reason, "reason") + ": " + message, cause);
        this.reason = reason;
    }

    /**
     * What went wrong.
     *
     * @return the reason
     */
    public Reason reason() {
        return reason;
    }
}
