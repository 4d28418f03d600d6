package dev.tulip.internal.task;

import dev.tulip.Coroutine;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.Task;
import dev.tulip.TaskGroupException;
import dev.tulip.TimeoutException;
import dev.tulip.internal.loop.Callback;
import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TaskContext;
import dev.tulip.internal.loop.TulipLoop;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * The machinery behind one {@link Task}: asyncio's {@code Task.__step}/{@code __wakeup} state machine over a
 * {@link Strand}.
 *
 * <p>Design note. The body runs in steps. A step starts from a ready-queue entry (the first step, a done callback
 * of the awaited future, or the callSoon of a bare yield), installs the task (current task, its scope, the loop's
 * owner) and resumes the strand; the strand returns when the body awaits a pending future or ends. Wake-ups are
 * registered in the loop's system scope so that a task whose scope was cancelled still resumes and unwinds.
 * Cancellation follows asyncio 3.11+: {@link #cancel} cancels the awaited future if it can, otherwise it sets
 * {@link #mustCancel} and the next suspension point throws; {@link #cancelRequests} counts requests for
 * {@code cancelling()}/{@code uncancel()}.
 *
 * <p>Loop thread only (the body runs with the loop handed to it, so "loop thread" includes the body).
 */
public final class TaskCore<T> implements TaskContext {
    /** How the task completes its own future (calls the Future methods the Task hides from users). */
    public interface Completer<T> {
        void result(T value);

        void exception(Throwable failure);

        void cancelled(String message);
    }

    private static final Object YIELD = new Object();
    private static final int NONE = 0;
    private static final int RESULT = 1;
    private static final int FAILED = 2;
    private static final int CANCELLED = 3;

    private final TulipLoop loop;
    private final Task<T> task;
    private final Coroutine<T> body;
    private final Completer<T> completer;
    private final ScopeImpl scope;
    private final TaskRegistry registry;
    private final Handle creationLink;
    private final Consumer<Future<?>> wakeup = this::wakeup;
    /** The ready-queue entry that runs a step after a bare yield or at the start (one object, reused). */
    private final StepCallback stepCallback;
    private String name;
    private Strand strand;
    /** The pending future the body awaits, YIELD during a bare yield, null while running or not started. */
    private Object waiter;
    /** The waiter this task cancelled because the task was cancelled (its cancellation is ours, not the future's). */
    private Future<?> cancelledWaiter;
    private boolean mustCancel;
    private String cancelMessage;
    private int cancelRequests;
    /** Cancellation requests made by expiring timeouts; when they are all the requests, awaits throw TimeoutException. */
    private int timeoutRequests;
    /** Set when the loop closes: every await throws at once so the body unwinds without suspending. */
    private boolean killed;
    private boolean running;
    private int outcomeKind = NONE;
    private Object outcome;

    public TaskCore(TulipLoop loop, Task<T> task, Coroutine<T> body, String name, boolean detached,
                    Completer<T> completer) {
        this.loop = loop;
        this.task = task;
        this.body = body;
        this.name = name;
        this.completer = completer;
        if (loop.isClosed()) {
            throw new IllegalStateException("event loop is closed: cannot create task " + name);
        }
        loop.checkThread();
        ScopeImpl creation = detached ? (ScopeImpl) loop.rootScope() : loop.currentScopeImpl();
        if (creation.isCancelled()) {
            throw new IllegalStateException("scope '" + creation.name() + "' is cancelled: cannot create task " + name);
        }
        this.scope = creation.childUnchecked("task " + name);
        this.registry = TaskRegistry.of(loop);
        this.stepCallback = new StepCallback(loop.systemScope());
        this.creationLink = creation.onCancel(() -> task.cancel("scope '" + creation.name() + "' was cancelled"));
        registry.add(this);
    }

    /** Schedules the first step, or runs it now for an eager task (until its first real suspension). */
    public void start(boolean eager) {
        if (eager) {
            step();
        } else {
            loop.enqueue(stepCallback);
        }
    }

    public Task<T> task() {
        return task;
    }

    public String name() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public ScopeImpl scope() {
        return scope;
    }

    /** The future the body awaits, or null. */
    public Future<?> awaiting() {
        return waiter instanceof Future<?> f ? f : null;
    }

    /** Where the body is suspended (empty if not started, running or done). */
    public StackTraceElement[] stackTrace() {
        Strand s = strand;
        return s == null || running ? new StackTraceElement[0] : s.stackTrace();
    }

    public boolean isRunning() {
        return running;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Loop side
    // ------------------------------------------------------------------------------------------------------------

    private void step() {
        if (task.isDone() || running) {
            return;
        }
        if (strand == null) {
            if (mustCancel || killed) {
                mustCancel = false;
                registry.remove(this);
                creationLink.cancel();
                completer.cancelled(killed ? "event loop is closing" : cancelMessage);
                return;
            }
            strand = Engine.current().newStrand(this::runBody, "tulip " + name);
        }
        TaskContext prevTask = loop.currentTask();
        ScopeImpl prevScope = loop.swapScope(scope);
        loop.setCurrentTask(this);
        Thread bodyThread = strand.bodyThread();
        Thread prevOwner = loop.owner();
        if (bodyThread != null) {
            loop.setOwner(bodyThread); // published to the body by the strand's hand-off
        }
        running = true;
        try {
            strand.resume();
        } finally {
            running = false;
            if (bodyThread != null) {
                loop.setOwner(prevOwner);
            }
            loop.setCurrentTask(prevTask);
            loop.swapScope(prevScope);
        }
        if (strand.isDone()) {
            finish();
        }
    }

    private void wakeup(Future<?> f) {
        if (waiter == f) {
            step();
        }
    }

    /**
     * Runs a step from the ready queue, in the system scope (see the class note). At most one is queued at a time:
     * the start, or the resumption after a bare yield.
     */
    private final class StepCallback extends Callback {
        StepCallback(ScopeImpl system) {
            super(system);
        }

        @Override
        protected void fire() {
            if (waiter == YIELD || strand == null) {
                step();
            }
        }

        @Override
        protected Object describe() {
            return "step of task " + name;
        }
    }

    private void finish() {
        registry.remove(this);
        creationLink.cancel();
        Object o = outcome;
        outcome = null;
        boolean ok = false;
        switch (outcomeKind) {
            case RESULT -> {
                if (mustCancel) {
                    mustCancel = false;
                    completer.cancelled(cancelMessage);
                } else {
                    @SuppressWarnings("unchecked") T t = (T) o;
                    completer.result(t);
                    ok = true;
                }
            }
            case CANCELLED -> completer.cancelled(((CancellationException) o).getMessage());
            default -> completer.exception((Throwable) o);
        }
        if (!ok) {
            // A task that failed or was cancelled takes its unfinished children, handles and timers with it.
            scope.cancel();
        }
        if (o instanceof VirtualMachineError e) {
            throw e;
        }
    }

    /** Close hook: the body gets an exception from every await at once until it ends. */
    void kill() {
        killed = true;
        if (!task.isDone() && !running) {
            Object w = waiter;
            waiter = null;
            if (w instanceof Future<?> f) {
                f.removeDoneCallback(wakeup);
            }
            step();
        }
    }

    /** Task.cancel: asyncio 3.11 semantics. */
    public boolean cancel(String message) {
        loop.checkThread();
        if (task.isDone()) {
            return false;
        }
        cancelRequests++;
        if (waiter instanceof Future<?> f && f.cancel(message)) {
            // Keep waiting on it: it may be a task that catches the cancellation, which may be cancelled again.
            cancelledWaiter = f;
            return true;
        }
        mustCancel = true;
        cancelMessage = message;
        return true;
    }

    /** A timeout expired: cancel as {@link #cancel}, counting the request as a timeout's. */
    public boolean cancelForTimeout(String message) {
        boolean r = cancel(message);
        if (r) {
            timeoutRequests++;
        }
        return r;
    }

    /** A timeout scope closes after its expiry: takes back its request. */
    public int uncancelTimeout() {
        if (timeoutRequests > 0) {
            timeoutRequests--;
        }
        return uncancel();
    }

    private boolean onlyTimeouts() {
        return timeoutRequests > 0 && timeoutRequests >= cancelRequests;
    }

    public int cancelling() {
        return cancelRequests;
    }

    public int uncancel() {
        if (cancelRequests > 0) {
            cancelRequests--;
            if (cancelRequests == 0) {
                mustCancel = false;
                timeoutRequests = 0;
            }
        }
        return cancelRequests;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Body side
    // ------------------------------------------------------------------------------------------------------------

    private void runBody() {
        boolean ownThread = strand.bodyThread() != null;
        if (ownThread) {
            TulipLoop.bindCurrentThread(loop); // the task's virtual thread looks like the loop thread
        }
        try {
            T r = body.call();
            outcome = r;
            outcomeKind = RESULT;
        } catch (TimeoutException e) {
            outcome = e;
            outcomeKind = FAILED;
        } catch (CancellationException e) {
            outcome = e;
            outcomeKind = CANCELLED;
            if (cancelRequests == 0) {
                // A task group cancelled the body because a child failed, took its request back, and its failures
                // rode out suppressed on the body's CancellationException (try-with-resources): the task failed.
                for (Throwable s : e.getSuppressed()) {
                    if (s instanceof TaskGroupException g) {
                        outcome = g;
                        outcomeKind = FAILED;
                    }
                }
            }
        } catch (Throwable t) {
            outcome = t;
            outcomeKind = FAILED;
        } finally {
            if (ownThread) {
                TulipLoop.bindCurrentThread(null);
            }
        }
    }

    @Override
    public void suspendUntilDone(Future<?> f) {
        if (killed) {
            throw new CancellationException("event loop is closing");
        }
        if (f.isDone()) {
            return;
        }
        if (f == task) {
            throw new IllegalStateException("a task cannot await itself: " + task);
        }
        if (f.loop() != loop) {
            throw new IllegalArgumentException("the awaited future belongs to another event loop: " + f);
        }
        waiter = f;
        ScopeImpl prev = loop.swapScope(loop.systemScope());
        try {
            f.addDoneCallback(wakeup);
        } finally {
            loop.swapScope(prev);
        }
        if (mustCancel && f.cancel(cancelMessage)) {
            mustCancel = false;
            cancelledWaiter = f;
        }
        try {
            strand.suspend();
        } catch (RuntimeException pinned) {
            waiter = null; // the strand could not suspend: the body goes on from here with the error
            f.removeDoneCallback(wakeup);
            throw pinned;
        }
        waiter = null;
        if (killed) {
            if (!f.isDone()) {
                f.removeDoneCallback(wakeup);
            }
            throw new CancellationException("event loop is closing");
        }
        if (mustCancel) {
            mustCancel = false;
            throw cancellation(cancelMessage);
        }
        if (cancelledWaiter == f) {
            cancelledWaiter = null;
            if (onlyTimeouts() && f.isCancelled()) {
                throw new TimeoutException("timed out");
            }
        }
    }

    /** A bare yield (asyncio's {@code sleep(0)}): lets every ready callback run once, then resumes. */
    public void yieldNow() {
        if (killed) {
            throw new CancellationException("event loop is closing");
        }
        waiter = YIELD;
        loop.enqueue(stepCallback);
        try {
            strand.suspend();
        } finally {
            waiter = null;
        }
        if (killed) {
            throw new CancellationException("event loop is closing");
        }
        if (mustCancel) {
            mustCancel = false;
            throw cancellation(cancelMessage);
        }
    }

    private CancellationException cancellation(String message) {
        return onlyTimeouts() ? new TimeoutException("timed out") : new CancellationException(message);
    }

    @Override
    public String toString() {
        return "TaskCore[" + name + "]";
    }
}
