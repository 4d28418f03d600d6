package dev.tulip.transport;

import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * How to start a child process: what each standard stream is connected to, the environment and the working
 * directory. Immutable; the {@code with*} methods return modified copies.
 *
 * <p>Each of stdin/stdout/stderr is a {@link Redirect}: {@link Redirect#PIPE} (the default: a pipe the loop reads or
 * writes), {@link Redirect#INHERIT} (this JVM's own stream), {@link Redirect#DISCARD} (stdout/stderr only; for stdin
 * use {@code Redirect.from(new File("/dev/null"))}), or a file ({@link Redirect#to}, {@link Redirect#appendTo},
 * {@link Redirect#from}). {@code stderrToStdout} merges stderr into stdout (asyncio's {@code stderr=STDOUT}).
 *
 * @param stdin          the child's standard input
 * @param stdout         the child's standard output
 * @param stderr         the child's standard error (ignored when {@code stderrToStdout})
 * @param stderrToStdout whether stderr goes where stdout goes
 * @param environment    variables to set (or to override), never null
 * @param inheritEnvironment whether the child starts from this JVM's environment (true) or an empty one
 * @param directory      the working directory, or null for this JVM's
 */
public record ProcessOptions(Redirect stdin, Redirect stdout, Redirect stderr, boolean stderrToStdout,
                             Map<String, String> environment, boolean inheritEnvironment, Path directory) {

    /**
     * Validates and copies.
     *
     * @throws NullPointerException if a redirect or the environment map is null
     */
    public ProcessOptions {
        Objects.requireNonNull(stdin, "stdin");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        environment = Map.copyOf(environment);
    }

    /**
     * All three streams piped, environment inherited, current directory.
     *
     * @return the default options
     */
    public static ProcessOptions defaults() {
        return new ProcessOptions(Redirect.PIPE, Redirect.PIPE, Redirect.PIPE, false, Map.of(), true, null);
    }

    /**
     * @param r the redirect for stdin
     * @return a copy with stdin changed
     */
    public ProcessOptions withStdin(Redirect r) {
        return new ProcessOptions(r, stdout, stderr, stderrToStdout, environment, inheritEnvironment, directory);
    }

    /**
     * @param r the redirect for stdout
     * @return a copy with stdout changed
     */
    public ProcessOptions withStdout(Redirect r) {
        return new ProcessOptions(stdin, r, stderr, stderrToStdout, environment, inheritEnvironment, directory);
    }

    /**
     * @param r the redirect for stderr
     * @return a copy with stderr changed (and not merged into stdout)
     */
    public ProcessOptions withStderr(Redirect r) {
        return new ProcessOptions(stdin, stdout, r, false, environment, inheritEnvironment, directory);
    }

    /**
     * @return a copy with stderr merged into stdout
     */
    public ProcessOptions withStderrToStdout() {
        return new ProcessOptions(stdin, stdout, stderr, true, environment, inheritEnvironment, directory);
    }

    /**
     * @param env     variables to set
     * @param inherit whether to start from this JVM's environment
     * @return a copy with the environment changed
     */
    public ProcessOptions withEnvironment(Map<String, String> env, boolean inherit) {
        return new ProcessOptions(stdin, stdout, stderr, stderrToStdout, env, inherit, directory);
    }

    /**
     * @param dir the working directory, or null for this JVM's
     * @return a copy with the directory changed
     */
    public ProcessOptions withDirectory(Path dir) {
        return new ProcessOptions(stdin, stdout, stderr, stderrToStdout, environment, inheritEnvironment, dir);
    }
}
