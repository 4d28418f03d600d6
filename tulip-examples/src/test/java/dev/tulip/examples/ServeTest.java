package dev.tulip.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code ./tulipw serve}: a real child JVM serves, a real client talks to it, Ctrl-C (SIGINT) stops it cleanly. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ServeTest {

    private static Process start(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (new java.io.File("/usr/bin/env").canExecute()
                && new ProcessBuilder("/usr/bin/env", "--default-signal=INT", "true").start().waitFor() == 0) {
            // A child inherits an ignored SIGINT (this JVM started as a background job of a shell without job
            // control), and the JVM installs no handler over an ignored INT: reset it, as a terminal's child has it.
            cmd.addAll(List.of("/usr/bin/env", "--default-signal=INT"));
        }
        cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("java.class.path"), Serve.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    @Test
    void httpServesUntilCtrlC() throws Exception {
        Process p = start("http", "--port", "0");
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = out.readLine();
            Matcher m = Pattern.compile(":(\\d+)\\]").matcher(line == null ? "" : line);
            assertTrue(m.find(), "no listening line: " + line);
            int port = Integer.parseInt(m.group(1));
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertEquals("Hello, World!", r.body());
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
            String rest = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), rest);
            assertTrue(rest.contains("serve: stopped"), rest);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void helpAndUnknownServer() throws Exception {
        Process help = start("--help");
        String text = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, help.waitFor());
        assertTrue(text.contains("tls-echo") && text.contains("udp-echo"), text);
        Process sub = start("echo", "--help");
        assertTrue(new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8).contains("--unix"));
        assertEquals(0, sub.waitFor());
        Process bad = start("nonsense");
        bad.getInputStream().readAllBytes();
        assertEquals(2, bad.waitFor());
    }
}
