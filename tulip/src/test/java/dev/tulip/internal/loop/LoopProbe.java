package dev.tulip.internal.loop;

import dev.tulip.EventLoop;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Test helper: waits, from another thread, until a loop is asleep in its backend, so a test can show what waking a
 * sleeping loop costs without guessing with a pause how long the loop takes to get there.
 */
public final class LoopProbe {
    private LoopProbe() {
    }

    /**
     * Waits until {@code loopThread}, running {@code loop}, has announced that it sleeps and is inside its backend's
     * poll. The caller must not have offered the loop anything since it last ran: then the loop's re-check of its
     * inbox found nothing, and that poll blocks until a wake-up. Fails after 20 s with the loop thread's stack.
     */
    public static void awaitAsleep(EventLoop loop, Thread loopThread) throws InterruptedException {
        AtomicBoolean sleeping = sleepingFlag((TulipLoop) loop);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!(sleeping.get() && inBackendPoll(loopThread))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the loop did not block in its backend within 20 s (sleeping="
                        + sleeping.get() + "), its stack: " + Arrays.toString(loopThread.getStackTrace()));
            }
            Thread.sleep(1);
        }
    }

    private static AtomicBoolean sleepingFlag(TulipLoop loop) {
        try {
            Field f = TulipLoop.class.getDeclaredField("sleeping");
            f.setAccessible(true);
            return (AtomicBoolean) f.get(loop);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("TulipLoop's sleep announcement is no longer the field 'sleeping'", e);
        }
    }

    private static boolean inBackendPoll(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getMethodName().equals("poll") && isBackend(e.getClassName())) {
                return true;
            }
        }
        return false;
    }

    private static boolean isBackend(String className) {
        try {
            return IoBackend.class.isAssignableFrom(Class.forName(className, false, IoBackend.class.getClassLoader()));
        } catch (ClassNotFoundException e) {
            return false; // a hidden class (a lambda) or one this loader cannot see: not a backend
        }
    }
}
