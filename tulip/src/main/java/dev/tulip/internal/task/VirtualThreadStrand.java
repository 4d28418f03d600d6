package dev.tulip.internal.task;

import java.util.concurrent.locks.LockSupport;

/**
 * A strand on its own virtual thread with a strict hand-off: the resuming thread unparks the body and parks until the
 * body suspends or ends, and the other way round. {@link #turn} is the baton: a volatile write by the side giving
 * control, a volatile read by the side taking it, so each hand-off is a happens-before edge and both sides never run
 * at once. Spurious wake-ups just re-check the baton.
 *
 * <p>Loop side and body side as documented on {@link Strand}.
 */
final class VirtualThreadStrand extends Strand {
    private static final int CALLER = 0;
    private static final int BODY = 1;
    private static final int DONE = 2;
    /** Spin iterations of a platform thread waiting for the body before it parks (tulip.task.spins). */
    private static final int SPINS = Integer.getInteger("tulip.task.spins", 0);

    private final Thread thread;
    /** Who holds control: CALLER, BODY, or DONE once the body finished. */
    private volatile int turn = CALLER;
    /** The thread that called resume() last (the loop thread, or a task body starting an eager task). */
    private volatile Thread caller;
    private boolean started;

    VirtualThreadStrand(Runnable body, String name) {
        this.thread = Thread.ofVirtual().name(name).unstarted(() -> {
            while (turn != BODY) {
                LockSupport.park(this);
            }
            try {
                body.run();
            } finally {
                turn = DONE;
                LockSupport.unpark(caller);
            }
        });
    }

    @Override
    public void resume() {
        Thread me = Thread.currentThread();
        caller = me;
        turn = BODY;
        if (!started) {
            started = true;
            thread.start();
        } else {
            LockSupport.unpark(thread);
        }
        if (!me.isVirtual()) {
            // A platform loop thread that parks costs an OS sleep and wake-up per await; most task steps are short,
            // so wait for the body briefly before parking. A virtual loop thread parks at once: that frees its
            // carrier to run the body.
            for (int i = 0; i < SPINS && turn == BODY; i++) {
                Thread.onSpinWait();
            }
        }
        while (turn == BODY) {
            LockSupport.park(this);
        }
    }

    @Override
    public void suspend() {
        turn = CALLER;
        LockSupport.unpark(caller);
        while (turn != BODY) {
            LockSupport.park(this);
        }
    }

    @Override
    public boolean isDone() {
        return turn == DONE;
    }

    @Override
    public StackTraceElement[] stackTrace() {
        return started && turn == CALLER ? thread.getStackTrace() : new StackTraceElement[0];
    }

    @Override
    public Thread bodyThread() {
        return thread;
    }
}
