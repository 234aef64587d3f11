package brig.engines;

import brig.testing.Brig;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a client command (podman, ctr, skopeo) as a user at a shell would, with a PATH and the
 * given environment. Output goes through files, not pipes: engines leave daemons behind them
 * (conmon, shims) that may keep inherited pipes open long after the client has exited.
 */
final class Cmd {
    private Cmd() {}

    static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    static Brig.Result run(Path scratch, Map<String, String> env, int timeoutSeconds, String... cmd) {
        return run(scratch, env, timeoutSeconds, List.of(cmd));
    }

    static Brig.Result run(Path scratch, Map<String, String> env, int timeoutSeconds, List<String> cmd) {
        try {
            Path out = Files.createTempFile(scratch, "out", ""), err = Files.createTempFile(scratch, "err", "");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(scratch.toFile()).redirectInput(new File("/dev/null"))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            Map<String, String> e = new HashMap<>(Map.of("PATH", PATH));
            e.putAll(env);
            pb.environment().clear();
            pb.environment().putAll(e);
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd)
                        + "\nstdout: " + Files.readString(out) + "\nstderr: " + Files.readString(err));
            }
            Brig.Result r = new Brig.Result(p.exitValue(), Files.readString(out), Files.readString(err));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** {@code cmd} under util-linux's script(1): its stdin, stdout and stderr are a terminal. */
    static List<String> inTerminal(List<String> cmd) {
        StringBuilder line = new StringBuilder();
        for (String a : cmd) line.append(line.isEmpty() ? "" : " ").append('\'').append(a.replace("'", "'\\''")).append('\'');
        return List.of("script", "-qec", line.toString(), "/dev/null");
    }

    static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }
}
