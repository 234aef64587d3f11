package brig.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The pure cgroup v2 guest the v2 tests run in (these machines are v1 hybrids): a stock Debian
 * kernel under QEMU, booted by the project's src/test/vm/run-in-vm.sh, which shares this host's
 * files read-only, so a test makes its bundles here and runs brig there.
 *
 * <p>Where no VM can run (no qemu, no kernel package) the test is skipped, loudly: an abort
 * naming the reason and a line on stderr. With BRIG_VM_REQUIRED=1 (set by .ci/run) it fails
 * instead, so CI cannot go green without the v2 tests.
 */
public final class Vm {
    private Vm() {}

    /** The harness; tests run from the project's directory. */
    public static final Path SCRIPT = Path.of("src/test/vm/run-in-vm.sh").toAbsolutePath();

    /** Set once by {@link #requireAvailable}: the guest is ready, or why it cannot run. */
    private static String unavailable;
    private static boolean prepared;

    /**
     * Fetches the kernel and builds the initramfs into the cache if needed (minutes at most,
     * once per machine); aborts the calling test, loudly, when no VM can run here.
     */
    public static synchronized void requireAvailable() {
        if (!prepared) {
            Brig.Result r = Brig.exec(null, List.of(SCRIPT.toString(), "--prepare"), null, env(), 900);
            if (r.exit() == 3) {
                unavailable = r.err().strip();
            } else if (r.exit() != 0) {
                throw new AssertionError(SCRIPT + " --prepare failed (exit " + r.exit() + "): " + r.out() + r.err());
            }
            prepared = true;
        }
        if (unavailable != null) {
            String why = "the cgroup v2 tests need a VM: " + unavailable;
            if ("1".equals(System.getenv("BRIG_VM_REQUIRED"))) throw new AssertionError(why + " (and BRIG_VM_REQUIRED=1)");
            System.err.println("*** SKIPPED: " + why);
            Assumptions.abort("SKIPPED: " + why);
        }
    }

    /**
     * Where a test's files for the guest go: {@code @TempDir(factory = Vm.GuestDir.class) Path dir;}
     * makes a directory under target/, not /tmp (the guest mounts a fresh /tmp of its own),
     * readable by all (the guest's unprivileged users read bundles there); JUnit removes it
     * after the test.
     */
    public static final class GuestDir implements org.junit.jupiter.api.io.TempDirFactory {
        @Override
        public Path createTempDirectory(org.junit.jupiter.api.extension.AnnotatedElementContext element,
                                        org.junit.jupiter.api.extension.ExtensionContext context) throws Exception {
            return workDir(context.getRequiredTestClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + "-");
        }
    }

    /**
     * Runs {@code script} with sh as root in a fresh guest, in {@code cwd} (which must not be
     * under /tmp: the guest has a /tmp of its own); its stdout, stderr and exit code.
     */
    public static Brig.Result run(Path cwd, String script, int timeoutSeconds) {
        requireAvailable();
        return Brig.exec(cwd, List.of(SCRIPT.toString(), "--timeout", String.valueOf(timeoutSeconds), "--", "sh", "-c", script),
                null, env(), timeoutSeconds + 60);
    }

    /**
     * A fresh directory for what the host makes and the guest reads (bundles, stores): under
     * target/, not /tmp, since the guest mounts a /tmp of its own; world-readable, as the guest's
     * root reads it over 9p. Remove it with {@link #removeDir}.
     */
    public static Path workDir(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), prefix);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    /** Removes a {@link #workDir} and everything in it (null: nothing to do). */
    public static void removeDir(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) return;
        try (var s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * The shell command that runs a test class's {@code main} in the guest with this JVM and
     * its class path (the guest sees both read-only) and this build's distribution (brig.dist, as
     * failsafe passes it), started lean: C1 only and the serial
     * collector (under TCG a full JIT doubles a short probe's time).
     */
    public static String javaMain(Class<?> main) {
        String java = ProcessHandle.current().info().command().orElseThrow();
        return java + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED -Dbrig.dist=" + Brig.dist() + " -cp "
                + System.getProperty("java.class.path") + " '" + main.getName() + "'"; // quoted: a nested class's '$'
    }

    /**
     * A guest script's output by its sections: a line "--- NAME [anything]" starts section
     * NAME, whose text is the lines up to the next such line (each with its newline). A boot is
     * too dear to run one check at a time, so a script runs many and the test asserts on each.
     */
    public static Map<String, String> sections(String out) {
        Map<String, String> s = new LinkedHashMap<>();
        String name = null;
        List<String> lines = new ArrayList<>();
        for (String line : (out + "--- \n").lines().toList()) {
            if (line.startsWith("--- ")) {
                if (name != null) s.put(name, lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
                name = line.substring(4).replaceFirst(" .*", "");
                lines.clear();
            } else {
                lines.add(line);
            }
        }
        return s;
    }

    /** A plain PATH, and the harness's own settings (BRIG_VM_QEMU, BRIG_VM_CACHE, ...) passed on. */
    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("BRIG_VM_")) env.put(k, v);
        });
        return env;
    }
}
