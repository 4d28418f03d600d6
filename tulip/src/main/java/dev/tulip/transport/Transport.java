package dev.tulip.transport;

/**
 * A bidirectional stream transport: a TCP connection, a UNIX-socket connection, a TLS session over either.
 *
 * <p>A transport belongs to the {@link dev.tulip.Scope} that was current when it was created (for accepted
 * connections, the server's scope): cancelling that scope aborts it, and its protocol's {@code connectionLost}
 * receives a {@link java.util.concurrent.CancellationException}. {@code connectionLost} runs even though the scope
 * is cancelled.
 *
 * <p>Loop thread only.
 */
public interface Transport extends ReadTransport, WriteTransport {
}
