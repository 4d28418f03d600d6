package dev.tulip.internal.loop;

import dev.tulip.Future;
import java.util.function.Consumer;

/**
 * A future's done callback, registered with the scope current when it was added. It is its own ready-queue entry, so
 * completing a future allocates nothing beyond the registration.
 *
 * <p>Loop thread only.
 */
public final class DoneCallback extends Callback {
    private final Future<?> future;
    private final Consumer<?> callback;

    DoneCallback(ScopeImpl scope, Future<?> future, Consumer<?> callback) {
        super(scope);
        this.future = future;
        this.callback = callback;
    }

    /** The future this callback watches. */
    public Future<?> future() {
        return future;
    }

    /** The user's callback, for removeDoneCallback. */
    public Consumer<?> callback() {
        return callback;
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    protected void fire() {
        ((Consumer) callback).accept(future);
    }

    @Override
    protected Object describe() {
        return callback + " on " + future;
    }
}
