package brig.engines;

import brig.testing.Brig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a client command (podman, ctr, skopeo) as a user at a shell would, with a PATH and the
 * given environment. Output goes through files ({@link Brig#execThroughFiles}): engines leave
 * daemons behind them (conmon, shims) that may keep inherited pipes open long after the
 * client has exited.
 */
final class Cmd {
    private Cmd() {}

    static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    static Brig.Result run(Path scratch, Map<String, String> env, int timeoutSeconds, String... cmd) {
        return run(scratch, env, timeoutSeconds, List.of(cmd));
    }

    static Brig.Result run(Path scratch, Map<String, String> env, int timeoutSeconds, List<String> cmd) {
        Map<String, String> e = new HashMap<>(Map.of("PATH", PATH));
        e.putAll(env);
        return Brig.execThroughFiles(scratch, scratch, e, timeoutSeconds, cmd);
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
