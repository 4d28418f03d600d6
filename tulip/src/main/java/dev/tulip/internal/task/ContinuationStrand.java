package dev.tulip.internal.task;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * A strand on {@code jdk.internal.vm.Continuation}: the loop thread runs the body's frames itself, and a suspension
 * copies them to the heap. Everything stays on one OS thread, so a round trip costs a few hundred nanoseconds.
 *
 * <p>The class is reached through method handles because the library compiles against the public API only; it is
 * used only when the JVM exports {@code jdk.internal.vm} to this code ({@link Engine} checks). A body suspended inside
 * a native frame cannot yield (the continuation is "pinned"): {@link #suspend()} then throws a clear error instead.
 * ({@code Continuation.isPinned} is not used as a pre-check: it also counts monitors held by the loop thread's frames
 * outside the continuation, which do not prevent the yield.)
 * A monitor held across an await ({@code synchronized}) does not pin on JDK 25 but is owned by the loop thread, so it
 * would not exclude other tasks: never await while holding a monitor.
 */
final class ContinuationStrand extends Strand {
    private static final Object SCOPE;
    private static final MethodHandle NEW;
    private static final MethodHandle RUN;
    private static final MethodHandle YIELD;
    private static final MethodHandle IS_DONE;
    private static final MethodHandle STACK;
    private static final Throwable UNAVAILABLE;

    static {
        Object scope = null;
        MethodHandle ctor = null, run = null, yield = null, isDone = null, stack = null;
        Throwable failure = null;
        try {
            Class<?> scopeClass = Class.forName("jdk.internal.vm.ContinuationScope");
            Class<?> contClass = Class.forName("jdk.internal.vm.Continuation");
            MethodHandles.Lookup l = MethodHandles.lookup();
            scope = l.findConstructor(scopeClass, MethodType.methodType(void.class, String.class)).invoke("tulip");
            ctor = l.findConstructor(contClass, MethodType.methodType(void.class, scopeClass, Runnable.class))
                    .asType(MethodType.methodType(Object.class, Object.class, Runnable.class));
            run = l.findVirtual(contClass, "run", MethodType.methodType(void.class))
                    .asType(MethodType.methodType(void.class, Object.class));
            yield = l.findStatic(contClass, "yield", MethodType.methodType(boolean.class, scopeClass))
                    .asType(MethodType.methodType(boolean.class, Object.class));
            isDone = l.findVirtual(contClass, "isDone", MethodType.methodType(boolean.class))
                    .asType(MethodType.methodType(boolean.class, Object.class));
            stack = l.findVirtual(contClass, "getStackTrace", MethodType.methodType(StackTraceElement[].class))
                    .asType(MethodType.methodType(StackTraceElement[].class, Object.class));
        } catch (Throwable t) {
            failure = t;
        }
        SCOPE = scope;
        NEW = ctor;
        RUN = run;
        YIELD = yield;
        IS_DONE = isDone;
        STACK = stack;
        UNAVAILABLE = failure;
    }

    private final Object continuation;
    private boolean suspended;

    ContinuationStrand(Runnable body) {
        try {
            continuation = (Object) NEW.invokeExact(SCOPE, body);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot create a continuation", t);
        }
    }

    /** Fails if the continuation API cannot be used in this JVM. */
    static void check() {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException("jdk.internal.vm.Continuation is not usable: " + UNAVAILABLE, UNAVAILABLE);
        }
    }

    @Override
    public void resume() {
        suspended = false;
        try {
            RUN.invokeExact(continuation);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void suspend() {
        boolean yielded;
        suspended = true;
        try {
            yielded = (boolean) YIELD.invokeExact(SCOPE);
        } catch (IllegalStateException e) {
            suspended = false;
            throw pinned(e);
        } catch (RuntimeException | Error e) {
            suspended = false;
            throw e;
        } catch (Throwable t) {
            suspended = false;
            throw new IllegalStateException(t);
        }
        if (!yielded) {
            suspended = false;
            throw pinned(null);
        }
    }

    private static IllegalStateException pinned(Throwable cause) {
        return new IllegalStateException("await() cannot suspend this task: its body is inside a native frame or a "
                + "critical section (the continuation is pinned); await outside it, or run with "
                + "-Dtulip.coroutines=vthread", cause);
    }

    @Override
    public boolean isDone() {
        try {
            return (boolean) IS_DONE.invokeExact(continuation);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public StackTraceElement[] stackTrace() {
        if (!suspended) {
            return new StackTraceElement[0];
        }
        try {
            return (StackTraceElement[]) STACK.invokeExact(continuation);
        } catch (Throwable t) {
            return new StackTraceElement[0];
        }
    }

    @Override
    public Thread bodyThread() {
        return null;
    }
}
