package dev.tulip.internal.proc;

import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.TransportInfo;
import dev.tulip.transport.WriteTransport;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link WriteTransport} over a blocking {@link OutputStream} (a child's stdin, this JVM's stdout, any stream):
 * {@code write} copies the bytes into a queue that a virtual thread drains into the stream.
 *
 * <p>Flow control: the bytes queued and not yet written are the write buffer; the sink gets {@code pauseWriting}
 * when it goes over the high-water mark and {@code resumeWriting} when the thread has drained it to the low mark. A
 * child that reads slowly therefore slows down a writer that respects pauseWriting (and one that ignores it loses
 * nothing).
 *
 * <p>Loop thread only (the drain thread touches only {@link #queue}, {@link #buffered} and the stream).
 */
public final class ThreadPipeWriter implements WriteTransport {

    /** Flow-control and end notifications. Loop thread. */
    public interface Sink {
        /** The buffer went over the high-water mark. */
        void pauseWriting();

        /** The buffer drained to the low-water mark. */
        void resumeWriting();

        /** The stream was closed (cause null) or failed (a child that exited gives a broken pipe). Called once. */
        void closed(Throwable cause);
    }

    private static final Object EOF = new Object();

    /** Pump/drain threads alive now, in all loops (for leak checks). */
    private static final java.util.concurrent.atomic.AtomicInteger LIVE = new java.util.concurrent.atomic.AtomicInteger();

    private final TulipLoop loop;
    private final OutputStream out;
    private final Sink sink;
    private final String name;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    /** Bytes queued and not yet written; the drain thread decrements it. */
    private final AtomicLong buffered = new AtomicLong();
    private volatile long low = 16 * 1024;
    private long high = 64 * 1024;
    private Thread drain;
    // Loop thread state.
    private boolean protocolPaused;
    private boolean eofWritten;
    private boolean closing;
    private boolean done;

    /**
     * @param loop the loop
     * @param out  the stream (blocking)
     * @param sink flow-control and end notifications
     * @param name the drain thread's name
     */
    public ThreadPipeWriter(TulipLoop loop, OutputStream out, Sink sink, String name) {
        this.loop = loop;
        this.out = out;
        this.sink = sink;
        this.name = name;
    }

    /** Starts the drain thread. */
    public void start() {
        drain = Thread.ofVirtual().name(name).start(this::drainLoop);
    }

    /** How many of these threads are alive now (a leak check for tests). */
    public static int liveThreads() {
        return LIVE.get();
    }

    private void drainLoop() {
        LIVE.incrementAndGet();
        try {
            drainLoopBody();
        } finally {
            LIVE.decrementAndGet();
        }
    }

    private void drainLoopBody() {
        Throwable failure = null;
        try {
            while (true) {
                Object item = queue.take();
                if (item == EOF) {
                    break;
                }
                byte[] chunk = (byte[]) item;
                out.write(chunk);
                if (queue.isEmpty()) {
                    out.flush();
                }
                long before = buffered.getAndAdd(-chunk.length);
                if (before > low && before - chunk.length <= low) {
                    post(this::maybeResume);
                }
            }
        } catch (InterruptedException e) {
            return; // aborted: abort() reports
        } catch (IOException e) {
            failure = e;
        }
        try {
            out.close();
        } catch (IOException e) {
            if (failure == null) {
                failure = e;
            }
        }
        Throwable cause = failure;
        post(() -> finish(cause));
    }

    private void post(Runnable r) {
        try {
            loop.callSoonThreadsafe(r);
        } catch (IllegalStateException loopClosed) {
            // the loop is gone; nobody to tell
        }
    }

    private void maybeResume() {
        if (protocolPaused && !done && buffered.get() <= low) {
            protocolPaused = false;
            sink.resumeWriting();
        }
    }

    private void finish(Throwable cause) {
        if (done) {
            return;
        }
        done = true;
        closing = true;
        queue.clear();
        buffered.set(0);
        sink.closed(cause);
    }

    @Override
    public void write(ByteBuffer data) {
        if (closing || eofWritten) {
            throw new IllegalStateException(closing ? "pipe transport is closing" : "write after writeEof");
        }
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        byte[] copy = new byte[n];
        data.get(copy);
        buffered.addAndGet(n);
        queue.add(copy);
        if (!protocolPaused && buffered.get() > high) {
            protocolPaused = true;
            sink.pauseWriting();
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
        if (closing || eofWritten) {
            return;
        }
        eofWritten = true;
        queue.add(EOF);
    }

    @Override
    public boolean canWriteEof() {
        return true;
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (!eofWritten) {
            eofWritten = true;
            queue.add(EOF);
        }
    }

    @Override
    public void abort() {
        if (done) {
            return;
        }
        closing = true;
        queue.clear();
        if (drain != null) {
            drain.interrupt();
        }
        try {
            out.close();
        } catch (IOException ignored) {
            // dropping the data is the point of abort
        }
        done = true;
        buffered.set(0);
        loop.callSoonSystem(() -> sink.closed(null));
    }

    @Override
    public boolean isClosing() {
        return closing;
    }

    @Override
    public void setWriteBufferLimits(int highMark, int lowMark) {
        if (highMark < 0 || lowMark < 0 || lowMark > highMark) {
            throw new IllegalArgumentException("need 0 <= low <= high, got high=" + highMark + " low=" + lowMark);
        }
        high = highMark;
        low = lowMark;
        if (!protocolPaused && buffered.get() > high) {
            protocolPaused = true;
            sink.pauseWriting();
        } else {
            maybeResume();
        }
    }

    @Override
    public long writeBufferSize() {
        return buffered.get();
    }

    @Override
    public TransportInfo info() {
        return TransportInfo.plain(null, null, null);
    }

    @Override
    public String toString() {
        return "ThreadPipeWriter[" + name + ", buffered=" + buffered.get() + (closing ? ", closing" : "") + "]";
    }
}
