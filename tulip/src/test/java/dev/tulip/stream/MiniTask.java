package dev.tulip.stream;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.internal.loop.TaskContext;
import dev.tulip.internal.loop.TulipLoop;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;

/**
 * A minimal coroutine task for these tests (a virtual thread with a strict hand-off), so streams can be tested before
 * the tasks engine (issue 3) is merged. Loop thread only, except the body.
 */
final class MiniTask<T> extends Future<T> implements TaskContext {
    private final TulipLoop loop;
    private final Semaphore toBody = new Semaphore(0);
    private final Semaphore toLoop = new Semaphore(0);
    private final Thread body;
    private Future<?> awaiting;

    private MiniTask(EventLoop loop, Callable<T> callable) {
        super(loop);
        this.loop = (TulipLoop) loop;
        this.body = Thread.ofVirtual().unstarted(() -> {
            toBody.acquireUninterruptibly();
            TulipLoop.bindCurrentThread(this.loop);
            try {
                T r = callable.call();
                setResult(r);
            } catch (java.util.concurrent.CancellationException e) {
                super.cancel(e.getMessage());
            } catch (Throwable t) {
                setException(t);
            } finally {
                TulipLoop.bindCurrentThread(null);
                toLoop.release();
            }
        });
    }

    static <T> MiniTask<T> spawn(EventLoop loop, Callable<T> callable) {
        MiniTask<T> t = new MiniTask<>(loop, callable);
        t.body.start();
        loop.callSoon(t::step);
        return t;
    }

    private void step() {
        Thread loopThread = Thread.currentThread();
        TaskContext prev = loop.currentTask();
        loop.setCurrentTask(this);
        loop.setOwner(body);
        toBody.release();
        toLoop.acquireUninterruptibly();
        loop.setOwner(loopThread);
        loop.setCurrentTask(prev);
    }

    @Override
    public void suspendUntilDone(Future<?> future) {
        if (future.isDone()) {
            return;
        }
        awaiting = future;
        future.addDoneCallback(f -> step());
        toLoop.release();
        toBody.acquireUninterruptibly();
        awaiting = null;
    }

    /** Cancels the task: the future it awaits is cancelled, so its await throws CancellationException. */
    void cancelTask() {
        if (awaiting != null) {
            awaiting.cancel("task cancelled");
        }
    }
}
