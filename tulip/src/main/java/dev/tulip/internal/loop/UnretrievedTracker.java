package dev.tulip.internal.loop;

import dev.tulip.ExceptionContext;
import java.lang.ref.Cleaner;

/**
 * Debug mode: reports a future's exception that nobody retrieved, when the future is garbage collected (asyncio's
 * "Future exception was never retrieved"). The cleaning action holds no reference to the future.
 *
 * <p>{@link #retrieved()} is called on the loop thread; the cleaner runs on its own thread and hands the report to
 * the loop through {@code callSoonThreadsafe} (or logs directly if the loop is closed).
 */
public final class UnretrievedTracker implements Runnable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final TulipLoop loop;
    private final Throwable exception;
    private final String what;
    private volatile boolean retrieved;

    private UnretrievedTracker(TulipLoop loop, Throwable exception, String what) {
        this.loop = loop;
        this.exception = exception;
        this.what = what;
    }

    /** Starts tracking {@code future}'s exception. */
    public static UnretrievedTracker track(Object future, TulipLoop loop, Throwable exception) {
        UnretrievedTracker t = new UnretrievedTracker(loop, exception,
                future.getClass().getSimpleName() + "@" + Integer.toHexString(System.identityHashCode(future)));
        CLEANER.register(future, t);
        return t;
    }

    /** The exception was seen by someone: nothing to report. */
    public void retrieved() {
        retrieved = true;
    }

    @Override
    public void run() {
        if (retrieved) {
            return;
        }
        ExceptionContext ctx = ExceptionContext.of(what + " exception was never retrieved", exception);
        try {
            loop.callSoonThreadsafe(() -> loop.callExceptionHandler(ctx));
        } catch (IllegalStateException closed) {
            loop.defaultExceptionHandler(ctx);
        }
    }
}
