package dev.tulip.transport;

import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * How to run TLS on a connection: the {@link SSLContext}, the mode (client or server), the server host name, ALPN,
 * and the handshake and shutdown timeouts. Immutable and thread-safe; build one with {@link #client()} or
 * {@link #server(SSLContext)} and reuse it for many connections.
 *
 * <p>Client defaults are safe: the JDK's default {@code SSLContext} (the JDK's trusted CAs), its default protocol
 * versions, certificate verification and host name verification (endpoint identification {@code "HTTPS"}, which
 * checks the DNS name or IP address against the certificate's subject alternative names). The server host name
 * defaults to the host passed to {@code createConnection}; it is also sent as SNI when it is a DNS name. Turning
 * verification off is possible only through the methods named {@code insecure...}.
 *
 * <p>Timeouts, as in asyncio: the handshake must finish within 60 seconds, and after {@code close()} sends
 * close_notify the peer has 30 seconds to answer before the connection is aborted.
 *
 * <p>How a TLS connection behaves toward its protocol (the same contract as a plain transport otherwise):
 * <ul>
 *   <li>{@code connectionMade} comes after the handshake; a failed handshake never reaches the protocol (the
 *       connection future fails with a {@link TlsException} saying why).</li>
 *   <li>{@code close()} sends close_notify after the buffered data and waits for the peer's (or its EOF) up to the
 *       shutdown timeout, then closes; plaintext that arrives after {@code close()} is decrypted and discarded.
 *       {@code abort()} closes at once without close_notify.</li>
 *   <li>The peer's close_notify: {@code eofReceived()} (its return value cannot keep the connection open: TLS has no
 *       half-close here, and {@code canWriteEof()} is false), then our close_notify, then
 *       {@code connectionLost(null)}. Bytes after the peer's close_notify are ignored.</li>
 *   <li>An EOF without close_notify is a truncation: {@code connectionLost} gets a {@link TlsException} with
 *       {@link TlsException.Reason#TRUNCATED} (no {@code eofReceived}).</li>
 *   <li>{@code info()} has the {@code SSLSession} (protocol, cipher suite, peer certificates) and the ALPN result.</li>
 * </ul>
 *
 * <p>Compared with asyncio's {@code ssl=} argument: the same knobs ({@code server_hostname},
 * {@code ssl_handshake_timeout}, {@code ssl_shutdown_timeout}, ALPN through the context), gathered in one object.
 */
public final class TlsOptions {
    /** The handshake timeout used unless set: 60 seconds (asyncio's). */
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(60);
    /** The shutdown timeout used unless set: 30 seconds (asyncio's). */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

    /** Whether a server asks the client for a certificate. */
    public enum ClientAuth {
        /** No client certificate is requested (the default). */
        NONE,
        /** A client certificate is requested; the handshake goes on without one. */
        WANT,
        /** A client certificate is required; the handshake fails without a trusted one. */
        NEED
    }

    private final boolean client;
    private final SSLContext context;
    private final String serverHostname;
    private final List<String> alpnProtocols;
    private final List<String> protocols;
    private final Duration handshakeTimeout;
    private final Duration shutdownTimeout;
    private final boolean verifyCertificates;
    private final boolean verifyHostname;
    private final ClientAuth clientAuth;
    private final Executor delegatedTaskExecutor;

    private TlsOptions(Builder b, SSLContext context) {
        this.client = b.client;
        this.context = context;
        this.serverHostname = b.serverHostname;
        this.alpnProtocols = b.alpnProtocols;
        this.protocols = b.protocols;
        this.handshakeTimeout = b.handshakeTimeout;
        this.shutdownTimeout = b.shutdownTimeout;
        this.verifyCertificates = b.verifyCertificates;
        this.verifyHostname = b.verifyHostname;
        this.clientAuth = b.clientAuth;
        this.delegatedTaskExecutor = b.delegatedTaskExecutor;
    }

    /**
     * A builder for client options, with safe defaults (see the class description).
     *
     * @return a new builder in client mode
     */
    public static Builder client() {
        return new Builder(true, null);
    }

    /**
     * Client options with every default: the JDK's default context and trusted CAs, full verification.
     *
     * @return the options
     */
    public static TlsOptions defaultClient() {
        return client().build();
    }

    /**
     * A builder for server options.
     *
     * @param context a context initialised with the server's key (its certificate chain and private key)
     * @return a new builder in server mode
     * @throws NullPointerException if context is null
     */
    public static Builder server(SSLContext context) {
        return new Builder(false, Objects.requireNonNull(context, "context"));
    }

    /**
     * Whether these are client options (the side that sends ClientHello).
     *
     * @return true for client mode, false for server mode
     */
    public boolean isClient() {
        return client;
    }

    /**
     * The context engines are created from.
     *
     * @return the context (the JDK's default one unless set)
     */
    public SSLContext context() {
        return context;
    }

    /**
     * The server host name set explicitly, used for SNI and host name verification.
     *
     * @return the name, or null to use the host the connection was made to
     */
    public String serverHostname() {
        return serverHostname;
    }

    /**
     * The ALPN protocols offered (client) or accepted in order of preference (server).
     *
     * @return the protocols; empty for no ALPN
     */
    public List<String> alpnProtocols() {
        return alpnProtocols;
    }

    /**
     * The TLS protocol versions enabled (for example {@code "TLSv1.3"}).
     *
     * @return the versions, or empty for the JDK's defaults
     */
    public List<String> protocols() {
        return protocols;
    }

    /**
     * How long the handshake may take.
     *
     * @return the handshake timeout
     */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /**
     * How long {@code close()} waits for the peer's close_notify before aborting.
     *
     * @return the shutdown timeout
     */
    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /**
     * Whether the peer's certificate chain is verified (always true in server mode, where the context decides).
     *
     * @return false only after {@link Builder#insecureNoVerification()}
     */
    public boolean verifiesCertificates() {
        return verifyCertificates;
    }

    /**
     * Whether a client checks the server's certificate against the server host name.
     *
     * @return false after either insecure method, and in server mode
     */
    public boolean verifiesHostname() {
        return verifyHostname;
    }

    /**
     * Whether a server asks for a client certificate.
     *
     * @return the policy; {@link ClientAuth#NONE} in client mode
     */
    public ClientAuth clientAuth() {
        return clientAuth;
    }

    /**
     * Where the engine's delegated tasks (certificate validation, key exchange) run.
     *
     * @return the executor, or null to run them inline on the loop thread
     */
    public Executor delegatedTaskExecutor() {
        return delegatedTaskExecutor;
    }

    @Override
    public String toString() {
        return "TlsOptions[" + (client ? "client" : "server")
                + (serverHostname != null ? ", serverHostname=" + serverHostname : "")
                + (alpnProtocols.isEmpty() ? "" : ", alpn=" + alpnProtocols)
                + (protocols.isEmpty() ? "" : ", protocols=" + protocols)
                + (verifyCertificates ? "" : ", INSECURE: no certificate verification")
                + (verifyHostname || !client ? "" : ", INSECURE: no hostname verification")
                + ", handshakeTimeout=" + handshakeTimeout + ", shutdownTimeout=" + shutdownTimeout + "]";
    }

    /**
     * Builds {@link TlsOptions}. Not thread-safe; build once.
     */
    public static final class Builder {
        private final boolean client;
        private SSLContext context;
        private String serverHostname;
        private List<String> alpnProtocols = List.of();
        private List<String> protocols = List.of();
        private Duration handshakeTimeout = DEFAULT_HANDSHAKE_TIMEOUT;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private boolean verifyCertificates = true;
        private boolean verifyHostname;
        private ClientAuth clientAuth = ClientAuth.NONE;
        private Executor delegatedTaskExecutor;

        private Builder(boolean client, SSLContext context) {
            this.client = client;
            this.context = context;
            this.verifyHostname = client;
        }

        /**
         * The context to create engines from: its key managers (our certificate) and trust managers (which CAs we
         * trust). Unset on a client, the JDK's default context.
         *
         * @param context the context
         * @return this builder
         * @throws NullPointerException if context is null
         */
        public Builder context(SSLContext context) {
            this.context = Objects.requireNonNull(context, "context");
            return this;
        }

        /**
         * The server's host name for SNI and host name verification (client mode), when it differs from the host
         * connected to (for example when connecting by IP address, or with {@code startTls}).
         *
         * @param hostname a DNS name or an IP address literal
         * @return this builder
         * @throws NullPointerException     if hostname is null
         * @throws IllegalArgumentException if empty
         */
        public Builder serverHostname(String hostname) {
            Objects.requireNonNull(hostname, "hostname");
            if (hostname.isEmpty()) {
                throw new IllegalArgumentException("server hostname must not be empty");
            }
            this.serverHostname = hostname;
            return this;
        }

        /**
         * The ALPN protocols (for example {@code "h2", "http/1.1"}): offered by a client, chosen from by a server
         * in this order of preference. The result is in {@link TransportInfo#applicationProtocol()}.
         *
         * @param protocols protocol names
         * @return this builder
         * @throws NullPointerException     if a name is null
         * @throws IllegalArgumentException if a name is empty
         */
        public Builder alpnProtocols(String... protocols) {
            for (String p : protocols) {
                if (Objects.requireNonNull(p, "ALPN protocol").isEmpty()) {
                    throw new IllegalArgumentException("ALPN protocol names must not be empty");
                }
            }
            this.alpnProtocols = List.of(protocols);
            return this;
        }

        /**
         * Restricts the TLS versions (for example {@code "TLSv1.3"}, or {@code "TLSv1.2"}); unset, the JDK's
         * defaults.
         *
         * @param versions protocol version names as the JDK spells them
         * @return this builder
         * @throws NullPointerException if a name is null
         */
        public Builder protocols(String... versions) {
            this.protocols = List.of(versions);
            return this;
        }

        /**
         * How long the handshake may take before the connection is aborted with
         * {@link TlsException.Reason#HANDSHAKE_TIMEOUT}. Default 60 seconds.
         *
         * @param timeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder handshakeTimeout(Duration timeout) {
            this.handshakeTimeout = positive(timeout, "handshake timeout");
            return this;
        }

        /**
         * How long {@code close()} waits for the peer's close_notify before aborting the connection (which then
         * ends with {@link TlsException.Reason#SHUTDOWN_TIMEOUT}). Default 30 seconds.
         *
         * @param timeout a positive duration
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = positive(timeout, "shutdown timeout");
            return this;
        }

        /**
         * INSECURE: accepts any certificate from the server, for any host name. The connection is encrypted but
         * not authenticated, so anyone in the path can read and change it. For tests and for peers authenticated
         * another way only. Uses its own context (so it cannot be combined with {@link #context}).
         *
         * @return this builder
         * @throws IllegalStateException in server mode
         */
        public Builder insecureNoVerification() {
            requireClient("insecureNoVerification");
            this.verifyCertificates = false;
            this.verifyHostname = false;
            return this;
        }

        /**
         * INSECURE: verifies the server's certificate chain but not that it was issued for the server host name,
         * so any certificate from a trusted CA is accepted for any host.
         *
         * @return this builder
         * @throws IllegalStateException in server mode
         */
        public Builder insecureNoHostnameVerification() {
            requireClient("insecureNoHostnameVerification");
            this.verifyHostname = false;
            return this;
        }

        /**
         * Whether a server requests a client certificate. Default {@link ClientAuth#NONE}.
         *
         * @param auth the policy
         * @return this builder
         * @throws IllegalStateException in client mode
         */
        public Builder clientAuth(ClientAuth auth) {
            if (client) {
                throw new IllegalStateException("clientAuth is a server option");
            }
            this.clientAuth = Objects.requireNonNull(auth, "clientAuth");
            return this;
        }

        /**
         * Runs the engine's delegated tasks (certificate validation, key exchange computations: hundreds of
         * microseconds to milliseconds each) on {@code executor} instead of inline on the loop thread, which keeps
         * the loop responsive under many concurrent handshakes at the cost of two thread hops per handshake step.
         *
         * @param executor the executor, or null for inline (the default)
         * @return this builder
         */
        public Builder delegatedTaskExecutor(Executor executor) {
            this.delegatedTaskExecutor = executor;
            return this;
        }

        /**
         * Builds the options.
         *
         * @return the options
         * @throws IllegalStateException if {@code insecureNoVerification()} was combined with a context, or the
         *                               JDK's default context cannot be created
         */
        public TlsOptions build() {
            SSLContext ctx = context;
            if (!verifyCertificates) {
                if (ctx != null) {
                    throw new IllegalStateException("insecureNoVerification() uses its own trust-everything context;"
                            + " it cannot be combined with context(...)");
                }
                ctx = trustAllContext();
            } else if (ctx == null) {
                try {
                    ctx = SSLContext.getDefault();
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("the JDK's default SSLContext is unavailable", e);
                }
            }
            return new TlsOptions(this, ctx);
        }

        private void requireClient(String what) {
            if (!client) {
                throw new IllegalStateException(what + " is a client option");
            }
        }

        private static Duration positive(Duration d, String what) {
            Objects.requireNonNull(d, what);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }

        private static SSLContext trustAllContext() {
            TrustManager trustAll = new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            };
            try {
                SSLContext c = SSLContext.getInstance("TLS");
                c.init(null, new TrustManager[] {trustAll}, null);
                return c;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot create a TLS context", e);
            }
        }
    }
}
