package dev.tulip.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Scope;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Internal hooks of the loop: wake-up coalescing, scope restore, the system scope, close hooks. */
@Timeout(30)
class TulipLoopTest {

    @Test
    void aBusyLoopIsNeverWokenAndASleepingOneOncePerBatch() throws Exception {
        try (EventLoop el = EventLoop.create()) {
            TulipLoop loop = (TulipLoop) el;
            // The loop is busy (not in poll) while the producer runs: no wake-up at all.
            AtomicLong ran = new AtomicLong();
            Future<Void> done = el.createFuture();
            el.callSoon(() -> {
                Thread t = new Thread(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        el.callSoonThreadsafe(ran::incrementAndGet);
                    }
                });
                t.start();
                try {
                    t.join();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                el.callSoon(() -> done.setResult(null));
            });
            el.runUntilComplete(done);
            assertEquals(0, loop.wakeupCount(), "the loop was running callbacks: nobody needed to wake it");
            assertTrue(ran.get() > 0);
            // A sleeping loop gets exactly one wake-up for a burst. The producer starts once the loop is blocked in
            // its backend: a fixed pause was a guess that a loaded machine breaks (a loop not yet asleep takes the
            // burst with no wake-up; one re-checking its inbox while the first call is half-linked misses it,
            // announces a second sleep and can be woken twice). The burst's first callback then holds the loop
            // awake until everything is sent, so no later call finds it asleep.
            long before = loop.wakeupCount();
            Future<Void> burst = el.createFuture();
            CountDownLatch sent = new CountDownLatch(1);
            Thread loopThread = Thread.currentThread();
            AtomicReference<Throwable> producerFailed = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    LoopProbe.awaitAsleep(el, loopThread);
                } catch (Throwable e) {
                    producerFailed.set(e);
                    el.callSoonThreadsafe(() -> burst.setResult(null)); // let the test thread report it
                    return;
                }
                el.callSoonThreadsafe(() -> {
                    try {
                        sent.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                for (int i = 0; i < 1000; i++) {
                    el.callSoonThreadsafe(ran::incrementAndGet);
                }
                el.callSoonThreadsafe(() -> burst.setResult(null));
                sent.countDown();
            });
            t.start();
            el.runUntilComplete(burst);
            t.join();
            if (producerFailed.get() != null) {
                throw new AssertionError(producerFailed.get());
            }
            assertEquals(1, loop.wakeupCount() - before, "wake-ups of a loop that slept until a burst came");
            assertEquals(11_000, ran.get());
        }
    }

    @Test
    void scopeIsRestoredAfterACallbackThatSwitchedItOrThrew() {
        try (EventLoop el = EventLoop.builder().virtualTime(true).build()) {
            TulipLoop loop = (TulipLoop) el;
            el.setExceptionHandler((l, c) -> { });
            Scope child = el.rootScope().newChild("c");
            el.callSoon(() -> loop.swapScope((ScopeImpl) child)); // leaks a scope switch
            el.callSoon(() -> {
                throw new IllegalStateException("x");
            });
            List<Scope> seen = new ArrayList<>();
            el.callSoon(() -> seen.add(el.currentScope()));
            el.runOnce();
            assertEquals(List.of(el.rootScope()), seen);
            assertSame(el.rootScope(), el.currentScope());
        }
    }

    @Test
    void systemScopeRunsCleanupEvenFromACancelledScope() {
        try (EventLoop el = EventLoop.builder().virtualTime(true).build()) {
            TulipLoop loop = (TulipLoop) el;
            Scope child = el.rootScope().newChild("c");
            List<String> seen = new ArrayList<>();
            child.run(() -> {
                child.cancel();
                loop.callSoonSystem(() -> seen.add("cleanup in " + el.currentScope().name()));
            });
            el.runOnce();
            assertEquals(List.of("cleanup in system"), seen);
        }
    }

    @Test
    void closeHooksRunFirstAndWaitersAreReleased() throws Exception {
        EventLoop el = EventLoop.builder().virtualTime(true).build();
        TulipLoop loop = (TulipLoop) el;
        List<String> seen = new ArrayList<>();
        loop.addCloseHook(() -> seen.add("hook, loop current: " + (EventLoop.current() == el)));
        loop.addCloseHook(() -> {
            throw new IllegalStateException("a failing hook does not stop close");
        });
        el.setExceptionHandler((l, c) -> seen.add("reported: " + c.exception().getMessage()));
        java.util.concurrent.CountDownLatch latch = new java.util.concurrent.CountDownLatch(1);
        loop.registerForeignWaiter(latch);
        el.close();
        assertEquals(0, latch.getCount());
        assertEquals(List.of("hook, loop current: true", "reported: a failing hook does not stop close"), seen);
        try {
            loop.registerForeignWaiter(new java.util.concurrent.CountDownLatch(1));
            throw new AssertionError("registering on a closed loop must fail");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("closed"));
        }
    }

    @Test
    void aRegistrationWhoseScopeWasCancelledStopsBeingPolled() throws Exception {
        try (EventLoop el = EventLoop.create()) {
            TulipLoop loop = (TulipLoop) el;
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            Scope child = el.rootScope().newChild("transport");
            List<Integer> events = new ArrayList<>();
            IoRegistration[] reg = new IoRegistration[1];
            child.run(() -> {
                try {
                    reg[0] = loop.register(pipe.source(), java.nio.channels.SelectionKey.OP_READ, events::add);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertSame(child, reg[0].scope());
            child.cancel(); // nobody deregisters: the loop must stop the selector from reporting it
            pipe.sink().write(java.nio.ByteBuffer.wrap(new byte[] {1}));
            for (int i = 0; i < 3; i++) {
                el.callSoon(() -> { });
                el.runOnce();
            }
            assertEquals(List.of(), events);
            assertTrue(!reg[0].isRegistered(), "the key was cancelled");
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @Test
    void aChannelHasOneOwner() throws Exception {
        try (EventLoop el = EventLoop.create()) {
            TulipLoop loop = (TulipLoop) el;
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            IoRegistration reg = loop.register(pipe.source(), java.nio.channels.SelectionKey.OP_READ, ops -> { });
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> el.addReader(pipe.source(), () -> { }));
            assertTrue(e.getMessage().contains("already registered"), e.getMessage());
            reg.deregister();
            el.addReader(pipe.source(), () -> { }).cancel(); // free again (after the selector flushed the old key)
            pipe.source().close();
            pipe.sink().close();
        }
    }
}
