package dev.tulip;

import dev.tulip.internal.loop.TaskContext;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.task.TaskCore;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Future} that runs a {@link Coroutine} body on its loop: asyncio's {@code Task}.
 *
 * <p>The body is ordinary sequential code; each {@link Future#await()} inside it suspends the task until the future
 * is done while the loop runs other work. At most one of {callbacks, task bodies} of a loop runs at any moment, and a
 * task gives up control only at an await (or {@link Tulip#sleep}): between two awaits nothing else touches the loop.
 * The task is done when the body returns (its result), throws (its failure) or ends with a
 * {@link CancellationException} (cancelled).
 *
 * <p><b>Cancellation</b> ({@link #cancel(String)}) follows asyncio 3.11: the pending await (or the next one) throws
 * {@code CancellationException} carrying the message, and the awaited future is cancelled too (use
 * {@link Tulip#shield} to protect it); {@code finally} blocks run; the body may catch the exception and go on.
 * {@link #cancelling()} counts the requests and {@link #uncancel()} takes one back.
 *
 * <p><b>Structure.</b> Each task runs in its own child {@link Scope} of the scope current at its creation, so a task
 * spawned while another task runs is that task's child. When a task ends by failure or cancellation its scope is
 * cancelled: its unfinished children are cancelled and its pending handles and timers never run. A task ending
 * normally leaves its children running. {@link Options#detached()} tasks belong to the loop's root scope instead.
 * The loop holds every pending task strongly and cancels them when it closes.
 *
 * <p><b>Engines.</b> A body runs on its own virtual thread, handed the loop while it runs, or, when the JVM exports
 * {@code jdk.internal.vm} to Tulip, as a continuation on the loop thread; both behave the same. Never await while
 * holding a monitor ({@code synchronized}): under continuations the monitor belongs to the loop thread and would not
 * exclude other tasks. An await inside a class initializer or a native frame cannot suspend a continuation and
 * throws {@link IllegalStateException}.
 *
 * <p>Threading: loop thread only (a task body counts as the loop thread), except what {@link Future} allows on any
 * thread.
 *
 * @param <T> the result type
 */
public final class Task<T> extends Future<T> {
    private static final AtomicLong COUNTER = new AtomicLong();

    private final TaskCore<T> core;

    private Task(TulipLoop loop, Coroutine<T> body, Options options) {
        super(loop);
        Objects.requireNonNull(body, "body");
        String name = options.name() != null ? options.name() : "Task-" + COUNTER.incrementAndGet();
        this.core = new TaskCore<>(loop, this, body, name, options.detached(), new TaskCore.Completer<>() {
            @Override
            public void result(T value) {
                Task.super.setResult(value);
            }

            @Override
            public void exception(Throwable failure) {
                Task.super.setException(failure);
            }

            @Override
            public void cancelled(String message) {
                Task.super.cancel(message);
            }
        });
    }

    /** Creates and starts a task (EventLoop.createTask and Task.spawn end here). */
    static <T> Task<T> create(EventLoop loop, Options options, Coroutine<T> body) {
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(options, "options");
        Task<T> t = new Task<>((TulipLoop) loop, body, options);
        t.core.start(options.eager());
        return t;
    }

    /**
     * Starts {@code body} as a new task on the running loop; inside a task, the new task is its child.
     *
     * @param body the coroutine
     * @param <T>  the result type
     * @return the new task (scheduled to start in a later pass)
     * @throws IllegalStateException if no loop runs on this thread, or the current scope is cancelled
     */
    public static <T> Task<T> spawn(Coroutine<T> body) {
        return create(EventLoop.current(), Options.DEFAULT, body);
    }

    /**
     * Starts {@code body} as a new task named {@code name} on the running loop (see {@link #spawn(Coroutine)}).
     *
     * @param name the task's name
     * @param body the coroutine
     * @param <T>  the result type
     * @return the new task
     * @throws IllegalStateException if no loop runs on this thread, or the current scope is cancelled
     */
    public static <T> Task<T> spawn(String name, Coroutine<T> body) {
        return create(EventLoop.current(), Options.named(name), body);
    }

    /**
     * Starts {@code body} as a new task with options on the running loop (see {@link #spawn(Coroutine)}).
     *
     * @param options name, eager start, detached
     * @param body    the coroutine
     * @param <T>     the result type
     * @return the new task
     * @throws IllegalStateException if no loop runs on this thread, or the current scope is cancelled
     */
    public static <T> Task<T> spawn(Options options, Coroutine<T> body) {
        return create(EventLoop.current(), options, body);
    }

    /**
     * The task whose body is running on this thread.
     *
     * @return the running task
     * @throws IllegalStateException if called outside a task body
     */
    public static Task<?> current() {
        return find().orElseThrow(() -> new IllegalStateException("not inside a task"));
    }

    /**
     * The task whose body is running on this thread, if any (asyncio's {@code current_task()}).
     *
     * @return the running task, or empty
     */
    public static Optional<Task<?>> find() {
        TulipLoop l = TulipLoop.currentOrNull();
        if (l != null && l.currentTask() instanceof TaskCore<?> c) {
            return Optional.of(c.task());
        }
        return Optional.empty();
    }

    /**
     * The task's name ("Task-N" unless given).
     *
     * @return the name
     */
    public String name() {
        return core.name();
    }

    /**
     * Renames the task.
     *
     * @param name the new name
     * @throws NullPointerException if name is null
     */
    public void setName(String name) {
        core.setName(Objects.requireNonNull(name, "name"));
    }

    /**
     * The scope this task's body runs in: its children, handles and timers belong to it.
     *
     * @return the task's scope
     */
    public Scope scope() {
        return core.scope();
    }

    /**
     * Requests cancellation: the pending await of the body (or its next one) throws a {@link CancellationException}
     * carrying {@code message}, and the awaited future is cancelled. The task is cancelled when the body lets the
     * exception out; it may catch it and go on.
     *
     * @param message why, or null
     * @return false if the task is already done, else true
     */
    @Override
    public boolean cancel(String message) {
        return core.cancel(message);
    }

    /**
     * How many cancellation requests are pending (asyncio 3.11's {@code cancelling()}).
     *
     * @return requests made by {@link #cancel} and not taken back by {@link #uncancel()}
     */
    public int cancelling() {
        return core.cancelling();
    }

    /**
     * Takes back one cancellation request (for code, such as a timeout, that converts a cancellation it caused);
     * when none remain, a cancellation not yet delivered is dropped.
     *
     * @return the remaining count
     */
    public int uncancel() {
        return core.uncancel();
    }

    /**
     * The future the body is waiting for now, or null (running, not started, done, or at a bare yield).
     *
     * @return the awaited future, or null
     */
    public Future<?> awaiting() {
        return core.awaiting();
    }

    /**
     * Where the body is suspended: its stack at the await, innermost first. Empty if the task has not started, is
     * running or is done. For debugging hung programs (see {@link Tulip#dumpTasks}).
     *
     * @return the stack frames
     */
    public List<StackTraceElement> stack() {
        return List.of(core.stackTrace());
    }

    /**
     * Not allowed: a task's outcome is its body's.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void setResult(T result) {
        throw new UnsupportedOperationException("a task completes by its body returning: " + this);
    }

    /**
     * Not allowed: a task's outcome is its body's.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void setException(Throwable exception) {
        throw new UnsupportedOperationException("a task fails by its body throwing: " + this);
    }

    @Override
    public String toString() {
        String s = super.toString();
        int i = s.indexOf('[');
        Future<?> w = core.awaiting();
        return "Task[" + core.name() + ", " + s.substring(i + 1, s.length() - 1)
                + (core.isRunning() ? ", running" : "") + (w != null ? ", awaiting " + w : "") + "]";
    }

    /** The running task's engine context (for Tulip helpers). */
    static TaskCore<?> currentCore() {
        TulipLoop l = TulipLoop.currentOrNull();
        TaskContext c = l == null ? null : l.currentTask();
        return c instanceof TaskCore<?> t ? t : null;
    }

    TaskCore<T> core() {
        return core;
    }

    /**
     * How to start a task.
     *
     * @param name     the task's name, or null for "Task-N"
     * @param eager    run the body at once, inside the creating call, until its first real suspension (asyncio
     *                 3.12's eager tasks); a body that never suspends is done when the call returns
     * @param detached belong to the loop's root scope instead of the current scope (not a child of the running task)
     */
    public record Options(String name, boolean eager, boolean detached) {
        /** A lazily started, attached, auto-named task. */
        public static final Options DEFAULT = new Options(null, false, false);

        /**
         * Default options with a name.
         *
         * @param name the task's name
         * @return the options
         */
        public static Options named(String name) {
            return new Options(Objects.requireNonNull(name, "name"), false, false);
        }

        /**
         * These options with another name.
         *
         * @param newName the name
         * @return new options
         */
        public Options withName(String newName) {
            return new Options(newName, eager, detached);
        }

        /**
         * These options with eager start on or off.
         *
         * @param on eager start
         * @return new options
         */
        public Options withEager(boolean on) {
            return new Options(name, on, detached);
        }

        /**
         * These options with detachment on or off.
         *
         * @param on detached
         * @return new options
         */
        public Options withDetached(boolean on) {
            return new Options(name, eager, on);
        }
    }
}
