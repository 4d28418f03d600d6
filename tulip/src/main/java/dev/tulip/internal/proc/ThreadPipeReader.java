package dev.tulip.internal.proc;

import dev.tulip.ExceptionContext;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.ReadTransport;
import dev.tulip.transport.TransportInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;

/**
 * A {@link ReadTransport} over a blocking {@link InputStream} (a child's stdout/stderr, this JVM's stdin, any
 * stream): JDK process pipes are not selectable, so a virtual thread reads and hands each chunk to the loop through
 * {@code callSoonThreadsafe}.
 *
 * <p>Flow control by construction: the reader thread reads the next chunk only after the loop has delivered the
 * previous one and reading is not paused ({@link #permit}), so at most one chunk per pipe is ever in memory, and a
 * child that writes faster than the protocol reads is blocked by the kernel's pipe buffer. The chunk is delivered
 * straight from the thread's buffer (no copy): the permit hand-back is the happens-before edge that makes reusing
 * it safe.
 *
 * <p>Loop thread only (the pump runs on its own virtual thread and touches only {@link #buf}, {@link #permit} and
 * {@link #stopped}).
 */
public final class ThreadPipeReader implements ReadTransport {

    /** Where the bytes go. Loop thread. */
    public interface Sink {
        /** Bytes arrived (valid only during the call). */
        void data(ByteBuffer data);

        /** The stream ended (cause null) or failed. Called once. */
        void closed(Throwable cause);
    }

    private static final int CHUNK = 64 * 1024;

    /** Pump/drain threads alive now, in all loops (for leak checks). */
    private static final java.util.concurrent.atomic.AtomicInteger LIVE = new java.util.concurrent.atomic.AtomicInteger();

    private final TulipLoop loop;
    private final InputStream in;
    private final Sink sink;
    private final String name;
    private final byte[] buf = new byte[CHUNK];
    /** One permit = the pump may read the next chunk into {@link #buf}. */
    private final Semaphore permit = new Semaphore(0);
    private volatile boolean stopped;
    private Thread pump;
    // Loop thread state.
    private boolean paused;
    private int heldLength = -1;   // a chunk that arrived while paused
    private boolean permitOwed;    // the pump waits for a permit we held back while paused
    private boolean done;

    /**
     * @param loop the loop that receives the data
     * @param in   the stream (blocking)
     * @param sink where bytes and the end go
     * @param name the pump thread's name
     */
    public ThreadPipeReader(TulipLoop loop, InputStream in, Sink sink, String name) {
        this.loop = loop;
        this.in = in;
        this.sink = sink;
        this.name = name;
    }

    /** Starts the pump. Data arrives through the loop's thread-safe queue, so after anything scheduled before. */
    public void start() {
        pump = Thread.ofVirtual().name(name).start(this::pumpLoop);
        permit.release();
    }

    /** How many of these threads are alive now (a leak check for tests). */
    public static int liveThreads() {
        return LIVE.get();
    }

    private void pumpLoop() {
        LIVE.incrementAndGet();
        try {
            pumpLoopBody();
        } finally {
            LIVE.decrementAndGet();
        }
    }

    private void pumpLoopBody() {
        try {
            while (true) {
                permit.acquire();
                if (stopped) {
                    return;
                }
                int n = in.read(buf);
                if (n < 0) {
                    post(() -> finish(null));
                    return;
                }
                if (n == 0) {
                    permit.release();
                    continue;
                }
                post(() -> deliver(n));
            }
        } catch (InterruptedException e) {
            // stopped by close/abort
        } catch (IOException e) {
            if (!stopped) {
                post(() -> finish(e));
            }
        }
    }

    private void post(Runnable r) {
        try {
            loop.callSoonThreadsafe(r);
        } catch (IllegalStateException loopClosed) {
            stopped = true;
        }
    }

    private void deliver(int n) {
        if (done) {
            return;
        }
        if (paused) {
            heldLength = n;
            return;
        }
        try {
            sink.data(ByteBuffer.wrap(buf, 0, n));
        } catch (RuntimeException e) {
            loop.callExceptionHandler(new ExceptionContext("protocol failed receiving pipe data", e, null, null, this,
                    sink));
            abortWithCause(e);
            return;
        }
        if (paused) {
            permitOwed = true;
        } else if (!done) {
            permit.release();
        }
    }

    private void finish(Throwable cause) {
        if (done) {
            return;
        }
        if (paused && cause == null) {
            // EOF while paused: deliver it after resumeReading, in order.
            heldLength = -2;
            return;
        }
        done = true;
        stopped = true;
        sink.closed(cause);
    }

    @Override
    public void pauseReading() {
        paused = true;
    }

    @Override
    public void resumeReading() {
        if (!paused || done) {
            return;
        }
        paused = false;
        int held = heldLength;
        heldLength = -1;
        if (held >= 0) {
            loop.callSoonSystem(() -> deliver(held));
        } else if (held == -2) {
            loop.callSoonSystem(() -> finish(null));
        } else if (permitOwed) {
            permitOwed = false;
            permit.release();
        }
    }

    @Override
    public boolean isReading() {
        return !paused && !done;
    }

    /** Stops reading and closes the stream; the sink hears {@code closed(null)}. Idempotent. */
    @Override
    public void close() {
        abortWithCause(null);
    }

    private void abortWithCause(Throwable cause) {
        if (done) {
            return;
        }
        done = true;
        stopped = true;
        if (pump != null) {
            pump.interrupt();
        }
        permit.release();
        try {
            in.close();
        } catch (IOException ignored) {
            // closing a pipe we no longer read: nothing useful to report
        }
        loop.callSoonSystem(() -> sink.closed(cause));
    }

    @Override
    public boolean isClosing() {
        return done;
    }

    @Override
    public TransportInfo info() {
        return TransportInfo.plain(null, null, null);
    }

    @Override
    public String toString() {
        return "ThreadPipeReader[" + name + (done ? ", closed" : paused ? ", paused" : "") + "]";
    }
}
