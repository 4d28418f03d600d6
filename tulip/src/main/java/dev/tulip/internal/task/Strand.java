package dev.tulip.internal.task;

/**
 * The coroutine engine seam: one task body that can give control back to the loop and be resumed later. Two
 * implementations behave identically: {@link VirtualThreadStrand} (a virtual thread with a strict hand-off) and
 * {@link ContinuationStrand} ({@code jdk.internal.vm.Continuation} run by the loop thread).
 *
 * <p>Exactly one side runs at a time: {@link #resume()} returns only when the body has called {@link #suspend()} or
 * finished; {@link #suspend()} returns only when the loop calls {@link #resume()} again. Each hand-off is a
 * happens-before edge, so the body may touch loop state without further synchronization.
 */
public abstract class Strand {

    /** Loop side: runs the body until it suspends or finishes (starts it on the first call). */
    public abstract void resume();

    /** Body side: gives control back to the caller of {@link #resume()}; returns when resumed. */
    public abstract void suspend();

    /** Whether the body has finished (returned or thrown). */
    public abstract boolean isDone();

    /** The body's stack where it is suspended, or an empty array if unknown, running or done. */
    public abstract StackTraceElement[] stackTrace();

    /** The thread that runs the body while it runs (the task's virtual thread, or the loop thread). */
    public abstract Thread bodyThread();
}
