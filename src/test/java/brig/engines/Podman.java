package brig.engines;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.Tools;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Podman (as root, no systemd) with Brig as its OCI runtime, configured as docs/engines.md
 * says: a containers.conf naming Brig in [engine.runtimes] and runtime_supports_json,
 * cgroup_manager = "cgroupfs", default_ulimits this machine can grant. Everything podman keeps
 * (storage, run root, tmp dir, events, network configs) is in one private directory, and
 * CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF point at files there,
 * so nothing of /etc/containers leaks in. Containers go below the cgroup {@link #CGROUP_PARENT}.
 */
final class Podman implements Engine {
    /** Every container's cgroup parent (and conmon's): named after the test run, so NoLeaks sees what stays. */
    static final String CGROUP_PARENT = "/" + NoLeaks.PREFIX + "podman";
    static final String IMAGE = "localhost/busybox:latest";

    final Path dir;
    private final Map<String, String> env;

    private Podman(Path dir, Map<String, String> env) {
        this.dir = dir;
        this.env = env;
    }

    /**
     * Writes the configuration in a new directory and puts {@code image} in podman's store as
     * localhost/busybox:latest. The directory is a short one of its own: conmon's attach socket
     * is TMP_DIR/socket/ID(64)/attach, and a unix socket's path holds at most 107 bytes.
     */
    static Podman start(EngineImage image) throws Exception {
        Path dir = Files.createTempDirectory("bp");
        Tools.require("podman", "/usr/bin/podman");
        Tools.require("conmon", "/usr/bin/conmon", "/usr/libexec/podman/conmon");
        for (String d : List.of("storage", "runroot", "volumes", "networks", "home")) Files.createDirectories(dir.resolve(d));
        // CAP_SYS_RESOURCE is missing here, so no runtime can raise rlimits past their hard
        // limits; podman asks for nofile 1048576 unless told otherwise. nproc must be repeated:
        // podman lowers its own to kernel.pid_max and asks for that once default_ulimits is set.
        long nofile = hardLimit("Max open files"), nproc = Math.min(hardLimit("Max processes"),
                Long.parseLong(Files.readString(Path.of("/proc/sys/kernel/pid_max")).trim()));
        String conf = """
                [containers]
                log_driver = "k8s-file"
                default_ulimits = ["nofile=%d:%d", "nproc=%d:%d"]

                [network]
                network_config_dir = "%s"

                [engine]
                cgroup_manager = "cgroupfs"
                events_logger = "file"
                events_logfile_path = "%s"
                conmon_path = ["/usr/bin/conmon", "/usr/libexec/podman/conmon"]
                tmp_dir = "%s"
                volume_path = "%s"
                runtime = "brig"
                runtime_supports_json = ["crun", "runc", "brig"]

                [engine.runtimes]
                brig = ["%s"]
                """.formatted(nofile, nofile, nproc, nproc, dir.resolve("networks"), dir.resolve("events.log"), dir,
                dir.resolve("volumes"), Brig.launcher());
        Files.writeString(dir.resolve("containers.conf"), conf);
        // The same with the script's NO_PIVOT and NO_KEYRING knobs: conmon then passes
        // create --no-pivot --no-new-keyring.
        Files.writeString(dir.resolve("containers-nopivot.conf"), conf.replace("[containers]\n", "[containers]\nkeyring = false\n")
                .replace("[engine]\n", "[engine]\nno_pivot_root = true\n"));
        Files.writeString(dir.resolve("storage.conf"), """
                [storage]
                driver = "overlay"
                graphroot = "%s"
                runroot = "%s"
                """.formatted(dir.resolve("storage"), dir.resolve("runroot")));
        Files.writeString(dir.resolve("registries.conf"), "unqualified-search-registries = []\n");
        Podman p = new Podman(dir, Map.of("CONTAINERS_CONF", dir.resolve("containers.conf").toString(),
                "CONTAINERS_STORAGE_CONF", dir.resolve("storage.conf").toString(),
                "CONTAINERS_REGISTRIES_CONF", dir.resolve("registries.conf").toString(),
                "TMPDIR", dir.resolve("home").toString(), "HOME", dir.resolve("home").toString()));
        try {
            image.copyTo("containers-storage:[overlay@" + dir.resolve("storage") + "+" + dir.resolve("runroot") + "]" + IMAGE, dir.resolve("home"));
        } catch (Throwable t) {
            p.close();
            throw t;
        }
        Leftovers.unmountUnder(dir);
        return p;
    }

    private static long hardLimit(String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
            if (line.startsWith(name)) {
                String hard = line.substring(name.length()).trim().split("\\s+")[1];
                return hard.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(hard);
            }
        }
        throw new AssertionError("no " + name + " in /proc/self/limits");
    }

    /** The command line `podman ARGS...` (no --runtime: containers.conf names Brig). */
    List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of("podman"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    Brig.Result podman(String... args) {
        return run(command(args));
    }

    Brig.Result run(List<String> cmd) {
        return Cmd.run(dir.resolve("home"), env, 90, cmd);
    }

    /**
     * `podman ARGS...` with containers-nopivot.conf (no_pivot_root = true, keyring = false),
     * and the runtime given as `--runtime DIR/brig`: a script that notes each call in
     * {@link #noPivotCalls()} and execs Brig (its name is still "brig", so JSON logs stay on).
     */
    Brig.Result podmanNoPivot(String... args) throws IOException {
        Path wrapper = dir.resolve("wrap/brig");
        if (!Files.exists(wrapper)) {
            Files.createDirectories(wrapper.getParent());
            Files.writeString(wrapper, "#!/bin/sh\necho \"$*\" >>" + dir.resolve("wrap/calls.log") + "\nexec " + Brig.launcher() + " \"$@\"\n");
            Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Map<String, String> e = new java.util.HashMap<>(env);
        e.put("CONTAINERS_CONF", dir.resolve("containers-nopivot.conf").toString());
        List<String> cmd = new ArrayList<>(List.of("podman", "--runtime", wrapper.toString()));
        cmd.addAll(List.of(args));
        return Cmd.run(dir.resolve("home"), e, 90, cmd);
    }

    String noPivotCalls() throws IOException {
        return Files.readString(dir.resolve("wrap/calls.log"));
    }

    /**
     * Removes every container (and waits for conmon and podman's cleanup processes, which
     * mention this directory), then the cgroups below {@link #CGROUP_PARENT}. Returns what had
     * to be killed or could not be removed.
     */
    public List<String> removeAll() throws Exception {
        List<String> left = new ArrayList<>();
        Brig.Result rm = podman("rm", "-a", "-f", "-t", "0");
        if (rm.exit() != 0) left.add("podman rm -a -f: " + rm.err().strip());
        left.addAll(Leftovers.awaitGone(dir.toString(), 10));
        left.addAll(Leftovers.removeCgroups(CGROUP_PARENT));
        // The overlay driver binds storage/overlay over itself (private) whenever a podman
        // process opens the store, and unmounts it when one shuts down: it comes and goes with
        // podman's processes (and stays after some), so it is put away here, with none running.
        // A container's rootfs still mounted after rm is a leak.
        for (String m : Leftovers.unmountUnder(dir)) if (!m.equals(dir.resolve("storage/overlay").toString())) left.add("mount " + m);
        return left;
    }

    /** Removes the containers, then unmounts podman's storage mounts (the overlay driver binds its directory over itself). */
    @Override
    public void close() throws Exception {
        List<String> left = removeAll();
        Leftovers.unmountUnder(dir);
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
        if (!left.isEmpty()) throw new AssertionError("podman left behind: " + left);
    }
}
