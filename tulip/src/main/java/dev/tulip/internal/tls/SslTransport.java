package dev.tulip.internal.tls;

import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The transport a TLS connection's application protocol sees: plaintext in and out, over an {@link SslProtocol}.
 * Behaves as a plain stream transport except that {@link #writeEof()} is unsupported (TLS has no half-close here)
 * and {@link #info()} carries the {@code SSLSession} and the ALPN result.
 *
 * <p>Loop thread only.
 */
public final class SslTransport implements Transport, SwitchableTransport {
    private final SslProtocol ssl;

    SslTransport(SslProtocol ssl) {
        this.ssl = ssl;
    }

    @Override
    public void write(ByteBuffer data) {
        Objects.requireNonNull(data, "data");
        ssl.appWrite(new ByteBuffer[] {data});
    }

    @Override
    public void write(ByteBuffer... data) {
        Objects.requireNonNull(data, "data");
        for (ByteBuffer b : data) {
            Objects.requireNonNull(b, "data element");
        }
        ssl.appWrite(data);
    }

    /**
     * Unsupported on TLS.
     *
     * @throws UnsupportedOperationException always: TLS 1.2 has no half-close, and a TLS close_notify ends the
     *                                       session, so a TLS transport cannot keep reading after it
     */
    @Override
    public void writeEof() {
        throw new UnsupportedOperationException("a TLS transport cannot write EOF: TLS has no half-close (close_notify"
                + " ends the whole session); use close(), which sends close_notify");
    }

    @Override
    public boolean canWriteEof() {
        return false;
    }

    /** Sends close_notify after the buffered data, waits for the peer's (up to the shutdown timeout), then closes. */
    @Override
    public void close() {
        ssl.appClose();
    }

    /** Closes the connection below at once, without close_notify. */
    @Override
    public void abort() {
        ssl.appAbort();
    }

    @Override
    public boolean isClosing() {
        return ssl.isClosing();
    }

    @Override
    public TransportInfo info() {
        return ssl.info();
    }

    @Override
    public void pauseReading() {
        ssl.appPauseReading();
    }

    @Override
    public void resumeReading() {
        ssl.appResumeReading();
    }

    @Override
    public boolean isReading() {
        return ssl.appIsReading();
    }

    @Override
    public void setWriteBufferLimits(int high, int low) {
        ssl.setWriteBufferLimits(high, low);
    }

    /** Plaintext waiting for a handshake plus the TLS records buffered by the transport below. */
    @Override
    public long writeBufferSize() {
        return ssl.writeBufferSize();
    }

    @Override
    public Protocol protocol() {
        return ssl.app();
    }

    @Override
    public void setProtocol(Protocol protocol) {
        ssl.setApp(Objects.requireNonNull(protocol, "protocol"));
    }

    @Override
    public String toString() {
        return "SslTransport[" + ssl + "]";
    }
}
