package dev.tulip;

/**
 * The body of a {@link Task}: plain sequential code that may {@link Future#await() await} futures, returns a value
 * (use {@code null} and {@code Coroutine<Void>} when there is none) and may throw.
 *
 * <p>A coroutine runs only inside a task, one step at a time between awaits, never at the same time as the loop's
 * callbacks or other task bodies of its loop.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface Coroutine<T> {

    /**
     * Runs the body.
     *
     * @return the task's result
     * @throws Exception the task's failure (a {@link java.util.concurrent.CancellationException} ends the task as
     *                   cancelled)
     */
    T call() throws Exception;
}
