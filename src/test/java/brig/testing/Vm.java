package brig.testing;

import java.nio.file.Path;
import java.util.HashMap;
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
            String prefix = context.getRequiredTestClass().getSimpleName().toLowerCase(java.util.Locale.ROOT) + "-";
            Path dir = java.nio.file.Files.createTempDirectory(Path.of("target").toAbsolutePath(), prefix);
            java.nio.file.Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            return dir;
        }
    }

    /**
     * The sh command line that runs {@code main} in the guest on this JVM with the test's class
     * path (the guest sees this host's files); the class name quoted (a nested class's '$').
     */
    public static String javaCommand(Class<?> main) {
        return ProcessHandle.current().info().command().orElseThrow() + " --enable-native-access=ALL-UNNAMED -cp "
                + System.getProperty("java.class.path") + " '" + main.getName() + "'";
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

    /** A plain PATH, and the harness's own settings (BRIG_VM_QEMU, BRIG_VM_CACHE, ...) passed on. */
    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>(Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"));
        System.getenv().forEach((k, v) -> {
            if (k.startsWith("BRIG_VM_")) env.put(k, v);
        });
        return env;
    }
}
