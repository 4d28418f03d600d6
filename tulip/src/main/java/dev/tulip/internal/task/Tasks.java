package dev.tulip.internal.task;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Task;
import dev.tulip.internal.loop.TulipLoop;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;

/**
 * Loop-level task helpers behind {@link EventLoop}'s task methods.
 *
 * <p>Loop thread only, except where noted.
 */
public final class Tasks {
    private Tasks() {
    }

    /** The pending tasks of {@code loop}. */
    public static List<Task<?>> allTasks(EventLoop loop) {
        TulipLoop l = (TulipLoop) loop;
        l.checkThread();
        TaskRegistry r = TaskRegistry.peek(l);
        return r == null ? List.of() : r.tasks();
    }

    /** asyncio's run_in_executor; cancelling the returned future interrupts the job. */
    public static <T> Future<T> runInExecutor(EventLoop loop, Executor executor, Callable<T> job) {
        Objects.requireNonNull(job, "job");
        TulipLoop l = (TulipLoop) loop;
        l.checkThread();
        if (l.isClosed()) {
            throw new IllegalStateException("event loop is closed");
        }
        JobFuture<T> f = new JobFuture<>(l);
        JobTask<T> ft = new JobTask<>(job, f, l);
        f.job = ft;
        try {
            if (executor == null) {
                Thread.ofVirtual().name("tulip-executor").start(ft);
            } else {
                executor.execute(ft);
            }
        } catch (RejectedExecutionException e) {
            f.setException(e);
        }
        return f;
    }

    /** The loop-side future of an executor job: cancelling it interrupts the job. */
    private static final class JobFuture<T> extends Future<T> {
        FutureTask<T> job;

        JobFuture(EventLoop loop) {
            super(loop);
        }

        @Override
        public boolean cancel(String message) {
            boolean r = super.cancel(message);
            if (r && job != null) {
                job.cancel(true);
            }
            return r;
        }
    }

    /** The job on its thread; when it ends, its outcome is handed to the loop thread. Any thread. */
    private static final class JobTask<T> extends FutureTask<T> {
        private final JobFuture<T> future;
        private final TulipLoop loop;

        JobTask(Callable<T> job, JobFuture<T> future, TulipLoop loop) {
            super(job);
            this.future = future;
            this.loop = loop;
        }

        @Override
        protected void done() {
            if (isCancelled()) {
                return; // cancelled from the loop side: the future is already cancelled
            }
            T value = null;
            Throwable failure = null;
            try {
                value = get();
            } catch (ExecutionException e) {
                failure = e.getCause();
            } catch (InterruptedException | CancellationException e) {
                failure = e;
            }
            T v = value;
            Throwable x = failure;
            try {
                loop.callSoonThreadsafe(() -> {
                    if (!future.isDone()) {
                        if (x == null) {
                            future.setResult(v);
                        } else {
                            future.setException(x);
                        }
                    }
                });
            } catch (IllegalStateException closed) {
                // the loop closed while the job ran: nobody can receive the result
            }
        }
    }
}
