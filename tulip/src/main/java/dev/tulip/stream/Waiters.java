package dev.tulip.stream;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import java.util.ArrayList;

/**
 * Any number of tasks waiting for one condition (drain, closed). Each waiter gets its own future, so cancelling one
 * waiting task cancels only its own future and never disturbs the others (cpython #74116 cannot happen).
 *
 * <p>Loop thread only.
 */
final class Waiters {
    private final ArrayList<Future<Void>> waiting = new ArrayList<>(2);

    /** Suspends the calling task until {@link #wakeAll()}; a cancellation point. */
    void await(EventLoop loop) {
        Future<Void> f = new Future<>(loop);
        waiting.add(f);
        try {
            f.await();
        } finally {
            // Removing a cancelled waiter keeps the list bounded when tasks cancel their waits over and over.
            if (!f.isDone() || f.isCancelled()) {
                waiting.remove(f);
            }
        }
    }

    void wakeAll() {
        if (waiting.isEmpty()) {
            return;
        }
        Object[] all = waiting.toArray();
        waiting.clear();
        for (Object o : all) {
            @SuppressWarnings("unchecked") Future<Void> f = (Future<Void>) o;
            if (!f.isDone()) {
                f.setResult(null);
            }
        }
    }

    int size() {
        return waiting.size();
    }
}
