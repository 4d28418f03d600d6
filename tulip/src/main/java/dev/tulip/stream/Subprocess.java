package dev.tulip.stream;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Task;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.internal.proc.PipeConnections;
import dev.tulip.transport.ProcessOptions;
import dev.tulip.transport.ReadTransport;
import dev.tulip.transport.SubprocessProtocol;
import dev.tulip.transport.SubprocessTransport;
import dev.tulip.transport.WriteTransport;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A child process seen through streams (asyncio's {@code asyncio.subprocess.Process}): a {@link StreamWriter} on its
 * stdin and {@link StreamReader}s on its stdout and stderr (each null when that stream is not a pipe), plus
 * {@link #waitFor()} and {@link #communicate(byte[])}. Start one with {@link Streams#createSubprocessExec} or
 * {@link Streams#createSubprocessShell}.
 *
 * <p>Output flows with backpressure: when a reader's buffer passes its limit the pipe stops being read, the child
 * blocks on a full pipe, and memory stays bounded. That is why reading stdout to the end before reading stderr can
 * deadlock with a chatty child, exactly as in asyncio; {@link #communicate(byte[])} reads both at once and cannot.
 *
 * <p>Cancellation: cancelling a task inside {@link #waitFor()} or {@link #communicate(byte[])} ends the wait and
 * leaves the child running (as asyncio does); kill it with {@link #kill()} if that is what you want, or let the scope
 * that started it be cancelled (which kills it). The JDK reaps every child when it exits, so none stays a zombie.
 *
 * <p>Loop thread (or task bodies of its loop) only.
 */
public final class Subprocess {

    /**
     * What {@link #communicate(byte[])} collected.
     *
     * @param stdout     everything the child wrote to stdout (empty if stdout was not a pipe)
     * @param stderr     everything it wrote to stderr (empty if stderr was not a pipe)
     * @param returnCode its return code (128+N if killed by signal N)
     */
    public record Result(byte[] stdout, byte[] stderr, int returnCode) {
    }

    private final SubprocessTransport transport;
    private final StreamWriter stdin;
    private final StreamReader stdout;
    private final StreamReader stderr;

    private Subprocess(SubprocessTransport transport, StreamWriter stdin, StreamReader stdout, StreamReader stderr) {
        this.transport = transport;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** Starts the child and wires one StreamProtocol per pipe. */
    static Future<Subprocess> start(EventLoop eventLoop, List<String> argv, ProcessOptions options) {
        TulipLoop loop = (TulipLoop) Objects.requireNonNull(eventLoop, "loop");
        StreamProtocol[] pipes = {new StreamProtocol(loop), new StreamProtocol(loop), new StreamProtocol(loop)};
        SubprocessProtocol forward = new SubprocessProtocol() {
            @Override
            public void connectionMade(SubprocessTransport t) {
                // Wired in the future's callback below, before any pipe data can arrive (the data comes later,
                // through the loop's thread-safe inbox).
            }

            @Override
            public void pipeDataReceived(int fd, ByteBuffer data) {
                pipes[fd].dataReceived(data);
            }

            @Override
            public void pipeConnectionLost(int fd, Throwable cause) {
                if (cause == null && fd != 0) {
                    pipes[fd].eofReceived();
                }
                pipes[fd].connectionLost(cause);
            }

            @Override
            public void pauseWriting() {
                pipes[0].pauseWriting();
            }

            @Override
            public void resumeWriting() {
                pipes[0].resumeWriting();
            }
        };
        Future<SubprocessTransport> started = loop.subprocessExec(() -> forward, argv, options);
        Future<Subprocess> result = new Future<>(loop);
        started.addDoneCallback(f -> {
            if (f.isCancelled()) {
                result.cancel();
                return;
            }
            Throwable failure = f.exception();
            if (failure != null) {
                result.setException(failure);
                return;
            }
            SubprocessTransport t = f.result();
            StreamWriter in = null;
            StreamReader out = null;
            StreamReader err = null;
            if (t.pipeTransport(0) instanceof WriteTransport w) {
                pipes[0].connectionMade(PipeConnections.asTransport(null, w));
                in = pipes[0].connection().result().writer();
            }
            if (t.pipeTransport(1) instanceof ReadTransport r) {
                pipes[1].connectionMade(PipeConnections.asTransport(r, null));
                out = pipes[1].reader();
            }
            if (t.pipeTransport(2) instanceof ReadTransport r) {
                pipes[2].connectionMade(PipeConnections.asTransport(r, null));
                err = pipes[2].reader();
            }
            result.setResult(new Subprocess(t, in, out, err));
        });
        return result;
    }

    /**
     * The writer on the child's stdin, or null if stdin is not a pipe.
     *
     * @return the stdin writer
     */
    public StreamWriter stdin() {
        return stdin;
    }

    /**
     * The reader on the child's stdout, or null if stdout is not a pipe.
     *
     * @return the stdout reader
     */
    public StreamReader stdout() {
        return stdout;
    }

    /**
     * The reader on the child's stderr, or null if stderr is not a pipe (or merged into stdout).
     *
     * @return the stderr reader
     */
    public StreamReader stderr() {
        return stderr;
    }

    /**
     * The child's process id.
     *
     * @return the pid
     */
    public long pid() {
        return transport.pid();
    }

    /**
     * The return code once the child has exited.
     *
     * @return the code, or empty while it runs
     */
    public OptionalInt returnCode() {
        return transport.returnCode();
    }

    /**
     * Waits until the child exits and returns its return code. A cancellation point: cancelling the waiting task
     * does not kill the child.
     *
     * @return the return code (128+N if killed by signal N)
     */
    public int waitFor() {
        return shieldedExit().await();
    }

    /**
     * Sends {@code input} (if not null) to stdin and closes it, reads stdout and stderr to their ends at the same
     * time, and waits for the child to exit. It cannot deadlock on full pipes: writing and both reads proceed
     * concurrently (as child tasks). A cancellation point: cancelling the task stops the reading and writing but
     * leaves the child running.
     *
     * @param input bytes for stdin, or null to send nothing (stdin is still closed if it is a pipe)
     * @return what the child wrote and its return code
     * @throws IllegalStateException if input is given but stdin is not a pipe
     */
    public Result communicate(byte[] input) {
        if (input != null && stdin == null) {
            throw new IllegalStateException("communicate(input) needs stdin to be a pipe (ProcessOptions.stdin PIPE)");
        }
        Task<byte[]> out = stdout == null ? null : Task.spawn("communicate stdout " + pid(), stdout::readAll);
        Task<byte[]> err = stderr == null ? null : Task.spawn("communicate stderr " + pid(), stderr::readAll);
        if (stdin != null) {
            try {
                if (input != null && input.length > 0) {
                    stdin.write(input);
                    stdin.drain();
                }
            } catch (java.io.UncheckedIOException brokenPipe) {
                // the child stopped reading (exited early): asyncio ignores BrokenPipeError here, and so do we
            } finally {
                stdin.close();
            }
        }
        byte[] o = out == null ? new byte[0] : out.await();
        byte[] e = err == null ? new byte[0] : err.await();
        return new Result(o, e, waitFor());
    }

    /**
     * Sends a signal ("HUP", "USR1", ...) to the child.
     *
     * @param signal the signal name
     */
    public void sendSignal(String signal) {
        transport.sendSignal(signal);
    }

    /** Asks the child to terminate (SIGTERM). */
    public void terminate() {
        transport.terminate();
    }

    /** Kills the child (SIGKILL). */
    public void kill() {
        transport.kill();
    }

    /**
     * The underlying transport.
     *
     * @return the subprocess transport
     */
    public SubprocessTransport transport() {
        return transport;
    }

    @Override
    public String toString() {
        return "Subprocess[" + transport + "]";
    }

    /** The exit future seen through a fresh future, so that cancelling a waiter never cancels the shared one. */
    private Future<Integer> shieldedExit() {
        Future<Integer> exit = transport.exitFuture();
        Future<Integer> view = new Future<>(exit.loop());
        exit.addDoneCallback(f -> {
            if (!view.isDone()) {
                view.setResult(f.result());
            }
        });
        return view;
    }
}
