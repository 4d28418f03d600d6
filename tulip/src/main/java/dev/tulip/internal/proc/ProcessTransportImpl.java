package dev.tulip.internal.proc;

import dev.tulip.ExceptionContext;
import dev.tulip.Future;
import dev.tulip.Handle;
import dev.tulip.internal.loop.TulipLoop;
import dev.tulip.transport.BaseTransport;
import dev.tulip.transport.ProcessOptions;
import dev.tulip.transport.SubprocessProtocol;
import dev.tulip.transport.SubprocessTransport;
import dev.tulip.transport.TransportInfo;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * A child process started with {@link ProcessBuilder}, its pipes bridged to the loop by {@link ThreadPipeReader} and
 * {@link ThreadPipeWriter}. Exit is detected with {@link Process#onExit()} (the JDK's reaper thread, no polling).
 *
 * <p>Loop thread only.
 */
public final class ProcessTransportImpl implements SubprocessTransport {
    private static final System.Logger LOG = System.getLogger("dev.tulip.process");

    private final TulipLoop loop;
    private final Process process;
    private final SubprocessProtocol protocol;
    private final Future<Integer> exit;
    private final ThreadPipeWriter stdin;
    private final ThreadPipeReader stdout;
    private final ThreadPipeReader stderr;
    private final String what;
    private int openPipes;
    private boolean exited;
    private boolean closing;
    private boolean lost;
    private Integer returnCode;
    private Handle scopeRegistration;

    private ProcessTransportImpl(TulipLoop loop, Process process, SubprocessProtocol protocol, ProcessOptions o,
                                 String what) {
        this.loop = loop;
        this.process = process;
        this.protocol = protocol;
        this.what = what;
        this.exit = new Future<>(loop);
        long pid = process.pid();
        this.stdin = o.stdin() == Redirect.PIPE ? new ThreadPipeWriter(loop, process.getOutputStream(),
                new WriteSink(), "tulip-stdin-" + pid) : null;
        this.stdout = o.stdout() == Redirect.PIPE ? new ThreadPipeReader(loop, process.getInputStream(),
                new ReadSink(1), "tulip-stdout-" + pid) : null;
        this.stderr = o.stderr() == Redirect.PIPE && !o.stderrToStdout() ? new ThreadPipeReader(loop,
                process.getErrorStream(), new ReadSink(2), "tulip-stderr-" + pid) : null;
        openPipes = (stdin != null ? 1 : 0) + (stdout != null ? 1 : 0) + (stderr != null ? 1 : 0);
    }

    /**
     * Starts {@code argv}; the future completes with the transport once the child runs (connectionMade is scheduled
     * first), or fails if it cannot be started (no such program, permission denied).
     */
    public static Future<SubprocessTransport> start(TulipLoop loop, Supplier<? extends SubprocessProtocol> factory,
                                                    List<String> argv, ProcessOptions options) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(argv, "argv");
        Objects.requireNonNull(options, "options");
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        for (String a : argv) {
            Objects.requireNonNull(a, "argv element");
        }
        if (options.stdin() == Redirect.DISCARD) {
            throw new IllegalArgumentException("stdin cannot be DISCARD: use Redirect.from(new File(\"/dev/null\"))");
        }
        loop.checkThread();
        if (loop.isClosed()) {
            throw new IllegalStateException("event loop is closed");
        }
        Future<SubprocessTransport> result = new Future<>(loop);
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.redirectInput(options.stdin());
        pb.redirectOutput(options.stdout());
        pb.redirectError(options.stderrToStdout() ? Redirect.PIPE : options.stderr());
        pb.redirectErrorStream(options.stderrToStdout());
        if (!options.inheritEnvironment()) {
            pb.environment().clear();
        }
        pb.environment().putAll(options.environment());
        if (options.directory() != null) {
            pb.directory(options.directory().toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException | RuntimeException e) {
            result.setException(e);
            return result;
        }
        SubprocessProtocol protocol = Objects.requireNonNull(factory.get(), "protocol factory returned null");
        ProcessTransportImpl t = new ProcessTransportImpl(loop, p, protocol, options, String.join(" ", argv));
        t.scopeRegistration = loop.currentScopeImpl().onCancel(t::close);
        loop.callSoonSystem(() -> {
            try {
                protocol.connectionMade(t);
            } catch (RuntimeException e) {
                t.protocolFailed("connectionMade", e);
            }
            // Pipes start after connectionMade is queued: their data comes through the thread-safe inbox, later.
            if (t.stdin != null) {
                t.stdin.start();
            }
            if (t.stdout != null) {
                t.stdout.start();
            }
            if (t.stderr != null) {
                t.stderr.start();
            }
        });
        p.onExit().whenComplete((proc, err) -> {
            try {
                loop.callSoonThreadsafe(t::onExit);
            } catch (IllegalStateException loopClosed) {
                // the loop is gone: the JDK reaped the child anyway
            }
        });
        result.setResult(t);
        return result;
    }

    private void onExit() {
        if (exited) {
            return;
        }
        exited = true;
        returnCode = process.exitValue();
        exit.setResult(returnCode);
        if (stdin != null) {
            // The child's end of stdin is closed now: flush what is queued (a broken pipe if anything is) and end,
            // as asyncio's pipe transport does when it sees the reader go away.
            stdin.close();
        }
        try {
            protocol.processExited();
        } catch (RuntimeException e) {
            protocolFailed("processExited", e);
        }
        tryFinish();
    }

    private void pipeClosed(int fd, Throwable cause) {
        openPipes--;
        try {
            protocol.pipeConnectionLost(fd, cause);
        } catch (RuntimeException e) {
            protocolFailed("pipeConnectionLost", e);
        }
        tryFinish();
    }

    private void tryFinish() {
        if (lost || !exited || openPipes > 0) {
            return;
        }
        lost = true;
        closing = true;
        if (scopeRegistration != null) {
            scopeRegistration.cancel();
        }
        try {
            protocol.connectionLost(null);
        } catch (RuntimeException e) {
            protocolFailed("connectionLost", e);
        }
    }

    private void protocolFailed(String callback, RuntimeException e) {
        loop.callExceptionHandler(new ExceptionContext("subprocess protocol " + callback + " failed; killing " + what,
                e, null, null, this, protocol));
        close();
    }

    @Override
    public long pid() {
        return process.pid();
    }

    @Override
    public OptionalInt returnCode() {
        return returnCode == null ? OptionalInt.empty() : OptionalInt.of(returnCode);
    }

    @Override
    public Future<Integer> exitFuture() {
        return exit;
    }

    @Override
    public BaseTransport pipeTransport(int fd) {
        return switch (fd) {
            case 0 -> stdin;
            case 1 -> stdout;
            case 2 -> stderr;
            default -> throw new IllegalArgumentException("fd must be 0, 1 or 2: " + fd);
        };
    }

    @Override
    public void sendSignal(String signal) {
        String name = Signals.normalize(signal);
        if (exited) {
            return;
        }
        switch (name) {
            case "TERM" -> process.destroy();
            case "KILL" -> process.destroyForcibly();
            default -> {
                try {
                    // The JDK offers only TERM and KILL; kill(1) sends the rest. Its exit status is irrelevant: the
                    // child may exit between our check and the signal.
                    new ProcessBuilder("kill", "-s", name, Long.toString(process.pid()))
                            .redirectErrorStream(true).redirectOutput(Redirect.DISCARD).start().waitFor();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot run kill(1) to send SIG" + name, e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    @Override
    public void terminate() {
        if (!exited) {
            process.destroy();
        }
    }

    @Override
    public void kill() {
        if (!exited) {
            process.destroyForcibly();
        }
    }

    @Override
    public void close() {
        if (closing) {
            return;
        }
        closing = true;
        if (stdin != null) {
            stdin.close();
        }
        if (!exited && process.isAlive()) {
            LOG.log(System.Logger.Level.DEBUG, () -> "closing transport of running child " + pid() + ": killing it");
            process.destroyForcibly();
        }
        // stdout/stderr reach EOF when the child is gone; their readers then report and tryFinish completes.
    }

    @Override
    public boolean isClosing() {
        return closing;
    }

    @Override
    public TransportInfo info() {
        return TransportInfo.plain(null, null, null);
    }

    @Override
    public String toString() {
        return "SubprocessTransport[pid=" + pid() + ", " + what + (exited ? ", exit=" + returnCode : ", running") + "]";
    }

    private final class ReadSink implements ThreadPipeReader.Sink {
        private final int fd;

        ReadSink(int fd) {
            this.fd = fd;
        }

        @Override
        public void data(ByteBuffer data) {
            protocol.pipeDataReceived(fd, data);
        }

        @Override
        public void closed(Throwable cause) {
            pipeClosed(fd, cause);
        }
    }

    private final class WriteSink implements ThreadPipeWriter.Sink {
        @Override
        public void pauseWriting() {
            protocol.pauseWriting();
        }

        @Override
        public void resumeWriting() {
            protocol.resumeWriting();
        }

        @Override
        public void closed(Throwable cause) {
            pipeClosed(0, cause);
        }
    }
}
