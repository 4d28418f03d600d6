package dev.tulip.internal.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Callbacks handed to the loop by other threads: an intrusive multi-producer single-consumer linked queue (Dmitry
 * Vyukov's), whose nodes are the handles themselves, so a cross-thread call allocates nothing but its handle.
 * Producers swap the tail (one atomic exchange, never a retry) and then link the previous node; the loop thread
 * walks from the head. Order is FIFO per producer.
 *
 * <p>{@link #offer} any thread; {@link #poll}, {@link #clear} loop thread only; {@link #isEmpty} any thread.
 */
final class Inbox extends InboxPad {
    /** A handle that can sit in the inbox. */
    static final class Node extends CallbackHandle {
        /** Set once by the producer that enqueued the next node; read by the consumer. */
        volatile Node next;

        Node(ScopeImpl scope, Runnable callback) {
            super(scope, callback);
        }
    }

    private static final VarHandle TAIL;
    private static final VarHandle NEXT;

    static {
        try {
            TAIL = MethodHandles.lookup().findVarHandle(Inbox.class, "tail", Node.class);
            NEXT = MethodHandles.lookup().findVarHandle(Node.class, "next", Node.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The last node offered. Producers exchange it. */
    @SuppressWarnings("unused") // through TAIL
    private volatile Node tail = head;

    /** Appends {@code n}. Any thread. */
    void offer(Node n) {
        Node prev = (Node) TAIL.getAndSet(this, n);
        // Between the exchange and this store the queue is briefly "broken": poll() sees no next node yet and
        // reports empty, while isEmpty() (which reads the tail) does not. The loop then polls again without blocking
        // (TulipLoop.poll re-checks isEmpty before it sleeps), so the node is picked up on the next pass.
        NEXT.setRelease(prev, n); // release is enough: the exchange above is the sequentially consistent step
    }

    /** Removes the oldest linked node, or returns null. Loop thread only. */
    Node poll() {
        Node next = head.next;
        if (next == null) {
            return null;
        }
        // The old head is garbage now. Unlink it anyway: if it was promoted to the old generation, its link would keep
        // every later node alive until a full GC (the nepotism LinkedBlockingQueue suffered from).
        NEXT.setRelease(head, null);
        head = next;      // the returned node becomes the stub; it has run (or will) and is never offered again
        return next;
    }

    /** Whether nothing was offered that the consumer has not taken. Any thread (exact only on the loop thread). */
    boolean isEmpty() {
        return tail == head;
    }

    /** Drops everything linked so far. Loop thread only. */
    void clear() {
        while (poll() != null) {
            // drop
        }
    }
}

/** The consumer's side of the {@link Inbox}, first in the object layout (superclass fields come first). */
abstract class InboxHead {
    /** The last node consumed (or the initial stub): the consumer's position. Loop thread only. */
    Inbox.Node head = new Inbox.Node(null, null);
}

/**
 * Keeps the inbox's tail, which every producer exchanges, off the cache line of its head, which the loop writes on
 * every poll: sharing one line made each cross-thread call pay a cache miss.
 */
abstract class InboxPad extends InboxHead {
    long p01, p02, p03, p04, p05, p06, p07, p08, p09, p10, p11, p12, p13, p14, p15, p16;
}
