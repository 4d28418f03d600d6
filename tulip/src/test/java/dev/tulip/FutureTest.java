package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** asyncio Future semantics: states, done callbacks, results and failures, await, CompletableFuture interop. */
@Timeout(30)
class FutureTest {

    private static EventLoop virtualLoop() {
        return EventLoop.builder().virtualTime(true).build();
    }

    @Test
    void statesAndResult() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            assertSame(loop, f.loop());
            assertFalse(f.isDone());
            assertFalse(f.isCancelled());
            assertThrows(InvalidStateException.class, f::result);
            assertThrows(InvalidStateException.class, f::exception);
            f.setResult("r");
            assertTrue(f.isDone());
            assertFalse(f.isCancelled());
            assertEquals("r", f.result());
            assertNull(f.exception());
            assertTrue(f.toString().contains("finished"), f.toString());
            assertFalse(f.cancel(), "a done future cannot be cancelled");
        }
    }

    @Test
    void settingTwiceIsAnInvalidState() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            f.setResult("a");
            InvalidStateException e = assertThrows(InvalidStateException.class, () -> f.setResult("b"));
            assertTrue(e.getMessage().contains("already"), e.getMessage());
            assertThrows(InvalidStateException.class, () -> f.setException(new RuntimeException()));
            Future<String> c = loop.createFuture();
            assertTrue(c.cancel());
            assertFalse(c.cancel());
            assertThrows(InvalidStateException.class, () -> c.setResult("late"));
            assertThrows(NullPointerException.class, () -> loop.createFuture().setException(null));
        }
    }

    @Test
    void uncheckedFailureIsRethrownCheckedIsWrapped() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> unchecked = loop.createFuture();
            IllegalStateException ise = new IllegalStateException("bad");
            unchecked.setException(ise);
            assertSame(ise, assertThrows(IllegalStateException.class, unchecked::result));
            assertSame(ise, unchecked.exception());

            Future<String> checked = loop.createFuture();
            IOException io = new IOException("io");
            checked.setException(io);
            CompletionException ce = assertThrows(CompletionException.class, checked::result);
            assertSame(io, ce.getCause());
            assertSame(io, checked.exception());

            Future<String> error = loop.createFuture();
            AssertionError ae = new AssertionError("err");
            error.setException(ae);
            assertSame(ae, assertThrows(AssertionError.class, error::result));
        }
    }

    @Test
    void cancelMessageReachesTheCancellationException() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            assertTrue(f.cancel("shutting down"));
            assertTrue(f.isCancelled());
            assertTrue(f.isDone());
            assertEquals("shutting down", assertThrows(CancellationException.class, f::result).getMessage());
            assertEquals("shutting down", assertThrows(CancellationException.class, f::exception).getMessage());
            assertEquals("shutting down", assertThrows(CancellationException.class, f::await).getMessage());
        }
    }

    @Test
    void doneCallbacksRunLaterInOrderNeverInsideSetResult() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            List<String> seen = new ArrayList<>();
            f.addDoneCallback(x -> seen.add("1:" + x.result()));
            f.addDoneCallback(x -> seen.add("2:" + x.result()));
            f.addDoneCallback(x -> seen.add("3:" + x.result()));
            f.setResult("v");
            assertEquals(List.of(), seen, "never inside setResult");
            loop.runOnce();
            assertEquals(List.of("1:v", "2:v", "3:v"), seen);
            f.addDoneCallback(x -> seen.add("after done"));
            assertEquals(3, seen.size(), "scheduled, not run inline, when added to a done future");
            loop.runOnce();
            assertEquals("after done", seen.get(3));
        }
    }

    @Test
    void doneCallbackRunsInTheScopeCurrentWhenAdded() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            Scope child = loop.rootScope().newChild("child");
            AtomicReference<Scope> ranIn = new AtomicReference<>();
            child.run(() -> f.addDoneCallback(x -> ranIn.set(loop.currentScope())));
            loop.callSoon(() -> f.setResult("x"));
            loop.runUntilComplete(f); // the callback was added before the loop's stopper: it ran in that pass
            assertSame(child, ranIn.get());
            assertSame(loop.rootScope(), loop.currentScope());
        }
    }

    @Test
    void doneCallbackOfACancelledScopeNeverRuns() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            Scope child = loop.rootScope().newChild("child");
            List<String> seen = new ArrayList<>();
            child.run(() -> f.addDoneCallback(x -> seen.add("child")));
            child.cancel();
            f.setResult("x");
            loop.runOnce();
            assertEquals(List.of(), seen);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> child.run(() -> f.addDoneCallback(x -> { })));
            assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
        }
    }

    @Test
    void removeDoneCallback() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            List<String> seen = new ArrayList<>();
            Consumer<Future<String>> a = x -> seen.add("a");
            Consumer<Future<String>> b = x -> seen.add("b");
            f.addDoneCallback(a);
            f.addDoneCallback(b);
            f.addDoneCallback(a);
            assertEquals(2, f.removeDoneCallback(a));
            assertEquals(0, f.removeDoneCallback(a));
            f.setResult("x");
            assertEquals(0, f.removeDoneCallback(b), "already scheduled");
            loop.runOnce();
            assertEquals(List.of("b"), seen);
            Future<String> single = loop.createFuture();
            single.addDoneCallback(a);
            assertEquals(1, single.removeDoneCallback(a));
            assertThrows(NullPointerException.class, () -> single.removeDoneCallback(null));
            assertThrows(NullPointerException.class, () -> single.addDoneCallback(null));
        }
    }

    @Test
    void awaitFromAForeignThreadBlocksUntilDone() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            Future<String> f = loop.createFuture();
            AtomicReference<Object> got = new AtomicReference<>();
            CountDownLatch started = new CountDownLatch(1);
            Thread waiter = new Thread(() -> {
                started.countDown();
                try {
                    got.set(f.await());
                } catch (Throwable t) {
                    got.set(t);
                }
            });
            waiter.start();
            started.await();
            loop.callLater(Duration.ofMillis(30), () -> f.setResult("done"));
            loop.runUntilComplete(f);
            loop.callLater(Duration.ofMillis(30), loop::stop); // let the waiter's registration callback run
            waiter.join(TimeUnit.SECONDS.toMillis(10));
            if (waiter.isAlive()) {
                loop.runForever();
                waiter.join(TimeUnit.SECONDS.toMillis(10));
            }
            assertEquals("done", got.get());
        }
    }

    @Test
    void awaitOnTheLoopThreadOutsideATask() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> pending = loop.createFuture();
            Future<String> done = loop.createFuture();
            done.setResult("ok");
            AtomicReference<Object> a = new AtomicReference<>();
            AtomicReference<Object> b = new AtomicReference<>();
            loop.callSoon(() -> {
                a.set(done.await());
                try {
                    pending.await();
                } catch (IllegalStateException e) {
                    b.set(e);
                }
            });
            loop.runOnce();
            assertEquals("ok", a.get());
            IllegalStateException e = (IllegalStateException) b.get();
            assertTrue(e.getMessage().contains("deadlock"), e.getMessage());
        }
    }

    @Test
    void awaitByAForeignThreadWhenTheLoopClosesFailsInsteadOfHanging() throws Exception {
        EventLoop loop = EventLoop.create();
        Future<String> f = loop.createFuture();
        AtomicReference<Throwable> got = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                f.await();
            } catch (Throwable t) {
                got.set(t);
            }
        });
        waiter.start();
        Thread.sleep(50); // let it block (if it has not yet, it sees the closed loop: same outcome)
        loop.close();
        waiter.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(waiter.isAlive(), "await hung after close");
        assertTrue(got.get() instanceof IllegalStateException, String.valueOf(got.get()));
        assertTrue(got.get().getMessage().contains("closed"), got.get().getMessage());
        // And a fresh await on a pending future of a closed loop fails at once.
        assertThrows(IllegalStateException.class, f::await);
    }

    @Test
    void toCompletableFutureCompletesWithTheResultAndFailure() throws Exception {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            Future<String> g = loop.createFuture();
            Future<String> h = loop.createFuture();
            CompletableFuture<String> cf = f.toCompletableFuture();
            CompletableFuture<String> cg = g.toCompletableFuture();
            CompletableFuture<String> ch = h.toCompletableFuture();
            f.setResult("r");
            IOException io = new IOException("x");
            g.setException(io);
            h.cancel("stop");
            loop.runOnce();
            assertEquals("r", cf.get());
            ExecutionException ee = assertThrows(ExecutionException.class, cg::get);
            assertSame(io, ee.getCause());
            assertTrue(ch.isCancelled());
            assertEquals("r", f.toCompletableFuture().getNow(null), "done futures convert at once");
        }
    }

    @Test
    void cancellingTheCompletableFutureCancelsTheFuture() {
        try (EventLoop loop = virtualLoop()) {
            Future<String> f = loop.createFuture();
            CompletableFuture<String> cf = f.toCompletableFuture();
            cf.cancel(true);
            loop.runOnce();
            assertTrue(f.isCancelled());
        }
    }

    @Test
    void completableFutureOfAClosedLoopFails() {
        EventLoop loop = virtualLoop();
        Future<String> f = loop.createFuture();
        CompletableFuture<String> cf = f.toCompletableFuture();
        loop.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> cf.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
    }

    @Test
    void wrapFutureDeliversOnTheLoopThread() throws Exception {
        try (EventLoop loop = EventLoop.create()) {
            CompletableFuture<String> cf = new CompletableFuture<>();
            Future<String> f = loop.wrapFuture(cf);
            AtomicReference<Thread> deliveredOn = new AtomicReference<>();
            f.addDoneCallback(x -> deliveredOn.set(Thread.currentThread()));
            Thread t = new Thread(() -> cf.complete("from another thread"));
            t.start();
            assertEquals("from another thread", loop.runUntilComplete(f));
            t.join();
            assertSame(Thread.currentThread(), deliveredOn.get());

            CompletableFuture<String> failing = new CompletableFuture<>();
            Future<String> ff = loop.wrapFuture(failing);
            IOException io = new IOException("nope");
            new Thread(() -> failing.completeExceptionally(io)).start();
            CompletionException ce = assertThrows(CompletionException.class, () -> loop.runUntilComplete(ff));
            assertSame(io, ce.getCause());

            CompletableFuture<String> cancelled = new CompletableFuture<>();
            Future<String> fc = loop.wrapFuture(cancelled);
            cancelled.cancel(false);
            assertThrows(CancellationException.class, () -> loop.runUntilComplete(fc));
        }
    }

    @Test
    void cancellingTheWrappedFutureCancelsTheStage() {
        try (EventLoop loop = virtualLoop()) {
            CompletableFuture<String> cf = new CompletableFuture<>();
            Future<String> f = loop.wrapFuture(cf);
            loop.callSoon(() -> f.cancel("no longer needed"));
            loop.runOnce();
            loop.runOnce();
            assertTrue(cf.isCancelled());
        }
    }

    @Test
    void wrapFutureOfACompletedStage() {
        try (EventLoop loop = virtualLoop()) {
            Future<Integer> f = loop.wrapFuture(CompletableFuture.completedFuture(7));
            assertEquals(7, loop.runUntilComplete(f));
        }
    }
}
