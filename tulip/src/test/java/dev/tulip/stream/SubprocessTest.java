package dev.tulip.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tulip.Task;
import dev.tulip.Tulip;
import dev.tulip.transport.ProcessOptions;
import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The streams-level process API over real children: readers, writer, waitFor, communicate. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SubprocessTest {

    @Test
    void readLinesAndExitCode() {
        int code = Tulip.run(() -> {
            Subprocess p = Streams.createSubprocessExec(List.of("sh", "-c", "echo first; echo second; exit 4"),
                    ProcessOptions.defaults()).await();
            assertEquals("first", new String(p.stdout().readLine(), StandardCharsets.UTF_8).strip());
            assertEquals("second", new String(p.stdout().readLine(), StandardCharsets.UTF_8).strip());
            assertEquals(0, p.stdout().readAll().length);
            return p.waitFor();
        });
        assertEquals(4, code);
    }

    @Test
    void communicateWithBigInputAndOutputAtOnceCannotDeadlock() throws Exception {
        byte[] input = new byte[16 << 20];
        new Random(42).nextBytes(input);
        // cat echoes 16 MiB while we are still writing, and the child also writes 1 MiB to stderr first: a
        // sequential write-then-read would fill both pipes and deadlock.
        Subprocess.Result r = Tulip.run(() -> Streams.createSubprocessShell(
                "head -c 1048576 /dev/zero >&2; cat", ProcessOptions.defaults()).await().communicate(input));
        assertEquals(0, r.returnCode());
        assertEquals(1 << 20, r.stderr().length);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        assertArrayEquals(md.digest(input), MessageDigest.getInstance("SHA-256").digest(r.stdout()));
    }

    @Test
    void communicateWithoutInputClosesStdin() {
        Subprocess.Result r = Tulip.run(() -> Streams.createSubprocessExec(List.of("wc", "-c"),
                ProcessOptions.defaults()).await().communicate(null));
        assertEquals("0", new String(r.stdout(), StandardCharsets.UTF_8).strip());
    }

    @Test
    void stdinWriterWithDrainAgainstASlowReader() {
        String out = Tulip.run(() -> {
            Subprocess p = Streams.createSubprocessShell("sleep 0.1; wc -c", ProcessOptions.defaults()).await();
            byte[] chunk = new byte[64 * 1024];
            long maxBuffered = 0;
            for (int i = 0; i < 64; i++) {
                p.stdin().write(chunk);
                maxBuffered = Math.max(maxBuffered, p.stdin().bufferSize());
                p.stdin().drain();
            }
            p.stdin().close();
            assertTrue(maxBuffered <= 128 * 1024, "buffered " + maxBuffered);
            String s = new String(p.stdout().readAll(), StandardCharsets.UTF_8).strip();
            assertEquals(0, p.waitFor());
            return s;
        });
        assertEquals(Integer.toString(64 * 64 * 1024), out);
    }

    @Test
    void cancellingAWaitLeavesTheChildRunningUntilKilled() {
        Tulip.run(() -> {
            Subprocess p = Streams.createSubprocessExec(List.of("sleep", "100"), ProcessOptions.defaults()).await();
            Task<Integer> waiter = Task.spawn(p::waitFor);
            Tulip.sleep(Duration.ofMillis(50));
            waiter.cancel("changed my mind");
            assertThrows(CancellationException.class, waiter::await);
            assertFalse(p.returnCode().isPresent(), "cancelling the wait must not kill the child");
            p.kill();
            assertEquals(128 + 9, p.waitFor());
            return null;
        });
    }

    @Test
    void nonPipedStreamsAreNullAndInputNeedsAPipe() {
        Tulip.run(() -> {
            Subprocess p = Streams.createSubprocessExec(List.of("true"), ProcessOptions.defaults()
                    .withStdin(Redirect.from(new File("/dev/null"))).withStdout(Redirect.DISCARD)
                    .withStderr(Redirect.DISCARD)).await();
            assertNull(p.stdin());
            assertNull(p.stdout());
            assertNull(p.stderr());
            assertThrows(IllegalStateException.class, () -> p.communicate(new byte[1]));
            assertEquals(0, p.communicate(null).returnCode());
            return null;
        });
    }
}
