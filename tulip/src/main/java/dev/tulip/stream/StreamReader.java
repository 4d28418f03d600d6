package dev.tulip.stream;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.ReadTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletionException;

/**
 * The reading half of a stream connection: awaitable reads of bytes, lines and separated records from a buffer the
 * transport fills (asyncio's {@code StreamReader}).
 *
 * <p>Data types: every read returns a fresh {@code byte[]} that the caller owns. {@link #readLine(Charset)} is the
 * text helper (decodes one line, without its terminator). Bytes are copied once from the transport into the reader's
 * buffer and once out of it into the returned array.
 *
 * <p>Waiting: a read that can be satisfied from the buffered bytes returns at once without suspending; otherwise it
 * suspends the calling task until enough data, EOF or an error arrives. Every such method is a
 * <em>cancellation point</em>: cancelling the task makes it throw {@link java.util.concurrent.CancellationException}
 * and <em>consumes nothing</em> (bytes are taken from the buffer only when a read completes), so the next read sees
 * every byte. Only one task may wait on a reader at a time; a second gets {@link IllegalStateException}.
 *
 * <p>Limit and flow control: the reader buffers at most about {@link #limit()} bytes (default 64 KiB) on its own:
 * when the buffer grows past the limit it pauses the transport ({@code pauseReading}, so the kernel and TCP slow the
 * peer down) and resumes it when the buffer drains to half the limit, or whenever a read waits for more data (a read
 * never deadlocks on its own pause). The limit also bounds separator-based reads ({@link #readUntil}, {@link
 * #readLine()}): a record longer than the limit throws {@link LimitOverrunException} and leaves the buffer
 * untouched, so the caller may {@link #setLimit grow the limit} and retry, or skip the record. {@link #readExactly}
 * and {@link #readAll()} are not bounded by the limit (the caller chose the size).
 *
 * <p>Errors: if the connection fails, bytes that arrived before the failure are still returned; a read that needs
 * more than the buffer holds then throws the failure ({@link UncheckedIOException} for an {@link IOException}).
 *
 * <p>Compared with asyncio: the limit is adjustable and an overrun never drops data; {@code readLine()} overruns the
 * same way as {@code readUntil}; {@code readAll()} is cancellation-safe (nothing is consumed until EOF).
 *
 * <p>Threading: loop thread only (reads from task bodies running on the loop).
 */
public final class StreamReader {
    /** The default {@link #limit()}: 64 KiB. */
    public static final int DEFAULT_LIMIT = 64 * 1024;
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] NEWLINE = {'\n'};
    private static final int INITIAL_CAPACITY = 16 * 1024;

    private final TulipLoop loop;
    private int limit;
    /** Buffered bytes are buf[head, tail). */
    private byte[] buf = EMPTY;
    private int head;
    private int tail;
    private boolean eof;
    /** The connection failure, or null. Reported once the buffered bytes cannot satisfy a read. */
    private Throwable failure;
    /** The future the one waiting read awaits, or null when no read waits. Non-null for the whole wait. */
    private Future<Void> waiter;
    private ReadTransport transport;
    /** Whether this reader paused the transport (so only it resumes it). */
    private boolean paused;
    /** Bytes consumed so far: lets a waiting separator search notice that another task consumed meanwhile. */
    private long consumedTotal;

    StreamReader(EventLoop loop, int limit) {
        this.loop = (TulipLoop) Objects.requireNonNull(loop, "loop");
        this.limit = checkLimit(limit);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Public reads
    // ------------------------------------------------------------------------------------------------------------

    /**
     * Reads up to {@code n} bytes: what is buffered (at most {@code n}), waiting for at least one byte if the buffer
     * is empty. A cancellation point when it waits.
     *
     * @param n the most bytes to return, at least 0
     * @return 1 to {@code n} bytes; an empty array at EOF (or if {@code n} is 0)
     * @throws IllegalArgumentException if n is negative (use {@link #readAll()} to read to EOF)
     * @throws IllegalStateException    if another task is already waiting on this reader, or if called on the loop
     *                                  thread outside a task while it would have to wait
     * @throws UncheckedIOException     if the connection failed and nothing is buffered
     */
    public byte[] read(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("read(n) needs n >= 0, got " + n + ": use readAll() to read to EOF");
        }
        loop.checkThread();
        if (n == 0) {
            return EMPTY;
        }
        while (tail == head) {
            if (failure != null) {
                throw rethrow(failure);
            }
            if (eof) {
                return EMPTY;
            }
            waitForData("read");
        }
        return take(Math.min(n, tail - head));
    }

    /**
     * Reads exactly {@code n} bytes, waiting as long as needed. A cancellation point when it waits.
     *
     * @param n how many bytes, at least 0 (may exceed the limit)
     * @return exactly n bytes
     * @throws IncompleteReadException  if EOF comes first; it carries the bytes that arrived (now consumed)
     * @throws IllegalArgumentException if n is negative
     * @throws IllegalStateException    if another task is already waiting on this reader
     * @throws UncheckedIOException     if the connection failed before n bytes arrived
     */
    public byte[] readExactly(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("readExactly(n) needs n >= 0, got " + n);
        }
        loop.checkThread();
        while (tail - head < n) {
            if (failure != null) {
                throw rethrow(failure);
            }
            if (eof) {
                throw new IncompleteReadException(take(tail - head), n);
            }
            waitForData("readExactly");
        }
        return take(n);
    }

    /**
     * Reads one line: the bytes up to and including {@code '\n'}. At EOF the last, unterminated line is returned
     * as is, and then an empty array. A cancellation point when it waits.
     *
     * @return the line with its {@code '\n'} (and {@code '\r'} if any); an empty array at EOF
     * @throws LimitOverrunException if the line is longer than the limit; nothing is consumed
     * @throws IllegalStateException if another task is already waiting on this reader
     * @throws UncheckedIOException  if the connection failed before a complete line arrived
     */
    public byte[] readLine() {
        try {
            return readUntil(NEWLINE);
        } catch (IncompleteReadException e) {
            return e.partial();
        }
    }

    /**
     * Reads one line and decodes it, without its terminator ({@code "\n"} or {@code "\r\n"}), as
     * {@link java.io.BufferedReader#readLine()} does. A cancellation point when it waits.
     *
     * @param charset how the line is encoded
     * @return the line, or null at EOF (an unterminated last line is returned first)
     * @throws LimitOverrunException if the line is longer than the limit; nothing is consumed
     * @throws IllegalStateException if another task is already waiting on this reader
     * @throws UncheckedIOException  if the connection failed before a complete line arrived
     */
    public String readLine(Charset charset) {
        Objects.requireNonNull(charset, "charset");
        byte[] line = readLine();
        int len = line.length;
        if (len == 0) {
            return null;
        }
        if (line[len - 1] == '\n') {
            len--;
            if (len > 0 && line[len - 1] == '\r') {
                len--;
            }
        }
        return new String(line, 0, len, charset);
    }

    /**
     * Reads up to and including {@code separator}. A cancellation point when it waits.
     *
     * @param separator a non-empty byte sequence
     * @return the record, ending with the separator
     * @throws LimitOverrunException   if no separator is found within the limit, or the record before it is longer
     *                                 than the limit; nothing is consumed
     * @throws IncompleteReadException if EOF comes before a separator; it carries the remaining bytes (consumed)
     * @throws IllegalStateException   if another task is already waiting on this reader
     * @throws UncheckedIOException    if the connection failed before a separator arrived
     */
    public byte[] readUntil(byte[] separator) {
        return readUntil(new byte[][] {separator});
    }

    /**
     * Reads up to and including the first of several separators: the shortest record that ends with any of them
     * (asyncio 3.13's tuple form). A cancellation point when it waits.
     *
     * @param separators one or more non-empty byte sequences
     * @return the record, ending with the separator that matched
     * @throws IllegalArgumentException if no separator is given or one is empty
     * @throws LimitOverrunException    as {@link #readUntil(byte[])}; nothing is consumed
     * @throws IncompleteReadException  if EOF comes before any separator; it carries the remaining bytes (consumed)
     * @throws IllegalStateException    if another task is already waiting on this reader
     * @throws UncheckedIOException     if the connection failed before a separator arrived
     */
    public byte[] readUntil(byte[]... separators) {
        Objects.requireNonNull(separators, "separators");
        if (separators.length == 0) {
            throw new IllegalArgumentException("readUntil needs at least one separator");
        }
        int maxLen = 0;
        for (byte[] s : separators) {
            Objects.requireNonNull(s, "separator");
            if (s.length == 0) {
                throw new IllegalArgumentException("a separator must not be empty");
            }
            maxLen = Math.max(maxLen, s.length);
        }
        loop.checkThread();
        int from = 0; // offset (relative to head) where a match may still start: earlier offsets were searched
        long seen = consumedTotal;
        while (true) {
            if (consumedTotal != seen) {
                from = 0; // another task read while this one waited: the offsets moved, search again from the start
                seen = consumedTotal;
            }
            int avail = tail - head;
            int end = -1;
            int start = -1;
            for (byte[] s : separators) {
                int i = indexOf(s, head + from, tail);
                if (i >= 0 && (end < 0 || i - head + s.length < end)) {
                    start = i - head;
                    end = start + s.length;
                }
            }
            if (end >= 0) {
                if (start > limit) {
                    throw new LimitOverrunException("separator found, but the " + start
                            + "-byte record before it is longer than the limit (" + limit + ")", end, true);
                }
                return take(end);
            }
            from = Math.max(0, avail - maxLen + 1);
            if (from > limit) {
                throw new LimitOverrunException("no separator within the limit of " + limit + " bytes ("
                        + avail + " bytes buffered)", avail, false);
            }
            if (failure != null) {
                throw rethrow(failure);
            }
            if (eof) {
                throw new IncompleteReadException(take(avail), -1);
            }
            waitForData("readUntil");
        }
    }

    /**
     * Reads everything until EOF. Nothing is consumed until EOF arrives, so cancelling loses nothing; the buffer
     * grows beyond the limit as needed. A cancellation point when it waits.
     *
     * @return all remaining bytes (empty if already at EOF)
     * @throws IllegalStateException if another task is already waiting on this reader
     * @throws UncheckedIOException  if the connection failed before EOF (the buffered bytes stay readable)
     */
    public byte[] readAll() {
        loop.checkThread();
        while (!eof) {
            if (failure != null) {
                throw rethrow(failure);
            }
            waitForData("readAll");
        }
        if (failure != null && tail == head) {
            throw rethrow(failure);
        }
        return take(tail - head);
    }

    /**
     * Whether the stream is exhausted: EOF was received and every byte was read.
     *
     * @return true at EOF with an empty buffer
     */
    public boolean atEof() {
        return eof && tail == head;
    }

    /**
     * How many bytes are buffered now (a read of up to this many returns without waiting).
     *
     * @return the buffered byte count
     */
    public int buffered() {
        return tail - head;
    }

    /**
     * The limit: the most bytes buffered before the transport is paused, and the longest record a
     * separator-based read accepts.
     *
     * @return the limit in bytes
     */
    public int limit() {
        return limit;
    }

    /**
     * Changes the limit, for example after a {@link LimitOverrunException} to accept a longer record. Takes effect
     * at once (the transport is paused or resumed if the buffer is now above or below the new limit).
     *
     * @param limit the new limit, at least 1
     * @throws IllegalArgumentException if limit is not positive
     */
    public void setLimit(int limit) {
        loop.checkThread();
        this.limit = checkLimit(limit);
        updateFlow();
    }

    /**
     * The connection failure the reader saw, or null.
     *
     * @return the failure, or null (also null after a clean EOF)
     */
    public Throwable exception() {
        return failure;
    }

    @Override
    public String toString() {
        return "StreamReader[" + (tail - head) + " buffered, limit=" + limit + (eof ? ", eof" : "")
                + (failure != null ? ", failed: " + failure : "") + (paused ? ", paused" : "")
                + (waiter != null ? ", waiting" : "") + "]";
    }

    // ------------------------------------------------------------------------------------------------------------
    // Feeding (the protocol, loop thread)
    // ------------------------------------------------------------------------------------------------------------

    void setTransport(ReadTransport transport) {
        this.transport = transport;
        paused = false; // a new transport (startTls) starts reading; pause it again if the buffer is full
        updateFlow();
    }

    void feedData(ByteBuffer data) {
        int n = data.remaining();
        if (n == 0) {
            return;
        }
        if (eof) {
            throw new IllegalStateException("data received after EOF");
        }
        ensureSpace(n);
        data.get(buf, tail, n);
        tail += n;
        wakeWaiter();
        // While a read waits it decides (it needs the bytes); otherwise pause above the limit.
        if (waiter == null && !paused && tail - head > limit && transport != null) {
            paused = true;
            transport.pauseReading();
        }
    }

    void feedData(byte[] data) {
        feedData(ByteBuffer.wrap(data));
    }

    void feedEof() {
        eof = true;
        wakeWaiter();
    }

    void setFailure(Throwable cause) {
        failure = Objects.requireNonNull(cause, "cause");
        eof = true;
        wakeWaiter();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Internals
    // ------------------------------------------------------------------------------------------------------------

    /** Suspends the calling task until data, EOF or a failure arrives (or the task is cancelled: that throws). */
    private void waitForData(String what) {
        if (waiter != null) {
            throw new IllegalStateException(what + "() called while another task is already waiting for data on "
                    + "this reader: one reading task per stream");
        }
        if (paused) {
            // The reader needs more bytes than the limit lets it hold: reading must go on or it would never finish.
            paused = false;
            transport.resumeReading();
        }
        Future<Void> w = new Future<>(loop);
        waiter = w;
        try {
            w.await();
        } finally {
            waiter = null;
        }
    }

    private void wakeWaiter() {
        Future<Void> w = waiter;
        if (w != null && !w.isDone()) {
            w.setResult(null);
        }
    }

    /** Consumes {@code n} buffered bytes into a new array. */
    private byte[] take(int n) {
        if (n == 0) {
            return EMPTY;
        }
        byte[] out = Arrays.copyOfRange(buf, head, head + n);
        head += n;
        consumedTotal += n;
        if (head == tail) {
            head = 0;
            tail = 0;
            if (buf.length > Math.max(4 * INITIAL_CAPACITY, 2 * limit)) {
                buf = EMPTY; // a large read (readAll, readExactly) grew it: give the memory back
            }
        }
        updateFlow();
        return out;
    }

    private void updateFlow() {
        if (transport == null) {
            return;
        }
        int size = tail - head;
        if (paused && size <= limit / 2) {
            paused = false;
            transport.resumeReading();
        } else if (!paused && waiter == null && size > limit && !eof) {
            paused = true;
            transport.pauseReading();
        }
    }

    private void ensureSpace(int n) {
        if (buf.length - tail >= n) {
            return;
        }
        int size = tail - head;
        if (buf.length - size >= n && head >= size) {
            System.arraycopy(buf, head, buf, 0, size); // compact: cheaper than growing, and non-overlapping
        } else {
            long want = Math.max((long) size + n, Math.max(INITIAL_CAPACITY, 2L * buf.length));
            if (want > Integer.MAX_VALUE - 16) {
                if ((long) size + n > Integer.MAX_VALUE - 16) {
                    throw new OutOfMemoryError("stream reader buffer would exceed 2 GiB");
                }
                want = Integer.MAX_VALUE - 16;
            }
            byte[] nb = new byte[(int) want];
            System.arraycopy(buf, head, nb, 0, size);
            buf = nb;
        }
        head = 0;
        tail = size;
    }

    /** Index in buf of the first occurrence of sep starting at or after {@code from} and ending by {@code to}. */
    private int indexOf(byte[] sep, int from, int to) {
        byte[] b = buf;
        byte first = sep[0];
        int last = to - sep.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (b[i] != first) {
                continue;
            }
            for (int j = 1; j < sep.length; j++) {
                if (b[i + j] != sep[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static int checkLimit(int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive, got " + limit);
        }
        return limit;
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t instanceof IOException io) {
            return new UncheckedIOException(io.getMessage(), io);
        }
        return new CompletionException(t);
    }
}
