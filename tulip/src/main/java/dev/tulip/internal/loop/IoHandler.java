package dev.tulip.internal.loop;

/**
 * Receives readiness for a registered channel. Called on the loop thread, as a ready-queue entry.
 */
@FunctionalInterface
public interface IoHandler {
    /**
     * The channel is ready.
     *
     * @param readyOps the ready set ({@link java.nio.channels.SelectionKey} bits)
     */
    void ioReady(int readyOps) throws Exception;
}
