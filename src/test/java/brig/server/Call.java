package brig.server;

import brig.testing.Brig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What a call of bin/brig gave: its exit status, its stderr, and the pid it ran as (the pid an
 * engine or systemd sees as its peer). For the ITs that check who the caller's peer is.
 */
record Call(int exit, String err, long pid) {
    /**
     * bin/brig --root ROOT ARGS in {@code cwd} with exactly {@code env}, stdin /dev/null, stdout
     * discarded and stderr to a file in {@code tmp} (a container may hold them open).
     */
    static Call of(Path root, Path tmp, Path cwd, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Brig.launcher().toString(), "--root", root.toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(tmp, "err", "");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Call(p.exitValue(), Files.readString(err), p.pid());
    }
}
