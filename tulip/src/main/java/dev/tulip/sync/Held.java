package dev.tulip.sync;

/**
 * A held lock or semaphore permit, for try-with-resources: {@link #close()} releases it.
 *
 * <pre>{@code
 * try (var held = lock.acquired()) {
 *     ... // the lock is held here
 * }
 * }</pre>
 *
 * <p>The object is reused by its lock or semaphore (acquiring allocates nothing), so close it once, in the task that
 * acquired it. Threading: loop thread only.
 */
public interface Held extends AutoCloseable {

    /**
     * Releases the lock or the permit.
     *
     * @throws IllegalStateException if the lock is not held by the current task (released twice, or by another task)
     */
    @Override
    void close();
}
