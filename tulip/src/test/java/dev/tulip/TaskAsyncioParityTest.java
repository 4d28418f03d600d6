package dev.tulip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The same programs run by CPython's asyncio ({@code asyncio/task_order.py}) and by Tulip must log the same steps in
 * the same order. Skipped, with the reason, when {@code python3} is not installed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskAsyncioParityTest {
    private static List<List<String>> asyncio;

    @BeforeAll
    static void runAsyncio() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "python3 is not installed: no asyncio to compare with");
        Path script = Files.createTempFile("task_order", ".py");
        try (InputStream in = TaskAsyncioParityTest.class.getResourceAsStream("/asyncio/task_order.py")) {
            Files.write(script, in.readAllBytes());
        }
        Process p = new ProcessBuilder(python.toString(), script.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, "python3 asyncio failed: " + out);
        Files.deleteIfExists(script);
        asyncio = new ArrayList<>();
        for (String line : out.strip().split("\n")) {
            asyncio.add(parseStringList(line.strip()));
        }
    }

    /** Parses a JSON list of plain strings (no escapes), as the script prints. */
    static List<String> parseStringList(String json) {
        String body = json.substring(1, json.length() - 1).strip();
        List<String> l = new ArrayList<>();
        if (body.isEmpty()) {
            return l;
        }
        for (String s : body.substring(1, body.length() - 1).split("\", \"", -1)) {
            l.add(s);
        }
        return l;
    }

    private static List<String> runOnVirtualTime(Coroutine<Void> program, List<String> log) {
        try (EventLoop loop = EventLoop.builder().virtualTime(true).build()) {
            loop.runUntilComplete(loop.createTask(program));
        }
        return log;
    }

    @Test
    void stepOrder() {
        List<String> log = new ArrayList<>();
        runOnVirtualTime(() -> {
            EventLoop loop = EventLoop.current();
            Future<String> f = loop.createFuture();
            Task<Integer> t1 = Task.spawn(() -> child(log, 1, f));
            loop.callSoon(() -> log.add("cb1"));
            Task<Integer> t2 = Task.spawn(() -> child(log, 2, f));
            f.addDoneCallback(x -> log.add("fdone"));
            log.add("main");
            Tulip.sleep(Duration.ZERO);
            log.add("main2");
            loop.callSoon(() -> {
                log.add("set");
                f.setResult("v");
            });
            Tulip.sleep(Duration.ZERO);
            log.add("main3");
            log.add("t1=" + t1.await());
            t2.await();
            log.add("done");
            return null;
        }, log);
        assertEquals(asyncio.get(0), log);
    }

    private static int child(List<String> log, int n, Future<String> f) {
        log.add("start" + n);
        Tulip.sleep(Duration.ZERO);
        log.add("mid" + n);
        String v = f.await();
        log.add("got" + n + ":" + v);
        Tulip.sleep(Duration.ZERO);
        log.add("end" + n);
        return n;
    }

    @Test
    void cancellation() {
        List<String> log = new ArrayList<>();
        runOnVirtualTime(() -> {
            Task<String> t = Task.spawn(() -> {
                Task<?> me = Task.current();
                try {
                    Tulip.sleep(Duration.ofSeconds(10));
                } catch (CancellationException e) {
                    log.add("w caught " + e.getMessage() + " cancelling=" + me.cancelling());
                    me.uncancel();
                }
                log.add("w continues");
                Tulip.sleep(Duration.ZERO);
                log.add("w end");
                return "w";
            });
            Tulip.sleep(Duration.ZERO);
            log.add("cancel -> " + t.cancel("m1"));
            log.add("cancelling=" + t.cancelling());
            String r = t.await();
            log.add("r=" + r + " cancelled=" + t.isCancelled() + " cancel-after=" + t.cancel());
            Task<Void> s1 = Task.spawn(() -> sleeper(log, "s1"));
            Task<Void> s2 = Task.spawn(() -> sleeper(log, "s2"));
            Tulip.sleep(Duration.ZERO);
            s2.cancel();
            s1.cancel();
            for (Task<Void> s : List.of(s1, s2)) {
                try {
                    s.await();
                } catch (CancellationException e) {
                    log.add("awaited cancelled " + (s == s1 ? "s1" : "s2"));
                }
            }
            return null;
        }, log);
        assertEquals(asyncio.get(1), log);
    }

    private static Void sleeper(List<String> log, String name) {
        try {
            Tulip.sleep(Duration.ofSeconds(10));
        } finally {
            log.add(name + " unwound");
        }
        return null;
    }
}
