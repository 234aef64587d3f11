package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.inspect.Proc;
import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeing inside a real busybox container made with brig create and start (its own pid, uts,
 * mount, ipc and network namespaces, 64 MiB and 20 tasks at most): `brig lsns` against
 * util-linux's lsns, and container top and inspect as the container group will run them.
 */
@ExtendWith(NoLeaks.class)
class SeeingIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private TestBundle b;
    private int init;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        brig = new Lifecycle(dir.resolve("state"), dir);
        b = TestBundle.busybox(dir.resolve("bundle")).sh("sleep 1000 & sleep 1001 & wait")
                .set("linux.resources", "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":20}}");
        b.write();
        brig.brig(b.dir(), "create", "--bundle", b.dir().toString(), b.id()).expect(0);
        brig.brig(b.dir(), "start", b.id()).expect(0);
        init = Json.parseQuietly(brig.brig(null, "state", b.id()).expect(0).out()).getAsJsonObject().get("pid").getAsInt();
        for (int k = 0; k < 300 && Proc.children(init).size() < 2; k++) Thread.sleep(10);
        assertEquals(2, Proc.children(init).size(), "the two sleeps have started");
    }

    @AfterEach
    void remove() {
        brig.brig(null, "delete", "--force", b.id());
    }

    private Invocation inv() {
        out.reset();
        err.reset();
        return new Invocation(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(), dir, 022, new Invocation.Caller(4242, 0, 0),
                new Invocation.Globals(brig.root(), null, false, false, false), Invocation.Host.detached(Brig.dist()));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** "NS TYPE NPROCS PID" of the rows of lsns (or brig lsns) output that are about these inodes. */
    private static Map<Long, String> rows(String text, java.util.Set<Long> inodes) {
        Map<Long, String> m = new HashMap<>();
        for (String l : text.lines().toList()) {
            String[] f = l.trim().split("\\s+");
            if (f.length < 4 || !f[0].matches("\\d+")) continue;
            long ino = Long.parseLong(f[0]);
            if (inodes.contains(ino)) m.put(ino, String.join(" ", f[0], f[1], f[2], f[3]));
        }
        return m;
    }

    @Test
    void lsnsShowsWhatUtilLinuxLsnsShowsAndNamesTheContainer() throws Exception {
        Brig.Result r = brig.brig(null, "lsns").expect(0);
        Map<String, Long> own = new HashMap<>();
        for (String type : List.of("pid", "uts", "mnt", "ipc", "net")) own.put(type, Proc.nsInode(init, type));
        List<String> mine = r.out().lines().filter(l -> l.contains(" " + b.id() + " ")).toList();
        assertEquals(5, mine.size(), "pid, uts, mnt, ipc and net are the container's own:\n" + r.out());
        for (String l : mine) {
            String[] f = l.trim().split("\\s+");
            assertEquals(own.get(f[1]), Long.parseLong(f[0]), l);
            assertEquals("3", f[2], "sh and two sleeps: " + l);
            assertEquals(Integer.toString(init), f[3], "the container's first process is the lowest pid: " + l);
            assertEquals("root", f[4], l);
            assertEquals(b.id(), f[5], l);
            assertTrue(l.endsWith(" " + b.id() + " /bin/sh -c sleep 1000 & sleep 1001 & wait"), l);
        }
        long hostUser = Proc.nsInode((int) ProcessHandle.current().pid(), "user");
        assertTrue(r.out().lines().anyMatch(l -> l.trim().matches(hostUser + " user .* - .*")),
                "the host's user namespace, which the container shares, is not the container's:\n" + r.out());

        // util-linux's lsns on the same namespaces: the same NS TYPE NPROCS PID.
        var inodes = new java.util.HashSet<>(own.values());
        Brig.Result lsns = brig.exec(null, Map.of("PATH", "/usr/bin:/bin"), List.of("lsns", "-n", "-r", "-o", "NS,TYPE,NPROCS,PID"));
        lsns.expect(0);
        assertEquals(rows(lsns.out(), inodes), rows(r.out(), inodes), "lsns:\n" + lsns.out() + "\nbrig lsns:\n" + r.out());
        assertEquals(5, rows(lsns.out(), inodes).size(), lsns.out());

        // -p and -t as lsns's, and --json.
        Brig.Result pid = brig.brig(null, "lsns", "-p", Integer.toString(init), "-t", "pid", "--json").expect(0);
        JsonArray a = Json.parseQuietly(pid.out()).getAsJsonObject().getAsJsonArray("namespaces");
        assertEquals(1, a.size(), pid.out());
        assertEquals(own.get("pid"), a.get(0).getAsJsonObject().get("ns").getAsLong());
        assertEquals(b.id(), a.get(0).getAsJsonObject().get("container").getAsString());
        assertEquals(3, a.get(0).getAsJsonObject().get("nprocs").getAsInt());
    }

    @Test
    void topShowsHostAndContainerPidsAsATree() throws Exception {
        assertEquals(0, ContainerTopCommand.run(inv(), Args.parse(List.of("--tree", b.id()), 0, ContainerTopCommand.FLAGS, true)), err.toString());
        List<String> lines = out().lines().toList();
        assertEquals(4, lines.size(), out());
        // The shell is pid 1 inside; the sleeps are its children, 2 and 3 in the container.
        assertTrue(lines.get(1).matches("\\s*" + init + "\\s+1\\s+\\d+\\s+root\\s+/bin/sh -c sleep 1000 & sleep 1001 & wait"), out());
        List<String> cpids = new ArrayList<>();
        for (String l : lines.subList(2, 4)) {
            assertTrue(l.matches("\\s*\\d+\\s+\\d+\\s+" + init + "\\s+root\\s+ \\\\_ sleep 100[01]"), out());
            cpids.add(l.trim().split("\\s+")[1]);
        }
        assertEquals(List.of("2", "3"), cpids.stream().sorted().toList(), out());
    }

    @Test
    void inspectShowsNamespacesCgroupsLimitsUsageAndMounts() throws Exception {
        assertEquals(0, ContainerInspectCommand.run(inv(), Args.parse(List.of(b.id()), 0, ContainerInspectCommand.FLAGS, true)), err.toString());
        JsonObject o = Json.parseQuietly(out()).getAsJsonObject();
        assertEquals("running", o.get("status").getAsString());
        assertEquals(init, o.get("pid").getAsInt());
        JsonObject ns = o.getAsJsonObject("namespaces");
        for (String type : List.of("pid", "uts", "mnt")) {
            JsonObject n = ns.getAsJsonObject(type);
            assertTrue(n.get("own").getAsBoolean(), type + ": " + n);
            assertEquals(type + ":[" + Proc.nsInode(init, type) + "]", n.get("link").getAsString());
        }
        assertFalse(ns.getAsJsonObject("user").get("own").getAsBoolean(), "no user namespace of its own: " + ns);

        JsonArray cgroups = o.getAsJsonArray("cgroups");
        assertTrue(cgroups.size() >= 1, Json.compact(o));
        String memDir = null;
        for (var c : cgroups) {
            JsonObject co = c.getAsJsonObject();
            assertTrue(java.nio.file.Files.isDirectory(Path.of(co.get("path").getAsString())), co.toString());
            if (co.get("controllers").getAsString().contains("memory")) memDir = co.get("path").getAsString();
        }
        JsonObject limits = o.getAsJsonObject("limits");
        assertEquals(67108864L, limits.get("memory").getAsLong(), limits.toString());
        assertEquals(20, limits.get("pids").getAsLong(), limits.toString());
        assertEquals("max", limits.get("cpuQuota").getAsString(), limits.toString());
        JsonObject usage = o.getAsJsonObject("usage");
        assertEquals(3, usage.getAsJsonObject("pids").get("current").getAsInt(), usage.toString());
        long mem = usage.getAsJsonObject("memory").get("usage").getAsLong();
        assertTrue(mem > 0 && mem < 67108864L, usage.toString());
        if (memDir != null) {
            long fromFile = Long.parseLong(Brig.read(Path.of(memDir, "memory.limit_in_bytes")).trim());
            assertEquals(fromFile, limits.get("memory").getAsLong(), "what the cgroup file says");
        }

        JsonArray mounts = o.getAsJsonArray("mounts");
        String all = Json.compact(mounts);
        assertTrue(all.contains("{\"destination\":\"/\","), "the rootfs is / inside: " + all);
        assertTrue(all.contains("\"destination\":\"/proc\",\"type\":\"proc\""), all);
        assertTrue(all.contains("\"destination\":\"/dev\",\"type\":\"tmpfs\""), all);
        assertEquals("directory", o.getAsJsonObject("rootfs").get("kind").getAsString());
    }

    @Test
    void inspectOfACopyOnWriteContainerShowsItsLayersAndTheOverlayMount() throws Exception {
        TestBundle cow = TestBundle.busybox(dir.resolve("cow")).sh("sleep 1000");
        Path top = java.nio.file.Files.createDirectories(dir.resolve("layer-top")), merged = java.nio.file.Files.createDirectories(dir.resolve("merged"));
        java.nio.file.Files.writeString(top.resolve("hello"), "hi\n");
        Path upper = java.nio.file.Files.createDirectories(dir.resolve("c/upper")), work = java.nio.file.Files.createDirectories(dir.resolve("c/work"));
        cow.set("root.path", Json.compact(new com.google.gson.JsonPrimitive(merged.toString())));
        cow.set("annotations", "{\"brig.overlay.lowerdirs\":\"" + top + ":" + cow.rootfs() + "\",\"brig.overlay.upperdir\":\"" + upper
                + "\",\"brig.overlay.workdir\":\"" + work + "\"}");
        cow.write();
        try {
            brig.brig(cow.dir(), "create", "--bundle", cow.dir().toString(), cow.id()).expect(0);
            brig.brig(cow.dir(), "start", cow.id()).expect(0);
            assertEquals(0, ContainerInspectCommand.run(inv(), Args.parse(List.of(cow.id()), 0, ContainerInspectCommand.FLAGS, true)), err.toString());
            JsonObject o = Json.parseQuietly(out()).getAsJsonObject();
            JsonObject rootfs = o.getAsJsonObject("rootfs");
            assertEquals("overlay", rootfs.get("kind").getAsString(), rootfs.toString());
            JsonArray layers = rootfs.getAsJsonArray("layers");
            assertEquals(2, layers.size(), rootfs.toString());
            assertEquals(top.toString(), layers.get(0).getAsJsonObject().get("dir").getAsString(), "top first");
            assertEquals(cow.rootfs().toString(), layers.get(1).getAsJsonObject().get("dir").getAsString());
            assertEquals(upper.toString(), rootfs.get("upperdir").getAsString());
            String mounts = Json.compact(o.getAsJsonArray("mounts"));
            assertTrue(mounts.contains("{\"destination\":\"/\",\"type\":\"overlay\""), "the container's / is the overlay: " + mounts);
        } finally {
            brig.brig(null, "delete", "--force", cow.id());
        }
    }
}
