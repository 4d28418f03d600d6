package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Interrupting the loop thread stops the loop (no spin) and leaves the interrupt flag set for the caller. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class LoopInterruptTest {

    @Test
    void interruptStopsRunForeverAndIsReasserted() throws Exception {
        EventLoop loop = EventLoop.create();
        CountDownLatch running = new CountDownLatch(1);
        AtomicBoolean flagAfter = new AtomicBoolean();
        Thread t = Thread.ofPlatform().start(() -> {
            loop.callSoon(running::countDown);
            loop.runForever();
            flagAfter.set(Thread.interrupted());
            loop.close();
        });
        assertTrue(running.await(10, TimeUnit.SECONDS));
        t.interrupt();
        t.join(10_000);
        assertFalse(t.isAlive(), "runForever did not return after an interrupt");
        assertTrue(flagAfter.get(), "the interrupt flag must be restored for the caller");
        assertTrue(loop.isClosed());
    }
}
