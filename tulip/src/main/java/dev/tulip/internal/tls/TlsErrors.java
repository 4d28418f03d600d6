package dev.tulip.internal.tls;

import dev.tulip.transport.TlsException;
import dev.tulip.transport.TlsException.Reason;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Locale;
import javax.net.ssl.SSLHandshakeException;

/**
 * Turns the JDK's TLS exceptions into a {@link TlsException} with a {@link Reason}. The JDK reports most failures as
 * {@code SSLHandshakeException} or {@code SSLException} with a message; the reason is read from the cause chain
 * (certificate path and host name checks throw {@link CertificateException}s) and, failing that, from the message.
 *
 * <p>Stateless; any thread.
 */
final class TlsErrors {
    private TlsErrors() {
    }

    static TlsException classify(Throwable e, boolean duringHandshake) {
        if (e instanceof TlsException t) {
            return t;
        }
        for (Throwable c = e; c != null; c = c.getCause()) {
            String m = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
            if (c instanceof CertificateException && (m.contains("no subject alternative") || m.contains("no name matching"))) {
                return new TlsException(Reason.HOSTNAME_MISMATCH, "the certificate does not match the server name: "
                        + c.getMessage(), e);
            }
            if (c instanceof CertPathBuilderException || c instanceof CertPathValidatorException
                    || c.getClass().getName().endsWith("ValidatorException")) {
                return new TlsException(Reason.UNTRUSTED_CERTIFICATE, "the peer's certificate is not trusted: "
                        + c.getMessage(), e);
            }
            if (c instanceof CertificateException) {
                return new TlsException(Reason.UNTRUSTED_CERTIFICATE, "the peer's certificate was rejected: "
                        + c.getMessage(), e);
            }
        }
        String m = String.valueOf(e.getMessage());
        String lower = m.toLowerCase(Locale.ROOT);
        if (lower.contains("unsupported or unrecognized ssl message") || lower.contains("plaintext")) {
            return duringHandshake
                    ? new TlsException(Reason.NOT_TLS, "the peer does not speak TLS (" + m + ")", e)
                    : new TlsException(Reason.PROTOCOL_ERROR, "the peer sent bytes that are not TLS records (" + m + ")", e);
        }
        if (duringHandshake || e instanceof SSLHandshakeException) {
            return new TlsException(Reason.HANDSHAKE_FAILED, "the TLS handshake failed: " + m, e);
        }
        return new TlsException(Reason.PROTOCOL_ERROR, "TLS error: " + m, e);
    }
}
