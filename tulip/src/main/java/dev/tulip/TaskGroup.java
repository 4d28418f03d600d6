package dev.tulip;

import dev.tulip.internal.loop.ScopeImpl;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.task.TaskCore;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

/**
 * A set of child tasks whose lifetime is a block of the parent task: asyncio's {@code TaskGroup}, Trio's nursery.
 *
 * <pre>{@code
 * try (TaskGroup g = TaskGroup.open()) {
 *     g.spawn(() -> fetch(a));
 *     g.spawn(() -> fetch(b));
 * }   // waits for both; if one fails, the other is cancelled and close() throws TaskGroupException
 * }</pre>
 *
 * <ul>
 *   <li>Closing waits for every child (a cancellation point).</li>
 *   <li>The first child failure cancels the other children and the parent task (so the body, if it is still
 *       awaiting, stops); the group takes that cancellation back when it closes. All failures are reported together
 *       in one {@link TaskGroupException}. Children that end cancelled are not failures.</li>
 *   <li>Cancelling the parent task cancels the children; the cancellation then propagates. If the group has
 *       failures and the parent was also cancelled from outside, the {@code TaskGroupException} is thrown and the
 *       parent's cancellation stays pending, so it is not lost (cpython #116720).</li>
 * </ul>
 *
 * <p>Java's try-with-resources does not tell {@code close()} that the block threw. A body that fails with an ordinary
 * exception is therefore noticed only by {@link #run(Body)}, which cancels the children at once and adds the body's
 * failure to the group's; with a plain try block, the children keep running until they end and the body's exception
 * propagates with the group's failures suppressed. A cancellation of the parent is noticed either way.
 *
 * <p>Threading: the task that opened it only (children are spawned from anywhere on the loop thread).
 */
public final class TaskGroup implements AutoCloseable {
    private final TulipLoop loop;
    private final TaskCore<?> parent;
    private final Task<?> parentTask;
    private final int cancellingAtOpen;
    private final LinkedHashSet<Task<?>> tasks = new LinkedHashSet<>();
    private final List<Throwable> errors = new ArrayList<>();
    private final Consumer<Future<?>> onTaskDone = this::onTaskDone;
    private boolean exiting;
    private boolean closed;
    private boolean aborting;
    private boolean parentCancelRequested;
    private Future<Void> onCompleted;

    private TaskGroup() {
        this.parent = Task.currentCore();
        if (parent == null) {
            throw new IllegalStateException("a task group must be opened inside a task");
        }
        this.parentTask = parent.task();
        this.loop = (TulipLoop) parentTask.loop();
        this.cancellingAtOpen = parentTask.cancelling();
    }

    /**
     * Opens a group owned by the running task; use it in try-with-resources.
     *
     * @return the new group
     * @throws IllegalStateException if called outside a task
     */
    public static TaskGroup open() {
        return new TaskGroup();
    }

    /**
     * Runs {@code body} with a new group and closes it with full knowledge of how the body ended: a body failure
     * cancels the children at once and is reported with theirs. A cancellation point.
     *
     * @param body the code that spawns children
     * @param <T>  the body's result type
     * @return what the body returned
     * @throws TaskGroupException    if the body or any child failed
     * @throws CancellationException if the parent task was cancelled
     * @throws IllegalStateException if called outside a task
     */
    public static <T> T run(Body<T> body) {
        Objects.requireNonNull(body, "body");
        TaskGroup g = open();
        T result;
        try {
            result = body.run(g);
        } catch (Throwable t) {
            g.exit(t, true);
            throw new AssertionError("unreachable: exit rethrows", t);
        }
        g.exit(null, true);
        return result;
    }

    /**
     * Starts a child task in this group.
     *
     * @param body the coroutine
     * @param <T>  the result type
     * @return the child task
     * @throws IllegalStateException if the group is closed or shutting down after a failure
     */
    public <T> Task<T> spawn(Coroutine<T> body) {
        return spawn(Task.Options.DEFAULT, body);
    }

    /**
     * Starts a named child task in this group.
     *
     * @param name the task's name
     * @param body the coroutine
     * @param <T>  the result type
     * @return the child task
     * @throws IllegalStateException if the group is closed or shutting down after a failure
     */
    public <T> Task<T> spawn(String name, Coroutine<T> body) {
        return spawn(Task.Options.named(name), body);
    }

    /**
     * Starts a child task in this group with options ({@link Task.Options#detached()} is ignored: a group's children
     * always belong to the parent's scope).
     *
     * @param options name and eager start
     * @param body    the coroutine
     * @param <T>     the result type
     * @return the child task
     * @throws IllegalStateException if the group is closed or shutting down after a failure
     */
    public <T> Task<T> spawn(Task.Options options, Coroutine<T> body) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(body, "body");
        if (closed || (exiting && tasks.isEmpty())) {
            throw new IllegalStateException("the task group is finished");
        }
        if (aborting) {
            throw new IllegalStateException("the task group is shutting down after a failure");
        }
        ScopeImpl saved = loop.swapScope(parent.scope()); // children belong to the parent task, wherever spawned
        Task<T> t;
        try {
            t = Task.create(loop, options.withDetached(false), body);
        } finally {
            loop.swapScope(saved);
        }
        if (t.isDone()) {
            onTaskDone(t); // an eager child that finished without suspending
        } else {
            tasks.add(t);
            ScopeImpl s = loop.swapScope(loop.systemScope());
            try {
                t.addDoneCallback(onTaskDone);
            } finally {
                loop.swapScope(s);
            }
        }
        return t;
    }

    /**
     * Waits for every child, then reports: a {@link TaskGroupException} with all failures, or the parent's
     * cancellation. Idempotent. A cancellation point: if the parent task is cancelled while waiting, the children
     * are cancelled and the cancellation propagates once they are done.
     *
     * @throws TaskGroupException    if any child failed
     * @throws CancellationException if the parent task was cancelled
     * @throws IllegalStateException if called from another task than the parent
     */
    @Override
    public void close() {
        exit(null, false);
    }

    /** asyncio's TaskGroup.__aexit__; {@code known} says whether {@code bodyError} is really how the body ended. */
    private void exit(Throwable bodyError, boolean known) {
        if (closed) {
            if (bodyError != null) {
                sneakyThrow(bodyError);
            }
            return;
        }
        if (Task.currentCore() != parent) {
            throw new IllegalStateException("a task group must be closed by the task that opened it");
        }
        exiting = true;
        CancellationException propagate = null;
        if (known) {
            if (bodyError instanceof CancellationException ce) {
                propagate = ce;
            }
            if (bodyError != null && !aborting) {
                abort();
            }
        } else if (parentTask.cancelling() > cancellingAtOpen + (parentCancelRequested ? 1 : 0)) {
            // Cancelled from outside while the body ran: the body is most likely unwinding from it right now.
            propagate = new CancellationException("the task owning the task group was cancelled");
            if (!aborting) {
                abort();
            }
        }
        // Loop: the wait can be interrupted by the parent's cancellation many times.
        while (!tasks.isEmpty()) {
            onCompleted = new Future<>(loop);
            try {
                onCompleted.await();
            } catch (CancellationException e) {
                if (!aborting) {
                    propagate = e;
                    abort();
                }
            }
            onCompleted = null;
        }
        closed = true;
        if (parentCancelRequested && parentTask.uncancel() <= cancellingAtOpen) {
            // The only cancellation was our own abort of the body: do not propagate it.
            propagate = null;
        }
        if (known && bodyError != null && !(bodyError instanceof CancellationException)) {
            errors.add(bodyError);
        }
        if (errors.isEmpty()) {
            if (propagate != null) {
                throw known && bodyError == propagate ? propagate : new CancellationException(propagate.getMessage());
            }
            return;
        }
        if (parentTask.cancelling() > 0) {
            // cpython #116720: an outer cancellation must survive the group's exception. Re-arm it so the next
            // await of the parent throws again, keeping the count stable.
            parentTask.uncancel();
            parentTask.cancel();
        }
        throw new TaskGroupException(errors);
    }

    private void abort() {
        aborting = true;
        for (Task<?> t : new ArrayList<>(tasks)) {
            if (!t.isDone()) {
                t.cancel();
            }
        }
    }

    private void onTaskDone(Future<?> t) {
        tasks.remove(t);
        if (onCompleted != null && tasks.isEmpty() && !onCompleted.isDone()) {
            onCompleted.setResult(null);
        }
        if (t.isCancelled()) {
            return;
        }
        Throwable e = t.exception();
        if (e == null) {
            return;
        }
        errors.add(e);
        if (parentTask.isDone()) {
            loop.callExceptionHandler(new ExceptionContext("task group child failed after its parent task ended", e,
                    null, t, null, null));
            return;
        }
        if (!aborting && !parentCancelRequested) {
            // Stop whatever the body awaits right now; exit() takes this cancellation back.
            abort();
            parentCancelRequested = true;
            parentTask.cancel("a task in the task group failed");
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable t) throws E {
        throw (E) t;
    }

    /**
     * The body of {@link TaskGroup#run}.
     *
     * @param <T> its result type
     */
    @FunctionalInterface
    public interface Body<T> {
        /**
         * Runs with the group open.
         *
         * @param group the group to spawn children in
         * @return a result
         * @throws Exception a failure of the body, reported with the children's
         */
        T run(TaskGroup group) throws Exception;
    }
}
