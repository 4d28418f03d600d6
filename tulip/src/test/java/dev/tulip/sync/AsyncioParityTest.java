package dev.tulip.sync;

import static dev.tulip.sync.SyncTesting.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tulip.Task;
import dev.tulip.Tulip;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Interop with CPython: one program using Event, Semaphore, Lock, Queue (with join) and Condition runs on Tulip and
 * on {@code /usr/bin/python3}'s asyncio, and both must produce the same trace, step for step. The program avoids the
 * cases where Tulip differs on purpose (newcomers barging, cancellation), so any difference is a bug in wake-up
 * order or task scheduling. Skipped when python3 (3.8+) is absent.
 */
@Timeout(60)
class AsyncioParityTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    /** The Java twin of sync_parity.py. */
    private static List<String> program() {
        return run(() -> {
            List<String> log = new ArrayList<>();
            Lock lock = new Lock();
            Event ev = new Event();
            Semaphore sem = new Semaphore(2);
            Queue<Integer> q = new Queue<>();
            Condition cond = new Condition();
            List<Integer> ready = new ArrayList<>();
            List<Task<?>> tasks = new ArrayList<>();
            for (int n = 0; n < 4; n++) {
                int i = n;
                tasks.add(Task.spawn(() -> {
                    ev.await();
                    log.add("w" + i + " event");
                    try (var permit = sem.acquired()) {
                        log.add("w" + i + " sem in");
                        Tulip.sleep(Duration.ZERO);
                        try (var held = lock.acquired()) {
                            log.add("w" + i + " lock");
                            Tulip.sleep(Duration.ZERO);
                        }
                        log.add("w" + i + " sem out");
                    }
                    q.put(i);
                    log.add("w" + i + " put");
                    try (var held = cond.acquired()) {
                        ready.add(i);
                        cond.signal();
                    }
                    log.add("w" + i + " notified");
                    return null;
                }));
            }
            tasks.add(Task.spawn(() -> {
                for (int k = 0; k < 4; k++) {
                    int item = q.get();
                    log.add("got " + item);
                    Tulip.sleep(Duration.ZERO);
                    q.taskDone();
                }
                return null;
            }));
            tasks.add(Task.spawn(() -> {
                try (var held = cond.acquired()) {
                    cond.awaitUntil(() -> ready.size() == 4);
                    log.add("ready " + ready);
                }
                return null;
            }));
            Tulip.sleep(Duration.ZERO);
            log.add("set");
            ev.set();
            tasks.get(0).await();
            log.add("w0 done");
            q.join();
            log.add("joined");
            for (Task<?> t : tasks) {
                t.await();
            }
            return log;
        });
    }

    @Test
    void sameTraceAsCPythonAsyncio() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "needs /usr/bin/python3 for the asyncio side");
        Path script = Files.createTempFile("sync_parity", ".py");
        try (InputStream in = AsyncioParityTest.class.getResourceAsStream("sync_parity.py")) {
            Files.write(script, in.readAllBytes());
        }
        try {
            List<String> python = runPython(script);
            assertEquals(python, program());
        } finally {
            Files.deleteIfExists(script);
        }
    }

    private static List<String> runPython(Path script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PYTHON.toString(), script.toString()).redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("python3 did not finish");
        }
        assertEquals(0, p.exitValue(), "python3 failed:\n" + out);
        return out.lines().toList();
    }
}
