package dev.tulip.internal.tls;

import dev.tulip.EventLoop;
import dev.tulip.transport.BufferedProtocol;
import dev.tulip.transport.Protocol;
import dev.tulip.transport.Transport;
import dev.tulip.transport.TransportInfo;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * One end of an in-memory stream connection for tests: bytes written on one end reach the other end's protocol in a
 * later loop callback, at most {@link #chunk} bytes per delivery (1 to simulate a peer that trickles). Behaves like
 * a TCP transport: write buffer with water marks (bytes count as buffered until delivered, so a peer that pauses
 * reading makes the writer pause), pause/resume reading, FIN via writeEof/close, RST via abort.
 */
final class MemoryTransport implements Transport, SwitchableTransport {
    private static final Object FIN = new Object();

    private final EventLoop loop;
    private final String name;
    private MemoryTransport peer;
    Protocol protocol;
    int chunk = 64 * 1024;
    private final ArrayDeque<Object> outbox = new ArrayDeque<>();
    private long buffered;
    private int high = 64 * 1024;
    private int low = 16 * 1024;
    private boolean writingPaused;
    private boolean reading = true;
    private boolean closing;
    private boolean eofWritten;
    private boolean lost;
    private boolean flushScheduled;
    long bytesWritten;

    private MemoryTransport(EventLoop loop, String name) {
        this.loop = loop;
        this.name = name;
    }

    /** Two connected ends; call {@link #connect} on each with its protocol. */
    static MemoryTransport[] pair(EventLoop loop) {
        MemoryTransport a = new MemoryTransport(loop, "a");
        MemoryTransport b = new MemoryTransport(loop, "b");
        a.peer = b;
        b.peer = a;
        return new MemoryTransport[] {a, b};
    }

    /** Sets the protocol and schedules its connectionMade. */
    void connect(Protocol p) {
        this.protocol = p;
        loop.callSoon(() -> p.connectionMade(this));
    }

    @Override
    public void write(ByteBuffer data) {
        if (closing || eofWritten) {
            throw new IllegalStateException("memory transport " + name + " is closing");
        }
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        ByteBuffer copy = ByteBuffer.allocate(n);
        copy.put(data).flip();
        outbox.add(copy);
        buffered += n;
        bytesWritten += n;
        if (!writingPaused && buffered > high) {
            writingPaused = true;
            protocol.pauseWriting();
        }
        scheduleFlush();
    }

    @Override
    public void write(ByteBuffer... data) {
        for (ByteBuffer b : data) {
            write(b);
        }
    }

    private void scheduleFlush() {
        if (!flushScheduled && !lost) {
            flushScheduled = true;
            loop.callSoon(this::flush);
        }
    }

    private void flush() {
        flushScheduled = false;
        if (lost) {
            return;
        }
        int budget = Math.max(chunk, 1) == 1 ? 1 : 256 * 1024;
        while (!outbox.isEmpty() && !peer.lost && peer.reading && budget > 0) {
            Object head = outbox.peekFirst();
            if (head == FIN) {
                outbox.pollFirst();
                peer.deliverEof();
                break;
            }
            ByteBuffer b = (ByteBuffer) head;
            int n = Math.min(Math.min(b.remaining(), chunk), budget);
            ByteBuffer piece = b.slice(b.position(), n);
            b.position(b.position() + n);
            if (!b.hasRemaining()) {
                outbox.pollFirst();
            }
            buffered -= n;
            budget -= n;
            peer.deliver(piece);
            if (writingPaused && buffered <= low) {
                writingPaused = false;
                protocol.resumeWriting();
            }
            if (chunk < 64 * 1024) {
                break; // one piece per callback: the receiver sees many small deliveries
            }
        }
        if (peer.lost && !outbox.isEmpty()) {
            outbox.clear();
            buffered = 0;
        }
        if (!outbox.isEmpty() && !peer.lost && peer.reading) {
            scheduleFlush();
        } else if (outbox.isEmpty() && closing && !lost) {
            lose(null);
        }
    }

    private void deliver(ByteBuffer piece) {
        if (protocol instanceof BufferedProtocol bp) {
            while (piece.hasRemaining()) {
                ByteBuffer dst = bp.getBuffer(piece.remaining());
                int n = Math.min(dst.remaining(), piece.remaining());
                dst.put(dst.position(), piece, piece.position(), n);
                piece.position(piece.position() + n);
                bp.bufferUpdated(n);
                if (lost) {
                    return;
                }
            }
        } else {
            protocol.dataReceived(piece);
        }
    }

    private void deliverEof() {
        if (lost) {
            return;
        }
        boolean keepOpen = protocol.eofReceived();
        if (!keepOpen) {
            close();
        }
    }

    private void lose(Throwable cause) {
        if (lost) {
            return;
        }
        lost = true;
        outbox.clear();
        buffered = 0;
        loop.callSoon(() -> protocol.connectionLost(cause));
    }

    @Override
    public void writeEof() {
        if (eofWritten || closing) {
            return;
        }
        eofWritten = true;
        outbox.add(FIN);
        scheduleFlush();
    }

    @Override
    public boolean canWriteEof() {
        return true;
    }

    @Override
    public void abort() {
        if (lost) {
            return;
        }
        closing = true;
        lose(null);
        if (!peer.lost) {
            peer.lose(new IOException("connection reset by peer (memory transport " + name + " aborted)"));
        }
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (!eofWritten) {
            eofWritten = true;
            outbox.add(FIN);
        }
        scheduleFlush();
    }

    @Override
    public boolean isClosing() {
        return closing || lost;
    }

    @Override
    public TransportInfo info() {
        return TransportInfo.plain(new InetSocketAddress("127.0.0.1", name.equals("a") ? 1 : 2),
                new InetSocketAddress("127.0.0.1", name.equals("a") ? 2 : 1), null);
    }

    @Override
    public void pauseReading() {
        reading = false;
    }

    @Override
    public void resumeReading() {
        if (!reading) {
            reading = true;
            peer.scheduleFlush();
        }
    }

    @Override
    public boolean isReading() {
        return reading && !lost;
    }

    @Override
    public void setWriteBufferLimits(int high, int low) {
        this.high = high;
        this.low = low;
    }

    @Override
    public long writeBufferSize() {
        return buffered;
    }

    @Override
    public Protocol protocol() {
        return protocol;
    }

    @Override
    public void setProtocol(Protocol p) {
        this.protocol = p;
    }
}
