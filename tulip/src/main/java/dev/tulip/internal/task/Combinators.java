package dev.tulip.internal.task;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.TimeoutException;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * gather, shield, asCompleted: the combinators behind {@link dev.tulip.Tulip}, written after asyncio's
 * {@code tasks.py}.
 *
 * <p>Loop thread only. Their internal done callbacks are registered in the loop's system scope: plumbing between
 * futures must not be dropped because the scope that happened to be current was cancelled.
 */
public final class Combinators {
    private Combinators() {
    }

    /** addDoneCallback in the system scope. */
    public static <T> void onDone(Future<T> f, Consumer<? super Future<T>> callback) {
        TulipLoop loop = (TulipLoop) f.loop();
        ScopeImpl saved = loop.swapScope(loop.systemScope());
        try {
            f.addDoneCallback(callback);
        } finally {
            loop.swapScope(saved);
        }
    }

    /** addDoneCallback in the system scope, for a future of unknown type; the same consumer can be removed later. */
    public static void onDoneAny(Future<?> f, Consumer<Future<?>> callback) {
        capture(f, callback);
    }

    private static <T> void capture(Future<T> f, Consumer<Future<?>> callback) {
        onDone(f, callback);
    }

    /** The loop of the futures, checking they share one. */
    public static EventLoop loopOf(Collection<? extends Future<?>> fs) {
        EventLoop loop = null;
        for (Future<?> f : fs) {
            if (f == null) {
                throw new NullPointerException("null future");
            }
            if (loop == null) {
                loop = f.loop();
            } else if (f.loop() != loop) {
                throw new IllegalArgumentException("the futures belong to different event loops");
            }
        }
        return loop;
    }

    /** asyncio.gather: results in order; the first failure fails the outer future unless returnExceptions. */
    public static Future<List<Object>> gather(EventLoop current, List<? extends Future<?>> children,
                                              boolean returnExceptions) {
        EventLoop loop = children.isEmpty() ? current : loopOf(children);
        GatheringFuture outer = new GatheringFuture(loop, children);
        if (children.isEmpty()) {
            outer.setResult(new ArrayList<>());
            return outer;
        }
        int n = children.size();
        int[] finished = {0};
        for (Future<?> child : children) {
            onDone(child, f -> {
                finished[0]++;
                if (outer.isDone()) {
                    if (!f.isCancelled()) {
                        f.exception(); // retrieved: gather already reported a failure, this one is not lost silently
                    }
                    return;
                }
                if (!returnExceptions) {
                    if (f.isCancelled()) {
                        outer.fail(cancelledError(f));
                        return;
                    }
                    Throwable e = f.exception();
                    if (e != null) {
                        outer.fail(e);
                        return;
                    }
                }
                if (finished[0] == n) {
                    List<Object> results = new ArrayList<>(n);
                    for (Future<?> c : children) {
                        if (c.isCancelled()) {
                            results.add(cancelledError(c));
                        } else if (c.exception() != null) {
                            results.add(c.exception());
                        } else {
                            results.add(c.result());
                        }
                    }
                    if (outer.cancelRequested) {
                        outer.fail(cancelledError(f));
                    } else {
                        outer.succeed(results);
                    }
                }
            });
        }
        return outer;
    }

    private static CancellationException cancelledError(Future<?> f) {
        try {
            f.result();
        } catch (CancellationException e) {
            return e;
        }
        return new CancellationException();
    }

    /** gather's outer future: cancelling it cancels the children; it completes when they do. */
    private static final class GatheringFuture extends Future<List<Object>> {
        private final List<? extends Future<?>> children;
        boolean cancelRequested;

        GatheringFuture(EventLoop loop, List<? extends Future<?>> children) {
            super(loop);
            this.children = children;
        }

        @Override
        public boolean cancel(String message) {
            if (isDone()) {
                return false;
            }
            boolean r = false;
            for (Future<?> c : children) {
                if (c.cancel(message)) {
                    r = true;
                }
            }
            if (r) {
                // Completes (with a CancellationException) once every child has seen it, as asyncio does.
                cancelRequested = true;
            }
            return r;
        }

        void succeed(List<Object> results) {
            super.setResult(results);
        }

        void fail(Throwable e) {
            super.setException(e);
        }
    }

    /** asyncio.shield. */
    public static <T> Future<T> shield(Future<T> inner) {
        if (inner.isDone()) {
            return inner;
        }
        Future<T> outer = new Future<>(inner.loop());
        onDone(inner, f -> {
            if (outer.isDone()) {
                if (!f.isCancelled()) {
                    f.exception();
                }
                return;
            }
            if (f.isCancelled()) {
                outer.cancel(cancelledError(f).getMessage());
            } else if (f.exception() != null) {
                outer.setException(f.exception());
            } else {
                outer.setResult(f.result());
            }
        });
        return outer;
    }

    /** asyncio.as_completed as an iterator whose next() suspends the task; yields the original futures. */
    public static <F extends Future<?>> Iterable<F> asCompleted(EventLoop current, Collection<F> fs, long deadline) {
        List<F> list = List.copyOf(fs);
        EventLoop loop = list.isEmpty() ? current : loopOf(list);
        return () -> new AsCompleted<>(loop, list, deadline);
    }

    private static final class AsCompleted<F extends Future<?>> implements Iterator<F> {
        private final ArrayDeque<F> done = new ArrayDeque<>();
        private final EventLoop loop;
        private final int total;
        private int returned;
        private Future<Void> wake;
        private boolean timedOut;
        private Handle timer;

        AsCompleted(EventLoop loop, List<F> fs, long deadline) {
            this.loop = loop;
            this.total = fs.size();
            for (F f : fs) {
                onDoneAny(f, x -> {
                    done.add(f);
                    signal();
                });
            }
            if (deadline != Long.MAX_VALUE && total > 0) {
                TulipLoop l = (TulipLoop) loop;
                ScopeImpl saved = l.swapScope(l.systemScope());
                try {
                    timer = loop.callAt(deadline, () -> {
                        timedOut = true;
                        signal();
                    });
                } finally {
                    l.swapScope(saved);
                }
            }
        }

        private void signal() {
            if (wake != null && !wake.isDone()) {
                wake.setResult(null);
            }
        }

        @Override
        public boolean hasNext() {
            return returned < total;
        }

        @Override
        public F next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            while (done.isEmpty()) {
                if (timedOut) {
                    throw new TimeoutException("asCompleted: " + (total - returned) + " future(s) not done in time");
                }
                wake = new Future<>(loop);
                wake.await();
                wake = null;
            }
            returned++;
            if (returned == total && timer != null) {
                timer.cancel();
            }
            return done.poll();
        }
    }
}
