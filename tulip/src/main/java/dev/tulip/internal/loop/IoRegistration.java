package dev.tulip.internal.loop;

/**
 * One channel watched by an {@link IoBackend}. It is also the ready-queue entry for that channel's readiness events,
 * so an event costs no allocation.
 *
 * <p>Loop thread only.
 */
public abstract class IoRegistration extends Callback {
    protected final IoHandler handler;
    /** Set by the backend before enqueueing. */
    protected int readyOps;

    protected IoRegistration(IoHandler handler, ScopeImpl scope) {
        super(scope);
        this.handler = handler;
    }

    /** Changes the interest set (no system call if unchanged). */
    public abstract void interestOps(int ops);

    /** The current interest set. */
    public abstract int interestOps();

    /** Stops watching; idempotent. Does not close the channel. */
    public abstract void deregister();

    /** Whether still registered. */
    public abstract boolean isRegistered();

    @Override
    protected void fire() throws Exception {
        handler.ioReady(readyOps);
    }

    @Override
    public void cancel() {
        cancelled = true;
        deregister();
    }

    @Override
    protected Object describe() {
        return handler;
    }
}
