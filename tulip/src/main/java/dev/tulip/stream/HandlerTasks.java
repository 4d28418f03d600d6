package dev.tulip.stream;

import dev.tulip.Future;
import dev.tulip.internal.loop.TulipLoop;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;

/** Runs connection handlers as tasks. Loop thread only. */
final class HandlerTasks {
    /** TEMPORARY until tasks (issue 3) is merged: tests install a stand-in engine here. */
    static volatile BiFunction<TulipLoop, Callable<Void>, Future<Void>> spawner;

    private HandlerTasks() {
    }

    static Future<Void> spawn(TulipLoop loop, Callable<Void> body) {
        BiFunction<TulipLoop, Callable<Void>, Future<Void>> s = spawner;
        if (s == null) {
            throw new UnsupportedOperationException("connection handlers need tasks (issue 3), not merged yet");
        }
        return s.apply(loop, body);
    }
}
