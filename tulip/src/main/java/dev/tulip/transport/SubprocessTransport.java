package dev.tulip.transport;

import dev.tulip.Future;
import java.util.OptionalInt;

/**
 * A child process and its pipes.
 *
 * <p>Return codes are what the JDK reports: the exit status, or 128+N for a child killed by signal N (asyncio
 * reports -N; the JDK does not let us tell the two apart).
 *
 * <p>No zombies: the JDK reaps every child on its process-reaper thread as soon as it exits, whether or not anyone
 * waits for it. {@link #close()} kills a child that is still running.
 *
 * <p>Loop thread only, except {@link #pid()}.
 */
public interface SubprocessTransport extends BaseTransport {

    /**
     * The child's process id.
     *
     * @return the pid
     */
    long pid();

    /**
     * The child's return code, once it has exited.
     *
     * @return the code, or empty while it runs
     */
    OptionalInt returnCode();

    /**
     * A future that completes with the return code when the child exits (never fails; cancelling it does not
     * affect the child).
     *
     * @return the exit future
     */
    Future<Integer> exitFuture();

    /**
     * The transport of one of the child's pipes: a {@link WriteTransport} for fd 0, a {@link ReadTransport} for fd 1
     * and 2.
     *
     * @param fd 0, 1 or 2
     * @return the pipe's transport, or null if that stream is not a pipe
     * @throws IllegalArgumentException if fd is not 0, 1 or 2
     */
    BaseTransport pipeTransport(int fd);

    /**
     * Sends a signal to the child (through the system's {@code kill} command, as the JDK offers only TERM and KILL).
     *
     * @param signal a signal name such as "HUP", "USR1", "INT" (with or without "SIG")
     * @throws IllegalArgumentException if the name is not a valid signal name
     */
    void sendSignal(String signal);

    /** Asks the child to terminate (SIGTERM). Does nothing once it has exited. */
    void terminate();

    /** Kills the child (SIGKILL). Does nothing once it has exited. */
    void kill();

    /**
     * Closes the pipes and kills the child if it is still running; {@code connectionLost} follows once it has exited.
     * Idempotent.
     */
    @Override
    void close();
}
