package dev.tulip.internal.net;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * A loop's pool of fixed-size direct chunks that stream transports keep large write remainders in.
 *
 * <p>Why: a remainder kept in a heap chunk costs three passes over the bytes (zeroing the new array, copying into
 * it, and the JDK copying it again into a temporary direct buffer when the chunk is written); in a pooled direct
 * chunk it costs one copy and no allocation. Small remainders still go to heap chunks: a pooled chunk pins
 * {@link #CHUNK} bytes of native memory whatever it holds, and thousands of idle connections with a few queued bytes
 * each must not pin gigabytes.
 *
 * <p>Bounded: at most {@link #MAX_LIVE} chunks exist per loop (16 MiB by default, {@code -Dtulip.directChunks}
 * sets the count); when they are all in use {@link #take()} returns null and the caller falls back to a heap chunk.
 * Chunks go back to the free list when flushed or when their transport closes; the free list is never trimmed
 * (it cannot exceed the bound) and is collected with the loop.
 *
 * <p>Loop thread only.
 */
final class DirectChunks {
    /** Size of one chunk. */
    static final int CHUNK = 64 * 1024;
    /** Remainders at least this large go to direct chunks. */
    static final int THRESHOLD = 8 * 1024;
    /** Most chunks alive per loop. */
    static final int MAX_LIVE = Math.max(0, Integer.getInteger("tulip.directChunks", 256));

    private final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    private int live;

    /** A cleared chunk, or null when {@link #MAX_LIVE} chunks are already in use. */
    ByteBuffer take() {
        ByteBuffer b = free.pollLast();
        if (b != null) {
            return b.clear();
        }
        if (live >= MAX_LIVE) {
            return null;
        }
        live++;
        return ByteBuffer.allocateDirect(CHUNK);
    }

    /** Returns a chunk that {@link #take()} gave out. */
    void give(ByteBuffer chunk) {
        free.addLast(chunk);
    }

    /** Whether {@code b} is one of this pool's chunks (heap chunks never are). */
    static boolean isChunk(ByteBuffer b) {
        return b.isDirect();
    }

    /** Chunks allocated so far (test hook). */
    int live() {
        return live;
    }

    /** Chunks on the free list (test hook). */
    int free() {
        return free.size();
    }
}
