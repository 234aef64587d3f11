package brig.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs brig's lifecycle verbs on one state root, output through files ({@link
 * Brig#execThroughFiles}): a created container keeps brig's stdout and stderr open.
 */
public final class Lifecycle {
    private final Path root;
    private final Path scratch;

    public Lifecycle(Path root, Path scratch) {
        this.root = root;
        this.scratch = scratch;
    }

    public Path root() { return root; }

    /** brig --root ROOT ARGS..., run in {@code cwd}, with an empty environment plus {@code env}. */
    public Brig.Result brig(Path cwd, Map<String, String> env, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Brig.launcher().toString(), "--root", root.toString()));
        cmd.addAll(args);
        return exec(cwd, env, cmd);
    }

    public Brig.Result brig(Path cwd, String... args) {
        return brig(cwd, Map.of(), List.of(args));
    }

    public Brig.Result exec(Path cwd, Map<String, String> env, List<String> cmd) {
        return Brig.execThroughFiles(cwd, scratch, env, 60, cmd);
    }

    /** The "status" of `brig state ID`, or the error when it fails. */
    public String status(String id) {
        Brig.Result r = brig(null, "state", id);
        if (r.exit() != 0) return r.err().strip();
        return brig.json.Json.parseQuietly(r.out()).getAsJsonObject().get("status").getAsString();
    }

    /** Waits (up to 10 s) until `brig state ID` says {@code status}. */
    public void awaitStatus(String id, String status) {
        String now = "";
        for (int k = 0; k < 200; k++) {
            now = status(id);
            if (now.equals(status)) return;
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError(id + " did not become " + status + ": " + now);
    }
}
