package brig.inspect;

import brig.cgroups.CgroupException;
import brig.cgroups.CgroupLimits;
import brig.cgroups.CgroupStats;
import brig.cgroups.ContainerCgroup;
import brig.cgroups.Hierarchy;
import brig.rootfs.Overlay;
import brig.runtime.ContainerState;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Everything about one container a person looks for, as one JSON object: its state, the
 * namespace links of its first process (/proc/PID/ns/*, each marked whether it is the
 * container's own or the caller's), its cgroup directory in every hierarchy, the limits in
 * force and the usage now (memory, pids, cpu), its rootfs (and, for a copy-on-write one, the
 * layers under it, from the brig.overlay.* annotations) and its mounts as it sees them
 * (/proc/PID/mountinfo). What a stopped container no longer has (processes, cgroups) is left
 * out.
 */
public final class ContainerInspect {
    private ContainerInspect() {}

    /** The layer store names a layer's directory by its diff id: .../sha256/HEX. */
    private static final Pattern LAYER = Pattern.compile(".*/(sha256|sha512)/([0-9a-f]{64,128})$");

    /** {@code s} as {@code StateStore.read} gives it (its status now). */
    public static JsonObject of(ContainerState s) throws CgroupException {
        JsonObject o = new JsonObject();
        o.addProperty("id", s.id());
        o.addProperty("status", s.status());
        boolean live = s.pid() > 0 && !s.status().equals("stopped");
        o.addProperty("pid", live ? s.pid() : 0);
        o.addProperty("bundle", s.bundle().toString());
        o.addProperty("created", s.created());
        o.add("rootfs", rootfs(s));
        if (live) o.add("namespaces", namespaces(s.pid()));
        List<Path> dirs = s.cgroups().stream().filter(Files::isDirectory).toList();
        if (!dirs.isEmpty()) {
            ContainerCgroup cg = cgroup(dirs);
            JsonArray cgroups = new JsonArray();
            for (ContainerCgroup.Dir d : cg.dirs()) {
                JsonObject c = new JsonObject();
                c.addProperty("controllers", d.hierarchy().unified() ? "(unified)" : d.hierarchy().controllers());
                c.addProperty("path", d.path().toString());
                cgroups.add(c);
            }
            o.add("cgroups", cgroups);
            o.add("limits", limits(cg));
            o.add("usage", usage(CgroupStats.read(dirs)));
        }
        if (live) o.add("mounts", mounts(s.pid()));
        return o;
    }

    /** The container's cgroup in this host's hierarchies, from its directories (as its state records them). */
    static ContainerCgroup cgroup(List<Path> dirs) throws CgroupException {
        try {
            return ContainerCgroup.ofDirs(Hierarchy.discover(), dirs);
        } catch (IOException e) {
            throw new CgroupException("cgroup: read /proc/self/cgroup and mountinfo: " + e.getMessage());
        }
    }

    static JsonObject rootfs(ContainerState s) {
        JsonObject r = new JsonObject();
        r.addProperty("path", s.rootfs().toString());
        String lowers = s.annotations().get(Overlay.LOWERDIRS);
        if (lowers == null) {
            r.addProperty("kind", "directory");
            return r;
        }
        r.addProperty("kind", "overlay");
        JsonArray layers = new JsonArray();
        for (String d : lowers.split(":")) {
            JsonObject l = new JsonObject();
            l.addProperty("dir", d);
            var m = LAYER.matcher(d);
            if (m.matches()) l.addProperty("diffId", m.group(1) + ":" + m.group(2));
            layers.add(l);
        }
        r.add("layers", layers); // top first, as overlayfs orders them
        for (String[] k : List.of(new String[] {"upperdir", Overlay.UPPERDIR}, new String[] {"workdir", Overlay.WORKDIR}, new String[] {"tmpfs", Overlay.TMPFS})) {
            if (s.annotations().containsKey(k[1])) r.addProperty(k[0], s.annotations().get(k[1]));
        }
        return r;
    }

    /** type → {"link": "pid:[4026532254]", "inode", "own": not the caller's}; types it cannot read are left out. */
    static JsonObject namespaces(int pid) {
        JsonObject o = new JsonObject();
        int self = (int) ProcessHandle.current().pid();
        for (String type : Namespaces.TYPES) {
            long ino = Proc.nsInode(pid, type);
            if (ino == 0) continue;
            JsonObject n = new JsonObject();
            n.addProperty("path", "/proc/" + pid + "/ns/" + type);
            n.addProperty("link", type + ":[" + ino + "]");
            n.addProperty("inode", ino);
            n.addProperty("own", ino != Proc.nsInode(self, type));
            o.add(type, n);
        }
        return o;
    }

    /** The limits in force: numbers, or "max" where there is none. */
    static JsonObject limits(ContainerCgroup cg) throws CgroupException {
        CgroupLimits l = CgroupLimits.read(cg);
        JsonObject o = new JsonObject();
        limit(o, "memory", l.memory());
        limit(o, "memorySwap", l.memorySwap());
        limit(o, "pids", l.pids());
        if (l.cpuQuota() < 0 || l.cpuQuota() == CgroupLimits.UNLIMITED) o.addProperty("cpuQuota", "max");
        else o.addProperty("cpuQuota", l.cpuQuota());
        o.addProperty("cpuPeriod", l.cpuPeriod());
        for (ContainerCgroup.Dir d : cg.dirs()) {
            // The CPU share: v1's cpu.shares (default 1024), v2's cpu.weight (default 100).
            String shares = d.hierarchy().has("cpu") ? read(d.path().resolve("cpu.shares")) : null;
            String weight = d.hierarchy().unified() ? read(d.path().resolve("cpu.weight")) : null;
            if (shares != null) o.addProperty("cpuShares", Long.parseLong(shares.trim()));
            if (weight != null) o.addProperty("cpuWeight", Long.parseLong(weight.trim()));
        }
        return o;
    }

    private static void limit(JsonObject o, String key, long v) {
        if (v == CgroupLimits.UNLIMITED) o.addProperty(key, "max");
        else o.addProperty(key, v);
    }

    /** The usage now, from {@link CgroupStats}: bytes, tasks and nanoseconds. */
    static JsonObject usage(CgroupStats st) {
        JsonObject o = new JsonObject();
        JsonObject m = new JsonObject();
        m.add("usage", u64(st.memory().usage().usage()));
        m.add("max", u64(st.memory().usage().max()));
        m.add("failcnt", u64(st.memory().usage().failcnt()));
        o.add("memory", m);
        JsonObject p = new JsonObject();
        p.addProperty("current", st.pids().current());
        o.add("pids", p);
        JsonObject c = new JsonObject();
        c.add("totalNanos", u64(st.cpu().usage().total()));
        c.add("userNanos", u64(st.cpu().usage().user()));
        c.add("kernelNanos", u64(st.cpu().usage().kernel()));
        c.add("throttledPeriods", u64(st.cpu().throttling().throttledPeriods()));
        o.add("cpu", c);
        return o;
    }

    private static com.google.gson.JsonPrimitive u64(long v) {
        return new com.google.gson.JsonPrimitive(v >= 0 ? BigInteger.valueOf(v) : BigInteger.valueOf(v).add(BigInteger.ONE.shiftLeft(64)));
    }

    /** /proc/PID/mountinfo: each mount as the container sees it (paths below its root). */
    static JsonArray mounts(int pid) {
        JsonArray a = new JsonArray();
        String text = read(Path.of("/proc/" + pid + "/mountinfo"));
        if (text == null) return a;
        for (String line : text.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) continue;
            String[] pre = line.substring(0, dash).split(" "), post = line.substring(dash + 3).split(" ");
            if (pre.length < 6 || post.length < 3) continue;
            JsonObject m = new JsonObject();
            m.addProperty("destination", unescape(pre[4]));
            m.addProperty("type", post[0]);
            m.addProperty("source", unescape(post[1]));
            m.addProperty("root", unescape(pre[3]));
            m.addProperty("options", pre[5] + (post[2].isEmpty() ? "" : "," + post[2]));
            a.add(m);
        }
        return a;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}
