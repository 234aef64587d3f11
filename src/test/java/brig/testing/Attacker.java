package brig.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * src/test/c/attacker.c, built static once per test run (the build needs a C compiler for the
 * helper anyway), so that it runs in a busybox rootfs as well as on the host.
 */
public final class Attacker {
    private Attacker() {}

    private static Path binary;

    public static synchronized Path binary() throws IOException {
        if (binary != null) return binary;
        Path src = Path.of("src/test/c/attacker.c").toAbsolutePath();
        Path out = Path.of("target/test-attacker").toAbsolutePath();
        Brig.Result r = Brig.exec(null, List.of("cc", "-std=gnu11", "-O1", "-Wall", "-static", "-o", out.toString(), src.toString()),
                null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 120);
        if (r.exit() != 0) throw new AssertionError("cannot build " + src + ": " + r.err());
        binary = out;
        return out;
    }

    /** Copies the attacker into a rootfs as /attacker. */
    public static Path into(Path rootfs) throws IOException {
        Path p = rootfs.resolve("attacker");
        Files.copy(binary(), p);
        return p;
    }
}
