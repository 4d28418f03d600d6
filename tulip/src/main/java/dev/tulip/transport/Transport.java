package dev.tulip.transport;

/**
 * A bidirectional stream transport: a TCP connection, a UNIX-socket connection, a TLS session over either.
 *
 * <p>Loop thread only.
 */
public interface Transport extends ReadTransport, WriteTransport {
}
