package brig.cli;

import brig.json.Json;
import brig.runtime.Planner;
import brig.runtime.Runtime;
import brig.runtime.Started;
import brig.spec.SpecDefaults;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * `brig demo`: a container that needs no image. Its rootfs is an empty directory with the
 * host's /usr bind-mounted read-only (inside the container's own mount namespace), so it runs
 * anywhere Brig runs, and shows its own hostname, that it is PID 1, and its fresh /proc.
 */
final class DemoCommand {
    private DemoCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.bool("print every kernel step first", "explain"));

    static final String SCRIPT = """
            echo "hostname:   $(uname -n)"
            echo "my pid:     $$"
            echo "namespaces: $(cd /proc/self/ns && for n in pid mnt uts ipc net; do printf '%s ' "$(readlink $n)"; done)"
            echo "processes in my /proc:"
            for d in /proc/[0-9]*; do echo "  ${d#/proc/} $(cat $d/comm)"; done
            """;

    static int run(Invocation inv, Args a) throws Exception {
        a.exactly("demo", 0);
        Path bundle = null;
        try {
            String tmp = inv.env("TMPDIR");
            bundle = Files.createTempDirectory(inv.path(tmp == null || tmp.isEmpty() ? "/tmp" : tmp), "brig-demo-");
            writeHostBundle(bundle, List.of("/bin/sh", "-c", SCRIPT), "brig-demo");

            String id = "brig-demo-" + inv.caller().pid();
            Runtime rt = new Runtime(inv.globals().root(), inv.helper());
            Runtime.Prepared p = rt.prepare(id, new Runtime.Options(bundle, false, 0), Planner.Mode.RUN);
            if (a.bool("explain")) {
                inv.out().println("The plan, step by step:");
                inv.out().print(p.explain().indent(2));
                inv.out().println();
            }
            inv.out().println("host:       " + brig.syscalls.ProcFs.read("/proc/sys/kernel/hostname").trim()
                    + ", brig's pid " + inv.caller().pid());
            inv.out().flush();
            // A Ctrl-C reaches the container (it is in the terminal's process group): this JVM
            // stays to remove it and its bundle.
            inv.host().ignoreDirectSignals();
            Started s = rt.start(p, 0);
            return s.waitFor();
        } finally {
            if (bundle != null) deleteTree(inv, bundle);
        }
    }

    /**
     * A bundle that needs no image: an empty rootfs with the host's /usr bound read-only, and
     * /bin, /sbin, /lib, /lib64 bound too or, where the host has them as symlinks (merged
     * /usr), the same symlinks. runc's default config otherwise, without a terminal.
     */
    static void writeHostBundle(Path bundle, List<String> argv, String hostname) throws IOException {
        Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
        JsonObject config = SpecDefaults.config(false, 0, 0);
        JsonObject process = config.getAsJsonObject("process");
        process.addProperty("terminal", false);
        JsonArray args = new JsonArray();
        for (String s : argv) args.add(s);
        process.add("args", args);
        config.addProperty("hostname", hostname);
        JsonArray mounts = config.getAsJsonArray("mounts");
        mounts.add(bind("/usr", "/usr"));
        for (String top : List.of("bin", "sbin", "lib", "lib64")) {
            Path host = Path.of("/" + top);
            if (Files.isSymbolicLink(host)) {
                Files.createSymbolicLink(rootfs.resolve(top), Files.readSymbolicLink(host));
            } else if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
                mounts.add(bind(host.toString(), host.toString()));
            }
        }
        Files.writeString(bundle.resolve("config.json"), Json.pretty(config));
    }

    private static JsonObject bind(String source, String dest) {
        JsonObject m = new JsonObject();
        m.addProperty("destination", dest);
        m.addProperty("type", "bind");
        m.addProperty("source", source);
        JsonArray o = new JsonArray();
        for (String s : List.of("rbind", "ro", "nosuid", "nodev")) o.add(s);
        m.add("options", o);
        return m;
    }

    /** Removes the bundle; stays on its filesystem and never follows symlinks. */
    private static void deleteTree(Invocation inv, Path root) {
        try (var walk = Files.walk(root)) {
            Object dev = Files.getAttribute(root, "unix:dev");
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                if (!Files.isSymbolicLink(p) && !dev.equals(Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS))) continue;
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            inv.err().println("brig: cannot remove " + root + ": " + e.getMessage());
        }
    }
}
