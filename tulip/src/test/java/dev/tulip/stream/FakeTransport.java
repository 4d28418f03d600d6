package dev.tulip.stream;

import dev.tulip.EventLoop;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;

/**
 * An in-memory transport: writes stay buffered until the test "sends" them with {@link #kernelSends}, with asyncio's
 * water-mark rules (pause above high, resume at or below low, both synchronous).
 */
class FakeTransport implements Transport {
    final EventLoop loop;
    final Protocol protocol;
    final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    final ByteArrayOutputStream buffered = new ByteArrayOutputStream();
    int high = 64 * 1024;
    int low = 16 * 1024;
    long maxBuffered;
    boolean reading = true;
    int pauses;
    int resumes;
    boolean closing;
    boolean eofWritten;
    boolean aborted;
    boolean lost;
    private boolean writingPaused;

    FakeTransport(EventLoop loop, Protocol protocol) {
        this.loop = loop;
        this.protocol = protocol;
    }

    static FakeTransport connect(EventLoop loop, Protocol protocol) {
        FakeTransport t = new FakeTransport(loop, protocol);
        protocol.connectionMade(t);
        return t;
    }

    void receive(String s) {
        protocol.dataReceived(ByteBuffer.wrap(s.getBytes()));
    }

    void receive(byte[] b) {
        protocol.dataReceived(ByteBuffer.wrap(b));
    }

    void receiveEof() {
        if (!protocol.eofReceived()) {
            close();
        }
    }

    void lose(Throwable cause) {
        if (!lost) {
            lost = true;
            closing = true;
            protocol.connectionLost(cause);
        }
    }

    /** The kernel takes up to n buffered bytes. */
    void kernelSends(int n) {
        byte[] all = buffered.toByteArray();
        int k = Math.min(n, all.length);
        sent.write(all, 0, k);
        buffered.reset();
        buffered.write(all, k, all.length - k);
        if (writingPaused && buffered.size() <= low) {
            writingPaused = false;
            protocol.resumeWriting();
        }
        if (closing && buffered.size() == 0) {
            lose(null);
        }
    }

    String sentText() {
        return sent.toString();
    }

    @Override
    public void write(ByteBuffer data) {
        if (closing || eofWritten) {
            throw new IllegalStateException("transport is closing");
        }
        byte[] b = new byte[data.remaining()];
        data.get(b);
        buffered.writeBytes(b);
        maxBuffered = Math.max(maxBuffered, buffered.size());
        if (!writingPaused && buffered.size() > high) {
            writingPaused = true;
            protocol.pauseWriting();
        }
    }

    @Override
    public void write(ByteBuffer... data) {
        for (ByteBuffer b : data) {
            write(b);
        }
    }

    @Override
    public void writeEof() {
        eofWritten = true;
    }

    @Override
    public boolean canWriteEof() {
        return true;
    }

    @Override
    public void abort() {
        aborted = true;
        buffered.reset();
        closing = true;
        loop.callSoon(() -> lose(null));
    }

    @Override
    public void setWriteBufferLimits(int high, int low) {
        this.high = high;
        this.low = low;
    }

    @Override
    public long writeBufferSize() {
        return buffered.size();
    }

    @Override
    public void pauseReading() {
        reading = false;
        pauses++;
    }

    @Override
    public void resumeReading() {
        reading = true;
        resumes++;
    }

    @Override
    public boolean isReading() {
        return reading && !closing;
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (buffered.size() == 0) {
            loop.callSoon(() -> lose(null));
        }
    }

    @Override
    public boolean isClosing() {
        return closing;
    }

    @Override
    public TransportInfo info() {
        return TransportInfo.plain(null, null, null);
    }
}
