package dev.tulip.transport;

import java.nio.ByteBuffer;

/**
 * The callbacks of a child process started with {@code EventLoop.subprocessExec} or {@code subprocessShell}.
 *
 * <p>Call order: {@code connectionMade} first; then, in any interleaving, {@code pipeDataReceived} for fd 1 and 2,
 * {@code pipeConnectionLost} once per pipe, and {@code processExited} once when the child exits (which can come
 * before the last output is delivered); {@code connectionLost} last, once the child has exited and every pipe is
 * closed.
 *
 * <p>Buffer ownership: the buffer given to {@link #pipeDataReceived} is valid only during the call.
 *
 * <p>Loop thread only.
 */
public interface SubprocessProtocol extends BaseProtocol {

    /**
     * The child was started.
     *
     * @param transport the child's transport
     */
    default void connectionMade(SubprocessTransport transport) {
    }

    /**
     * The child wrote to its stdout (fd 1) or stderr (fd 2).
     *
     * @param fd   1 or 2
     * @param data the bytes, between position and limit; valid only during this call
     */
    default void pipeDataReceived(int fd, ByteBuffer data) {
    }

    /**
     * One of the child's pipes closed: stdin (fd 0) after {@code writeEof}/close or an error, stdout or stderr at EOF.
     *
     * @param fd    0, 1 or 2
     * @param cause null at a regular EOF/close, otherwise the error
     */
    default void pipeConnectionLost(int fd, Throwable cause) {
    }

    /** The child exited; {@link SubprocessTransport#returnCode()} is now set. */
    default void processExited() {
    }
}
