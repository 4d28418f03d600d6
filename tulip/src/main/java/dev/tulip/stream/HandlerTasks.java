package dev.tulip.stream;

import dev.tulip.Future;
import dev.tulip.internal.loop.TulipLoop;
import java.util.concurrent.Callable;

/** Runs connection handlers as tasks. Loop thread only. */
final class HandlerTasks {
    private HandlerTasks() {
    }

    static Future<Void> spawn(TulipLoop loop, Callable<Void> body) {
        throw new UnsupportedOperationException("connection handlers need tasks (issue 3), not merged yet");
    }
}
