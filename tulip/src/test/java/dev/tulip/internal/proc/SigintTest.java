package dev.tulip.internal.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Ctrl-C in a real child JVM: Tulip.run turns SIGINT into cancelling the main task, so finally blocks run. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SigintTest {

    @Test
    void sigintCancelsTheMainTaskAndFinallyRuns() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/env"))
                && new ProcessBuilder("/usr/bin/env", "--default-signal=INT", "true").start().waitFor() == 0) {
            // A child inherits an ignored SIGINT (this JVM started as a background job of a shell without job
            // control), and the JVM installs no handler over an ignored INT: reset it, as a terminal's child has it.
            cmd.addAll(List.of("/usr/bin/env", "--default-signal=INT"));
        }
        cmd.addAll(List.of(java, "-cp", System.getProperty("java.class.path"), SigintMain.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = r.readLine();
            lines.add(line);
            assertEquals("ready", line, "child did not start: " + line);
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor());
            for (String l; (l = r.readLine()) != null; ) {
                lines.add(l);
            }
        } finally {
            p.destroyForcibly();
        }
        assertEquals(3, p.waitFor(), lines.toString());
        assertEquals(List.of("ready", "finally ran", "cancelled: interrupted by SIGINT"), lines);
    }
}
