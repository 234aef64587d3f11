package brig.spec;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;

/** The config.json `brig spec` writes: the same defaults as `runc spec`, so bundles carry over. */
public final class SpecDefaults {
    private SpecDefaults() {}

    private static final List<String> CAPS = List.of("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");

    /**
     * @param rootless for a user without root: a user namespace mapping the caller's ids to
     *     root, no network namespace, no device rules, /sys bound from the host
     */
    public static JsonObject config(boolean rootless, long uid, long gid) {
        JsonObject c = new JsonObject();
        c.addProperty("ociVersion", Spec.VERSION);
        JsonObject p = new JsonObject();
        p.addProperty("terminal", true);
        JsonObject user = new JsonObject();
        user.addProperty("uid", 0);
        user.addProperty("gid", 0);
        p.add("user", user);
        p.add("args", strings(List.of("sh")));
        p.add("env", strings(List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm")));
        p.addProperty("cwd", "/");
        JsonObject caps = new JsonObject();
        for (String set : List.of("bounding", "effective", "permitted", "ambient")) caps.add(set, strings(CAPS));
        p.add("capabilities", caps);
        JsonObject nofile = new JsonObject();
        nofile.addProperty("type", "RLIMIT_NOFILE");
        nofile.addProperty("hard", 1024);
        nofile.addProperty("soft", 1024);
        JsonArray rlimits = new JsonArray();
        rlimits.add(nofile);
        p.add("rlimits", rlimits);
        p.addProperty("noNewPrivileges", true);
        c.add("process", p);
        JsonObject root = new JsonObject();
        root.addProperty("path", "rootfs");
        root.addProperty("readonly", true);
        c.add("root", root);
        c.addProperty("hostname", "brig");
        JsonArray mounts = new JsonArray();
        mounts.add(mount("/proc", "proc", "proc", List.of()));
        mounts.add(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        mounts.add(mount("/dev/pts", "devpts", "devpts", rootless
                ? List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")
                : List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
        mounts.add(mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
        mounts.add(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
        mounts.add(rootless ? mount("/sys", "none", "/sys", List.of("rbind", "nosuid", "noexec", "nodev", "ro"))
                : mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")));
        mounts.add(mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
        c.add("mounts", mounts);
        JsonObject linux = new JsonObject();
        if (rootless) {
            linux.add("uidMappings", mapping(uid));
            linux.add("gidMappings", mapping(gid));
        } else {
            JsonObject deny = new JsonObject();
            deny.addProperty("allow", false);
            deny.addProperty("access", "rwm");
            JsonArray devices = new JsonArray();
            devices.add(deny);
            JsonObject resources = new JsonObject();
            resources.add("devices", devices);
            linux.add("resources", resources);
        }
        JsonArray ns = new JsonArray();
        for (String t : rootless ? List.of("pid", "ipc", "uts", "mount", "user") : List.of("pid", "network", "ipc", "uts", "mount")) {
            JsonObject n = new JsonObject();
            n.addProperty("type", t);
            ns.add(n);
        }
        linux.add("namespaces", ns);
        linux.add("maskedPaths", strings(List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                "/proc/scsi")));
        linux.add("readonlyPaths", strings(List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")));
        c.add("linux", linux);
        return c;
    }

    private static JsonArray mapping(long hostId) {
        JsonObject m = new JsonObject();
        m.addProperty("containerID", 0);
        m.addProperty("hostID", hostId);
        m.addProperty("size", 1);
        JsonArray a = new JsonArray();
        a.add(m);
        return a;
    }

    private static JsonObject mount(String dest, String type, String source, List<String> options) {
        JsonObject m = new JsonObject();
        m.addProperty("destination", dest);
        m.addProperty("type", type);
        m.addProperty("source", source);
        if (!options.isEmpty()) m.add("options", strings(options));
        return m;
    }

    private static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
