package brig.engines;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private containerd 1.6 (Debian's, with containerd-shim-runc-v2) started by the test: its
 * config, root, state and sockets in a directory of its own, the CRI plugin off, stopped by its
 * pid. Brig is given to it two ways, as docs/engines.md says: per container with ctr's
 * {@code --runc-binary} (and {@code --runc-root}), and as {@code runc} first on containerd's
 * PATH, which the shim runs when a container has no runtime options ({@code ctr container
 * create}, {@code ctr run --no-pivot}); that one is a script that notes each call in
 * {@link #pathRuncCalls()} before it execs Brig. Containers live in the namespace {@link #NS},
 * whose cgroups are /NS/ID: named after the test run, so NoLeaks sees what stays.
 */
final class Containerd implements Engine {
    static final String NS = NoLeaks.PREFIX + "ctr";
    /** Where the shim and ctr put things whatever the config says: removed if we made them and they are empty. */
    private static final List<Path> SHARED = List.of(Path.of("/run/containerd"), Path.of("/run/containerd/s"),
            Path.of("/run/containerd/runc"), Path.of("/run/containerd/runc/" + NS), Path.of("/run/containerd/fifo"));

    final Path dir;
    final Path socket;
    private final List<Path> madeByUs = new ArrayList<>();
    private Process daemon;

    private Containerd(Path dir) {
        this.dir = dir;
        this.socket = dir.resolve("c.sock");
    }

    /** Starts containerd in a new short directory (unix socket paths) and imports {@code image} as busybox:latest. */
    static Containerd start(EngineImage image) throws Exception {
        Tools.require("containerd", "/usr/bin/containerd");
        Tools.require("containerd", "/usr/bin/containerd-shim-runc-v2");
        Tools.require("util-linux", "/usr/bin/script");
        Containerd c = new Containerd(Files.createTempDirectory("bc"));
        try {
            c.boot(image);
        } catch (Throwable t) {
            c.close();
            throw t;
        }
        return c;
    }

    private void boot(EngineImage image) throws Exception {
        for (Path p : SHARED) if (!Files.exists(p)) madeByUs.add(p);
        for (String d : List.of("bin", "tmp", "fifo", "runc-root", "home")) Files.createDirectories(dir.resolve(d));
        Path runc = dir.resolve("bin/runc");
        Files.writeString(runc, "#!/bin/sh\necho \"$*\" >>" + dir.resolve("path-runc.log") + "\nexec " + Brig.launcher() + " \"$@\"\n");
        Files.setPosixFilePermissions(runc, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(dir.resolve("config.toml"), """
                version = 2
                root = "%1$s/root"
                state = "%1$s/state"
                disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
                  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]
                [grpc]
                  address = "%2$s"
                [ttrpc]
                  address = "%2$s.ttrpc"
                [debug]
                  address = "%1$s/debug.sock"
                [metrics]
                  address = ""
                """.formatted(dir, socket));
        ProcessBuilder pb = new ProcessBuilder("containerd", "--config", dir.resolve("config.toml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile()).redirectInput(new java.io.File("/dev/null"));
        pb.environment().clear();
        pb.environment().putAll(Map.of("PATH", dir.resolve("bin") + ":" + Cmd.PATH, "TMPDIR", dir.resolve("tmp").toString()));
        daemon = pb.start();
        for (int k = 0; k < 300; k++) {
            if (Files.exists(socket) && ctr("version").exit() == 0) break;
            if (!daemon.isAlive()) break;
            Thread.sleep(100);
        }
        if (!daemon.isAlive() || ctr("version").exit() != 0) {
            throw new AssertionError("containerd did not come up: " + Files.readString(dir.resolve("containerd.log")));
        }
        Path archive = dir.resolve("busybox-oci-archive.tar");
        image.copyTo("oci-archive:" + archive + ":" + EngineImage.NAME, dir.resolve("home"));
        ctr("images", "import", archive.toString()).expect(0);
    }

    List<String> command(String... args) {
        return Cmd.concat(List.of("ctr", "--address", socket.toString(), "--namespace", NS), args);
    }

    Brig.Result ctr(String... args) {
        return run(command(args));
    }

    Brig.Result run(List<String> cmd) {
        return Cmd.run(dir.resolve("tmp"), Map.of(), 90, cmd);
    }

    /** ctr run with Brig as the container's runtime (runc.v2 options BinaryName and Root) and FIFOs in our directory. */
    List<String> runWithBrig(String... rest) {
        return Cmd.concat(command("run", "--fifo-dir", dir.resolve("fifo").toString(), "--runc-binary", Brig.launcher().toString(),
                "--runc-root", dir.resolve("runc-root").toString()), rest);
    }

    /** What the runtime found as "runc" on containerd's PATH was asked, one line per call. */
    String pathRuncCalls() throws IOException {
        Path log = dir.resolve("path-runc.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /**
     * Kills and deletes every task and container of {@link #NS}, waits for their shims, and
     * removes the namespace's cgroups and its state directory in the default root. Returns
     * what had to be killed or could not be removed.
     */
    public List<String> removeAll() throws Exception {
        List<String> left = new ArrayList<>();
        if (daemon != null && daemon.isAlive()) {
            List<String> tasks = ctr("task", "ls", "-q").out().lines().filter(s -> !s.isBlank()).toList();
            for (String t : tasks) ctr("task", "kill", "-a", "-s", "SIGKILL", t);
            for (String t : tasks) {
                Brig.Result r = ctr("task", "delete", "-f", t);
                if (r.exit() != 0 && !r.err().contains("not found")) left.add("task delete " + t + ": " + r.err().strip());
            }
            for (String c : ctr("container", "ls", "-q").out().lines().filter(s -> !s.isBlank()).toList()) {
                Brig.Result r = ctr("container", "delete", c);
                if (r.exit() != 0) left.add("container delete " + c + ": " + r.err().strip());
            }
        }
        // A shim exits once containerd has deleted its last task; it names our socket.
        left.addAll(Leftovers.awaitGone("-address " + socket, 10));
        left.addAll(Leftovers.removeCgroups("/" + NS));
        Path defaultRoot = Path.of("/run/containerd/runc/" + NS);
        if (Files.isDirectory(defaultRoot)) {
            try (Stream<Path> s = Files.list(defaultRoot)) {
                s.forEach(p -> left.add("state " + p));
            }
        }
        return left;
    }

    @Override
    public void close() throws Exception {
        List<String> left = removeAll();
        if (daemon != null) {
            daemon.destroy();
            if (!daemon.waitFor(10, TimeUnit.SECONDS)) {
                left.add("containerd did not stop on SIGTERM");
                daemon.destroyForcibly().waitFor();
            }
        }
        left.addAll(Leftovers.awaitGone(socket.toString(), 5));
        for (String m : Leftovers.unmountUnder(dir)) left.add("mount " + m);
        for (Path p : madeByUs.reversed()) {
            if (!Files.isDirectory(p)) continue;
            try (Stream<Path> s = Files.walk(p)) {
                // directories only, and only when empty (rmdir): never another user's files
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                    if (!Files.isDirectory(q, java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
                    try {
                        Files.deleteIfExists(q);
                    } catch (IOException notEmpty) {
                        // in use by someone else
                    }
                }
            }
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
        if (!left.isEmpty()) throw new AssertionError("containerd left behind: " + left);
    }
}
