package dev.tulip.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.EventLoop;
import dev.tulip.Future;
import dev.tulip.Scope;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real child processes through {@link EventLoop#subprocessExec}: pipes, exit codes, signals, flow control. */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class SubprocessTest {
    private EventLoop loop;

    @BeforeEach
    void open() {
        loop = EventLoop.create();
    }

    @AfterEach
    void close() {
        loop.close();
    }

    /** After every child of this class: no child process left (none a zombie) and no pipe thread left running. */
    @org.junit.jupiter.api.AfterAll
    static void noZombieNoLeakedThread() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((ProcessHandle.current().children().findAny().isPresent()
                || dev.tulip.internal.proc.ThreadPipeReader.liveThreads() > 0
                || dev.tulip.internal.proc.ThreadPipeWriter.liveThreads() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(10); // threads end asynchronously after their pipe closed; bounded wait, no timing assertion
        }
        assertEquals(List.of(), ProcessHandle.current().children().map(ProcessHandle::pid).toList(), "children left");
        assertEquals(0, dev.tulip.internal.proc.ThreadPipeReader.liveThreads(), "pipe reader threads left");
        assertEquals(0, dev.tulip.internal.proc.ThreadPipeWriter.liveThreads(), "pipe writer threads left");
    }

    /** Records everything a child does, in order. */
    static class Recorder implements SubprocessProtocol {
        final List<String> events = new ArrayList<>();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final Future<Void> lost;
        SubprocessTransport transport;
        long outBytes;

        Recorder(EventLoop loop) {
            lost = loop.createFuture();
        }

        @Override
        public void connectionMade(SubprocessTransport t) {
            transport = t;
            events.add("made");
        }

        @Override
        public void pipeDataReceived(int fd, ByteBuffer data) {
            if (!events.contains("data")) {
                events.add("data");
            }
            outBytes += fd == 1 ? data.remaining() : 0;
            byte[] b = new byte[data.remaining()];
            data.get(b);
            if (outBytes < 1 << 20) {
                (fd == 1 ? out : err).writeBytes(b);
            }
        }

        @Override
        public void pipeConnectionLost(int fd, Throwable cause) {
            events.add("pipe" + fd + (cause == null ? "" : "!"));
        }

        @Override
        public void processExited() {
            events.add("exited");
        }

        @Override
        public void connectionLost(Throwable cause) {
            events.add("lost");
            lost.setResult(null);
        }

        String out() {
            return out.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return err.toString(StandardCharsets.UTF_8);
        }
    }

    private Recorder run(List<String> argv, ProcessOptions options, java.util.function.Consumer<Recorder> afterStart) {
        Recorder r = new Recorder(loop);
        Future<SubprocessTransport> f = loop.subprocessExec(() -> r, argv, options);
        SubprocessTransport t = loop.runUntilComplete(f);
        if (afterStart != null) {
            r.transport = t; // the future completes before connectionMade runs
            afterStart.accept(r);
        }
        loop.runUntilComplete(r.lost);
        assertTrue(t.returnCode().isPresent());
        return r;
    }

    @Test
    void catEchoesStdinAndTheCallOrderIsRight() {
        Recorder r = run(List.of("cat"), ProcessOptions.defaults(), rec -> {
            WriteTransport in = (WriteTransport) rec.transport.pipeTransport(0);
            loop.callSoon(() -> {
                in.write(ByteBuffer.wrap("hello\nworld\n".getBytes(StandardCharsets.UTF_8)));
                in.writeEof();
            });
        });
        assertEquals("hello\nworld\n", r.out());
        assertEquals(0, r.transport.returnCode().getAsInt());
        assertEquals("made", r.events.get(0));
        assertEquals("lost", r.events.get(r.events.size() - 1));
        assertTrue(r.events.containsAll(List.of("pipe0", "pipe1", "pipe2", "exited")), r.events.toString());
        assertEquals(0, loop.runUntilComplete(r.transport.exitFuture()));
    }

    @Test
    void nonZeroExitAndSeparateStderr() {
        Recorder r = run(List.of("sh", "-c", "echo out; echo err >&2; exit 3"), ProcessOptions.defaults(), null);
        assertEquals("out\n", r.out());
        assertEquals("err\n", r.err());
        assertEquals(3, r.transport.returnCode().getAsInt());
    }

    @Test
    void stderrToStdoutMergesTheStreams() {
        Recorder r = run(List.of("sh", "-c", "echo a; echo b >&2; echo c"),
                ProcessOptions.defaults().withStderrToStdout(), null);
        assertEquals("a\nb\nc\n", r.out());
        assertEquals(null, r.transport.pipeTransport(2));
    }

    @Test
    void shellVariantEnvironmentAndDirectory(@TempDir Path dir) throws IOException {
        Recorder r = new Recorder(loop);
        ProcessOptions o = ProcessOptions.defaults().withEnvironment(Map.of("TULIP_X", "bar"), true)
                .withDirectory(dir.toRealPath());
        loop.runUntilComplete(loop.subprocessShell(() -> r, "echo $TULIP_X; pwd", o));
        loop.runUntilComplete(r.lost);
        assertEquals("bar\n" + dir.toRealPath() + "\n", r.out());
    }

    @Test
    void emptyEnvironmentWhenNotInherited() {
        Recorder r = run(List.of("/usr/bin/env"), ProcessOptions.defaults().withEnvironment(Map.of("ONLY", "1"), false),
                null);
        assertEquals("ONLY=1\n", r.out());
    }

    @Test
    void redirectToFileAndInheritAndDiscard(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("out.txt");
        Recorder r = run(List.of("sh", "-c", "echo to-file; echo gone >&2"),
                ProcessOptions.defaults().withStdout(Redirect.to(file.toFile())).withStderr(Redirect.DISCARD)
                        .withStdin(Redirect.from(new File("/dev/null"))), null);
        assertEquals("to-file\n", Files.readString(file));
        assertEquals(null, r.transport.pipeTransport(0));
        assertEquals(null, r.transport.pipeTransport(1));
        assertEquals(List.of("made", "exited", "lost"), r.events);
    }

    @Test
    void yesPipedToHeadCountsExactly() {
        Recorder r = run(List.of("sh", "-c", "yes | head -c 100000"), ProcessOptions.defaults(), null);
        assertEquals(100_000, r.outBytes);
        assertEquals(0, r.transport.returnCode().getAsInt());
    }

    @Test
    void hundredMebibytesOfOutput() {
        Recorder r = run(List.of("head", "-c", "104857600", "/dev/zero"), ProcessOptions.defaults(), null);
        assertEquals(100L << 20, r.outBytes);
    }

    @Test
    void killAndTerminateGiveSignalReturnCodes() {
        Recorder killed = run(List.of("sleep", "100"), ProcessOptions.defaults(), rec -> rec.transport.kill());
        assertEquals(128 + 9, killed.transport.returnCode().getAsInt());
        Recorder terminated = run(List.of("sleep", "100"), ProcessOptions.defaults(), rec -> rec.transport.terminate());
        assertEquals(128 + 15, terminated.transport.returnCode().getAsInt());
    }

    @Test
    void sendSignalReachesTheChild() {
        Recorder r = new Recorder(loop) {
            @Override
            public void pipeDataReceived(int fd, ByteBuffer data) {
                super.pipeDataReceived(fd, data);
                if (out().startsWith("ready") && !events.contains("signalled")) {
                    events.add("signalled");
                    transport.sendSignal("SIGUSR1");
                }
            }
        };
        loop.runUntilComplete(loop.subprocessExec(() -> r, List.of("sh", "-c",
                "trap 'echo got; exit 7' USR1; echo ready; while :; do sleep 0.02; done"), ProcessOptions.defaults()));
        loop.runUntilComplete(r.lost);
        assertEquals("ready\ngot\n", r.out());
        assertEquals(7, r.transport.returnCode().getAsInt());
        assertThrows(IllegalArgumentException.class, () -> r.transport.sendSignal("NOT A SIGNAL"));
    }

    @Test
    void largeStdinToASlowReaderRespectsWaterMarks() {
        int total = 8 << 20;
        long[] maxBuffered = {0};
        int[] written = {0};
        Recorder r = new Recorder(loop) {
            boolean paused;

            void pump() {
                WriteTransport in = (WriteTransport) transport.pipeTransport(0);
                while (!paused && written[0] < total) {
                    in.write(ByteBuffer.allocate(64 * 1024));
                    written[0] += 64 * 1024;
                    maxBuffered[0] = Math.max(maxBuffered[0], in.writeBufferSize());
                }
                if (written[0] >= total) {
                    in.writeEof();
                }
            }

            @Override
            public void connectionMade(SubprocessTransport t) {
                super.connectionMade(t);
                pump();
            }

            @Override
            public void pauseWriting() {
                paused = true;
            }

            @Override
            public void resumeWriting() {
                paused = false;
                if (written[0] < total) {
                    pump();
                }
            }
        };
        loop.runUntilComplete(loop.subprocessExec(() -> r, List.of("sh", "-c", "sleep 0.2; wc -c"),
                ProcessOptions.defaults()));
        loop.runUntilComplete(r.lost);
        assertEquals(Integer.toString(total), r.out().strip());
        assertTrue(maxBuffered[0] <= 64 * 1024 + 64 * 1024, "buffered " + maxBuffered[0]);
    }

    @Test
    void pauseReadingStopsDeliveryUntilResumed() {
        long[] atPause = {-1};
        Recorder r = new Recorder(loop) {
            @Override
            public void pipeDataReceived(int fd, ByteBuffer data) {
                super.pipeDataReceived(fd, data);
                if (atPause[0] < 0) {
                    ReadTransport out = (ReadTransport) transport.pipeTransport(1);
                    out.pauseReading();
                    atPause[0] = outBytes;
                    loop.callLater(Duration.ofMillis(200), () -> {
                        assertEquals(atPause[0], outBytes, "data delivered while paused");
                        out.resumeReading();
                    });
                }
            }
        };
        loop.runUntilComplete(loop.subprocessExec(() -> r, List.of("head", "-c", "5000000", "/dev/zero"),
                ProcessOptions.defaults()));
        loop.runUntilComplete(r.lost);
        assertEquals(5_000_000, r.outBytes);
        assertTrue(atPause[0] > 0 && atPause[0] <= 64 * 1024);
    }

    @Test
    void closeKillsARunningChildAndLeavesNoZombie() {
        Recorder r = run(List.of("sleep", "100"), ProcessOptions.defaults(), rec -> rec.transport.close());
        assertEquals(128 + 9, r.transport.returnCode().getAsInt());
        assertTrue(r.transport.isClosing());
        long pid = r.transport.pid();
        assertTrue(ProcessHandle.current().children().noneMatch(p -> p.pid() == pid), "child not reaped");
    }

    @Test
    void cancellingTheScopeKillsTheChild() {
        Scope scope = loop.rootScope().newChild("work");
        Recorder r = new Recorder(loop);
        Future<SubprocessTransport>[] f = new Future[1];
        scope.run(() -> f[0] = loop.subprocessExec(() -> r, List.of("sleep", "100"), ProcessOptions.defaults()));
        loop.runUntilComplete(f[0]);
        loop.callSoon(scope::cancel);
        loop.runUntilComplete(r.lost);
        assertEquals(128 + 9, r.transport.returnCode().getAsInt());
    }

    @Test
    void missingProgramFailsTheFuture() {
        Future<SubprocessTransport> f = loop.subprocessExec(() -> new Recorder(loop),
                List.of("/nonexistent/tulip-no-such-program"), ProcessOptions.defaults());
        CompletionException e = assertThrows(CompletionException.class, () -> loop.runUntilComplete(f));
        assertInstanceOf(IOException.class, e.getCause());
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class,
                () -> loop.subprocessExec(() -> new Recorder(loop), List.of(), ProcessOptions.defaults()));
        assertThrows(NullPointerException.class,
                () -> loop.subprocessExec(() -> new Recorder(loop), null, ProcessOptions.defaults()));
        assertThrows(IllegalArgumentException.class, () -> loop.subprocessExec(() -> new Recorder(loop),
                List.of("cat"), ProcessOptions.defaults().withStdin(Redirect.DISCARD)));
        assertThrows(IllegalArgumentException.class, () -> loop.runUntilComplete(loop.subprocessExec(
                () -> new Recorder(loop), List.of("true"), ProcessOptions.defaults())).pipeTransport(3));
    }

    @Test
    void closedLoopRefusesNewChildren() {
        EventLoop other = EventLoop.create();
        other.close();
        assertThrows(IllegalStateException.class,
                () -> other.subprocessExec(() -> new Recorder(other), List.of("true"), ProcessOptions.defaults()));
    }
}
