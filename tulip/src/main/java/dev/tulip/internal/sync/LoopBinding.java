package dev.tulip.internal.sync;

import dev.tulip.internal.loop.TulipLoop;

/**
 * The event loop a synchronization primitive belongs to, bound lazily on first use (as asyncio's
 * {@code _LoopBoundMixin} does), and the thread checks every public operation makes.
 *
 * <p>A primitive may be created anywhere (a field initializer, a constructor on the main thread); it binds to the
 * loop running on the thread that first uses it. From then on, waiting on another loop throws, and in debug mode
 * every operation from a thread that does not hold the loop while it runs throws.
 *
 * <p>Loop thread only; {@link #loop} is written once, by the loop thread.
 */
public final class LoopBinding {
    private final String what;
    private TulipLoop loop;

    /**
     * Creates an unbound binding.
     *
     * @param what the primitive's type name, for messages ("Lock", "Queue")
     */
    public LoopBinding(String what) {
        this.what = what;
    }

    /** The bound loop, or null while unbound. */
    public TulipLoop loop() {
        return loop;
    }

    /**
     * The check at the start of every operation: binds to the running loop if still unbound; in debug mode fails if
     * another loop runs on this thread, or if the bound loop is running and the calling thread does not hold it. Returns the bound loop (null if none yet).
     */
    public TulipLoop check() {
        TulipLoop l = loop;
        if (l == null) {
            l = TulipLoop.currentOrNull();
            loop = l;
            return l;
        }
        if (l.isDebug()) {
            checkOwnedByCurrentThread(l);
        }
        return l;
    }

    /**
     * The loop of the task about to wait in {@code what.op()}: the current thread must run this primitive's loop
     * and be inside a task (callbacks cannot wait).
     *
     * @throws IllegalStateException naming the misuse
     */
    public TulipLoop forWaiting(String op) {
        TulipLoop current = TulipLoop.currentOrNull();
        if (current == null) {
            throw new IllegalStateException(what + "." + op + "() has to wait, and only a task running on an event "
                    + "loop can wait; thread '" + Thread.currentThread().getName() + "' runs no event loop "
                    + "(sync primitives are loop thread only)");
        }
        TulipLoop l = loop;
        if (l == null) {
            loop = current;
        } else if (l != current) {
            throw new IllegalStateException(what + " is bound to a different event loop (" + l + ") than the one "
                    + "running on this thread (" + current + ")");
        }
        if (current.currentTask() == null) {
            throw new IllegalStateException(what + "." + op + "() has to wait, and only a task can wait: it was "
                    + "called from a callback on the event loop thread (use the non-waiting variant there)");
        }
        return current;
    }

    private void checkOwnedByCurrentThread(TulipLoop l) {
        // As the loop's own checkThread(): while the loop runs, only the thread holding it (the loop thread, or the
        // task body holding it) may touch the primitive. An idle loop is nobody's: setup and inspection are fine.
        TulipLoop current = TulipLoop.currentOrNull();
        if (current != null && current != l) {
            throw new IllegalStateException(what + " is bound to a different event loop (" + l + ") than the one "
                    + "running on this thread (" + current + ")");
        }
        if (l.isRunning() && !l.isOwnedByCurrentThread()) {
            throw new IllegalStateException(what + " used from thread '" + Thread.currentThread().getName()
                    + "', which does not run its event loop " + l + ": sync primitives are loop thread only "
                    + "(hand work to the loop with callSoonThreadsafe)");
        }
    }

    @Override
    public String toString() {
        return what;
    }
}
