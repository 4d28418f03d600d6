package dev.tulip;

import dev.tulip.internal.loop.TulipLoop;

/** Test helper: internal checks on the loop. */
final class TulipLoopAccess {
    private TulipLoopAccess() {
    }

    static void checkOwned(EventLoop loop) {
        TulipLoop l = (TulipLoop) loop;
        l.checkThread();
        if (!l.isOwnedByCurrentThread()) {
            throw new AssertionError("the task body does not own the loop");
        }
        l.callSoon(() -> { });
    }
}
