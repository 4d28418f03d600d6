package dev.tulip.internal.loop;

import java.io.IOException;
import java.nio.channels.SelectableChannel;

/**
 * The seam between the scheduler and the operating system's readiness API: register interest, poll, wake up.
 * The first implementation is {@link SelectorBackend} ({@code java.nio.channels.Selector}); native backends (epoll
 * through the FFM API) plug in here without touching the scheduler.
 *
 * <p>Interest and ready sets use {@link java.nio.channels.SelectionKey}'s bits (OP_READ, OP_WRITE, OP_CONNECT,
 * OP_ACCEPT) whatever the backend.
 *
 * <p>Loop thread only, except {@link #wakeup()}, which any thread may call.
 */
public interface IoBackend extends AutoCloseable {

    /** A short name for logs ("nio", "epoll"). */
    String name();

    /**
     * Starts watching {@code channel}. The channel must be in non-blocking mode.
     *
     * @param channel the channel
     * @param ops     initial interest (may be 0)
     * @param handler called (through the ready queue) with the ready set
     * @param scope   the scope the readiness callbacks run in
     * @return the registration, which the caller uses to change interest and to deregister
     * @throws IOException           if the channel cannot be registered (closed, for instance)
     * @throws IllegalStateException if the channel is already registered with this backend
     */
    IoRegistration register(SelectableChannel channel, int ops, IoHandler handler, ScopeImpl scope) throws IOException;

    /**
     * Waits for readiness and hands each ready registration to {@link TulipLoop#enqueue(Callback)} after setting
     * its ready set.
     *
     * @param timeoutNanos 0 to poll without blocking, -1 to wait until something is ready or {@link #wakeup()}
     * @return how many registrations were made ready
     * @throws IOException if the backend itself fails
     */
    int poll(long timeoutNanos) throws IOException;

    /** Makes a blocked or the next {@link #poll} return at once. Any thread. */
    void wakeup();

    /** Releases the backend. Registrations are dropped (their channels are not closed). */
    @Override
    void close();
}
