package brig.container;

import brig.image.ImageConfig;
import brig.image.ImageException;
import brig.image.Users;
import brig.json.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Docker's policy for a container of an image: its flags ({@link RunOptions}) merged with the
 * image's config as docker merges them, over docker's defaults (capabilities, masked and
 * read-only paths, seccomp, no network, rlimits that work on this host), written into the
 * config.json of a bundle {@link brig.image.ContainerBundles} prepared.
 */
public final class ContainerConfig {
    private ContainerConfig() {}

    /** Docker's default capability set (moby's oci/caps defaults). */
    public static final List<String> DEFAULT_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
            "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL", "CAP_AUDIT_WRITE");

    static final List<String> MASKED = List.of("/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
            "/sys/devices/virtual/powercap");
    static final List<String> READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    /** All capabilities a --cap-add/--cap-drop may name (Linux 6.x). */
    static final List<String> ALL_CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
            "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
            "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
            "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
            "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE");

    /** Podman's RLIMIT_NOFILE; lowered to the host's hard limit, which root without CAP_SYS_RESOURCE cannot raise. */
    static final long NOFILE = 1048576;

    /**
     * Applies {@code o} and the image's config {@code image} to {@code config} (as
     * BundleConfig wrote it for the image).
     *
     * @param layers the image's layer directories, bottom first: the users of -u are looked up in
     *     the topmost one with an /etc/passwd
     * @param callerEnv the caller's environment, for "-e K" without a value
     * @param hardNofile the host's hard RLIMIT_NOFILE
     */
    public static void apply(JsonObject config, ImageConfig image, RunOptions o, List<Path> layers, Map<String, String> callerEnv,
                             long hardNofile) throws ContainerException, ImageException {
        JsonObject process = config.getAsJsonObject("process");
        JsonObject linux = config.getAsJsonObject("linux");

        // Entrypoint and Cmd: --entrypoint replaces the image's and drops its Cmd; a CMD given replaces Cmd.
        List<String> entry = o.entrypoint() == null ? image.entrypoint() : o.entrypoint().isEmpty() ? List.of() : List.of(o.entrypoint());
        List<String> cmd = !o.cmd().isEmpty() ? o.cmd() : o.entrypoint() != null ? List.of() : image.cmd();
        List<String> args = new ArrayList<>(entry);
        args.addAll(cmd);
        if (args.isEmpty()) throw new ContainerException("no command: the image has no Entrypoint or Cmd, give one after the image name");
        // --init: docker's order, the init first and the command as its child after "--".
        if (o.init() != null) args.addAll(0, List.of(Volumes.INIT_PATH, "--"));
        process.add("args", DefaultSeccomp.strings(args));
        process.addProperty("terminal", o.tty());

        Users.User user = null;
        if (o.user() != null) {
            user = Users.resolve(usersRoot(layers), o.user());
            JsonObject u = new JsonObject();
            u.addProperty("uid", user.uid());
            u.addProperty("gid", user.gid());
            if (!user.additionalGids().isEmpty()) {
                JsonArray g = new JsonArray();
                user.additionalGids().forEach(g::add);
                u.add("additionalGids", g);
            }
            process.add("user", u);
        }
        if (o.workdir() != null) {
            if (!o.workdir().startsWith("/")) throw new ContainerException("-w " + o.workdir() + ": the working directory must be an absolute path");
            process.addProperty("cwd", o.workdir());
        }
        String hostname = o.hostname() != null ? o.hostname() : o.name().length() > 63 ? o.name().substring(0, 63) : o.name();

        // Env: the image's (with PATH and HOME as BundleConfig completed it), then HOSTNAME, then -e in order.
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonElement e : process.getAsJsonArray("env")) put(env, e.getAsString());
        if (!o.tty()) env.remove("TERM"); // docker sets TERM only with -t
        env.put("HOSTNAME", hostname);
        if (user != null) env.put("HOME", user.home() != null ? user.home() : "/");
        for (String e : o.env()) {
            if (e.isEmpty() || e.startsWith("=")) throw new ContainerException("-e \"" + e + "\": the variable's name is empty");
            if (e.contains("=")) put(env, e);
            else if (callerEnv.containsKey(e)) env.put(e, callerEnv.get(e));
        }
        JsonArray envs = new JsonArray();
        env.forEach((k, v) -> envs.add(k + "=" + v));
        process.add("env", envs);
        config.addProperty("hostname", hostname);

        // Capabilities: docker's set, --cap-drop then --cap-add (ALL in either).
        Set<String> caps = new LinkedHashSet<>(DEFAULT_CAPS);
        for (String c : o.capDrop()) {
            if (capName(c).equals("CAP_ALL")) caps.clear();
            else caps.remove(checkedCap(c));
        }
        for (String c : o.capAdd()) {
            if (capName(c).equals("CAP_ALL")) caps.addAll(ALL_CAPS);
            else caps.add(checkedCap(c));
        }
        JsonObject capabilities = new JsonObject();
        for (String set : List.of("bounding", "effective", "permitted")) capabilities.add(set, DefaultSeccomp.strings(List.copyOf(caps)));
        process.add("capabilities", capabilities);
        process.addProperty("noNewPrivileges", false);

        // Rlimits: podman's nofile where the host allows it, else the host's hard limit.
        long nofile = Math.min(NOFILE, hardNofile);
        JsonObject rl = new JsonObject();
        rl.addProperty("type", "RLIMIT_NOFILE");
        rl.addProperty("hard", nofile);
        rl.addProperty("soft", nofile);
        JsonArray rlimits = new JsonArray();
        rlimits.add(rl);
        process.add("rlimits", rlimits);

        config.getAsJsonObject("root").addProperty("readonly", o.readOnly());
        linux.add("maskedPaths", DefaultSeccomp.strings(MASKED));
        linux.add("readonlyPaths", DefaultSeccomp.strings(READONLY));

        // Namespaces: --network none keeps a network namespace of its own (loopback only), host drops it.
        JsonArray ns = new JsonArray();
        for (JsonElement e : linux.getAsJsonArray("namespaces")) {
            if (o.network().equals("host") && e.getAsJsonObject().get("type").getAsString().equals("network")) continue;
            ns.add(e);
        }
        if (!o.network().equals("none") && !o.network().equals("host")) {
            throw new ContainerException("--network " + o.network() + ": only none (the default) and host exist yet (no bridge networking)");
        }
        linux.add("namespaces", ns);

        // Seccomp.
        if (o.seccomp() == null) {
            linux.add("seccomp", DefaultSeccomp.forCaps(caps));
        } else if (o.seccomp().equals("unconfined")) {
            linux.remove("seccomp");
        } else {
            try {
                linux.add("seccomp", Json.parseObjectFile(Path.of(o.seccomp())));
            } catch (IOException | brig.json.JsonException e) {
                throw new ContainerException("--security-opt seccomp=" + o.seccomp() + ": " + e.getMessage());
            }
        }

        linux.add("resources", resources(o));

        // Mounts: -v, --tmpfs and --init's binary over the bundle's defaults. The missing -v
        // sources are made last, so that a config refused leaves nothing made on the host.
        List<Volumes.Bind> binds = new ArrayList<>();
        for (String v : o.volumes()) binds.add(Volumes.bind(v));
        List<JsonObject> added = new ArrayList<>();
        for (Volumes.Bind b : binds) added.add(Volumes.mount(b));
        for (String t : o.tmpfs()) added.add(Volumes.tmpfs(t));
        if (o.init() != null) added.add(Volumes.init(o.init()));
        if (!added.isEmpty()) {
            JsonArray mounts = config.has("mounts") ? config.getAsJsonArray("mounts") : new JsonArray();
            config.add("mounts", Volumes.merge(mounts, added));
        }
        Volumes.createMissingSources(binds);
    }

    private static JsonObject resources(RunOptions o) throws ContainerException {
        JsonObject r = new JsonObject();
        JsonObject mem = new JsonObject();
        if (o.memory() > 0) {
            if (o.memory() < 6 << 20) throw new ContainerException("--memory " + o.memory() + ": the minimum is 6M, as docker's");
            mem.addProperty("limit", o.memory());
            // docker: without --memory-swap the container may swap as much again as its memory.
            long swap = o.memorySwap() != 0 ? o.memorySwap() : 2 * o.memory();
            if (swap > 0 && swap < o.memory()) throw new ContainerException("--memory-swap " + swap + " is below --memory " + o.memory() + ": it is memory plus swap");
            mem.addProperty("swap", swap);
        } else if (o.memorySwap() > 0) {
            throw new ContainerException("--memory-swap needs --memory (it is memory plus swap)");
        }
        if (o.memorySwappiness() >= 0) {
            if (o.memorySwappiness() > 100) throw new ContainerException("--memory-swappiness " + o.memorySwappiness() + ": use 0 to 100");
            mem.addProperty("swappiness", o.memorySwappiness());
        }
        if (mem.size() > 0) r.add("memory", mem);
        JsonObject cpu = new JsonObject();
        if (o.cpuShares() > 0) cpu.addProperty("shares", o.cpuShares());
        if (o.cpus() > 0) {
            cpu.addProperty("period", 100000);
            cpu.addProperty("quota", Math.round(o.cpus() * 100000));
        }
        if (o.cpusetCpus() != null) cpu.addProperty("cpus", o.cpusetCpus());
        if (cpu.size() > 0) r.add("cpu", cpu);
        if (o.pidsLimit() > 0) {
            JsonObject pids = new JsonObject();
            pids.addProperty("limit", o.pidsLimit());
            r.add("pids", pids);
        }
        return r;
    }

    private static void put(Map<String, String> env, String kv) {
        int eq = kv.indexOf('=');
        env.remove(kv.substring(0, eq)); // keep the order of the latest
        env.put(kv.substring(0, eq), kv.substring(eq + 1));
    }

    private static String capName(String c) {
        String u = c.toUpperCase(Locale.ROOT);
        return u.startsWith("CAP_") ? u : "CAP_" + u;
    }

    private static String checkedCap(String c) throws ContainerException {
        String n = capName(c);
        if (!ALL_CAPS.contains(n)) throw new ContainerException("unknown capability \"" + c + "\"");
        return n;
    }

    /** The topmost layer with an /etc/passwd (as ContainerBundles resolves the image's User). */
    static Path usersRoot(List<Path> layers) {
        for (int k = layers.size() - 1; k >= 0; k--) {
            Path p = layers.get(k).resolve("etc/passwd");
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return layers.get(k);
        }
        return layers.isEmpty() ? Path.of("/nonexistent") : layers.get(0);
    }

    /** The hard RLIMIT_NOFILE of this process, from /proc/self/limits (or podman's value if unreadable). */
    public static long hostHardNofile() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (!line.startsWith("Max open files")) continue;
                String[] f = line.substring("Max open files".length()).trim().split("\\s+");
                return f[1].equals("unlimited") ? NOFILE : Long.parseLong(f[1]);
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return NOFILE;
    }
}
