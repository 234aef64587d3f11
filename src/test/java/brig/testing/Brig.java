package brig.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the packaged brig launcher (target/brig/bin/brig), as a user would. */
public final class Brig {
    private Brig() {}

    /** The distribution directory the build made; failsafe passes it as brig.dist. */
    public static Path dist() {
        return Path.of(System.getProperty("brig.dist", "target/brig")).toAbsolutePath();
    }

    public static Path launcher() {
        return dist().resolve("bin/brig");
    }

    /** What a finished command printed and returned. */
    public record Result(int exit, String out, String err) {
        public Result expect(int code) {
            if (exit != code) throw new AssertionError("expected exit " + code + ", got " + exit + "\nstdout: " + out + "\nstderr: " + err);
            return this;
        }
    }

    public static Result run(Path cwd, List<String> args) {
        return run(cwd, args, null, Map.of(), 60);
    }

    public static Result run(Path cwd, String... args) {
        return run(cwd, List.of(args));
    }

    /**
     * @param stdin bytes for stdin, or null for an empty stdin
     * @param env extra environment (the base is empty, as engines give runtimes)
     */
    public static Result run(Path cwd, List<String> args, byte[] stdin, Map<String, String> env, int timeoutSeconds) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher().toString());
        cmd.addAll(args);
        return exec(cwd, cmd, stdin, env, timeoutSeconds);
    }

    /** Runs any command with an empty environment plus {@code env}. */
    public static Result exec(Path cwd, List<String> cmd, byte[] stdin, Map<String, String> env, int timeoutSeconds) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd == null ? null : cwd.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            CompletableFuture<String> out = drain(p.getInputStream()), err = drain(p.getErrorStream());
            try (var in = p.getOutputStream()) {
                if (stdin != null) in.write(stdin);
            } catch (IOException ignored) {
                // the process may not read its stdin
            }
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
                throw new AssertionError("timed out after " + timeoutSeconds + " s: " + cmd + "\nstdout: " + out.join() + "\nstderr: " + err.join());
            }
            return new Result(p.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Runs any command with stdin /dev/null and its output through files in {@code scratch},
     * not pipes: a created container (or an engine's conmon, shim) inherits stdout and stderr
     * and keeps them open long after the command has exited, so a pipe would not end. An empty
     * environment plus {@code env}; on a timeout the command and its descendants are killed.
     */
    public static Result execThroughFiles(Path cwd, Path scratch, Map<String, String> env, int timeoutSeconds, List<String> cmd) {
        return execThroughFiles(cwd, scratch, env, timeoutSeconds, cmd, null);
    }

    /** As {@link #execThroughFiles(Path, Path, Map, int, List)}, with {@code stdin} written to the command's stdin (null: /dev/null). */
    public static Result execThroughFiles(Path cwd, Path scratch, Map<String, String> env, int timeoutSeconds, List<String> cmd, byte[] stdin) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd == null ? null : cwd.toFile());
        if (stdin == null) pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Path out = Files.createTempFile(scratch, "out", ""), err = Files.createTempFile(scratch, "err", "");
            try {
                Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (stdin != null) {
                    try (var in = p.getOutputStream()) {
                        in.write(stdin);
                    }
                }
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor();
                    throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd)
                            + "\nstdout: " + Files.readString(out) + "\nstderr: " + Files.readString(err));
                }
                return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * On a thread of its own: reading blocks until the process ends, and on the common pool (one
     * worker on 2 cores) a long run's drain held up every other call's (a concurrent `container
     * top` waited for the run to end).
     */
    private static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }, task -> Thread.ofPlatform().daemon().start(task));
    }

    public static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
