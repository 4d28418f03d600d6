package dev.tulip.internal.tls;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;

/**
 * Per-thread pools of the TLS layer's working buffers. A TLS connection holds its record and plaintext buffers only
 * while bytes are in them (a partial record, plaintext the app has not taken), so an idle connection costs no
 * buffer memory and thousands of connections on one loop share a handful of buffers.
 *
 * <p>Each loop thread has its own pools (the TLS layer runs on its loop thread only), so no locking.
 */
final class TlsBuffers {
    private static final ThreadLocal<TlsBuffers> LOCAL = ThreadLocal.withInitial(TlsBuffers::new);
    /** Buffers kept per size; more are left to the garbage collector. */
    private static final int MAX_POOLED = 32;

    private final HashMap<Integer, ArrayDeque<ByteBuffer>> pools = new HashMap<>();

    private TlsBuffers() {
    }

    /** A cleared heap buffer of exactly {@code capacity} bytes. */
    static ByteBuffer acquire(int capacity) {
        ArrayDeque<ByteBuffer> pool = LOCAL.get().pools.get(capacity);
        ByteBuffer b = pool == null ? null : pool.pollLast();
        return b != null ? b.clear() : ByteBuffer.allocate(capacity);
    }

    /** Gives a buffer back; the caller must drop every reference to it. */
    static void release(ByteBuffer b) {
        ArrayDeque<ByteBuffer> pool = LOCAL.get().pools.computeIfAbsent(b.capacity(), k -> new ArrayDeque<>());
        if (pool.size() < MAX_POOLED) {
            pool.addLast(b);
        }
    }
}
