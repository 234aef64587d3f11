package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The "cgroup" mount at /sys/fs/cgroup on this hybrid host (v1 hierarchies and the unified
 * tree), read-only as runc's default config asks: with a cgroup namespace of the container's
 * own it is mounted afresh there, so the container's cgroup is the root everywhere, as
 * /proc/self/cgroup says; without one, the container's directories are bound from the host.
 * Either way the container sees its own limits and nothing of the host's tree around them.
 */
@ExtendWith(NoLeaks.class)
class CgroupNamespaceIT {
    @TempDir Path dir;

    /** Prints, in sections: /proc/self/cgroup; limits; siblings seen; writes; the mounts. */
    static final String SCRIPT = String.join("; ",
            "cat /proc/self/cgroup", "echo ---",
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max", "echo ---",
            "find /sys/fs/cgroup/ -name '*sibling*' | wc -l; ls /sys/fs/cgroup/memory/.. | tr '\\n' ' '; echo", "echo ---",
            "echo 5 2>&1 > /sys/fs/cgroup/pids/pids.max | sed 's/.*: //'; mkdir /sys/fs/cgroup/memory/x 2>&1 | sed 's/.*: //'",
            "echo ---",
            "grep ' /sys/fs/cgroup/' /proc/self/mountinfo | while read a b c root point opts rest; do "
                    + "echo $point $root ${opts%%,*} ${rest#*- }; done | cut -d' ' -f1-4");

    static List<String> sections(String out) {
        return List.of(out.split("---\n", -1));
    }

    /** The hierarchies this host has, by the name they get under /sys/fs/cgroup. */
    static TreeSet<String> names() throws Exception {
        TreeSet<String> out = new TreeSet<>();
        for (Hierarchy h : Hierarchy.discover()) out.add(h.name());
        return out;
    }

    /** A cgroup beside the container's, in its memory hierarchy: the container must not see it. */
    static Path sibling(TestBundle b) throws Exception {
        Path s = Hierarchy.discover().stream().filter(h -> h.has("memory")).findFirst().orElseThrow().mountPoint()
                .resolve("brig").resolve(b.id() + "-sibling");
        Files.createDirectories(s);
        return s;
    }

    /** Removes the sibling, and Brig's parent if that was the last thing in it. */
    static void remove(Path sibling) throws Exception {
        Files.delete(sibling);
        try {
            Files.deleteIfExists(sibling.getParent());
        } catch (java.nio.file.FileSystemException othersStillThere) {
            // another container's
        }
    }

    static TestBundle bundle(Path dir) throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh(SCRIPT);
        b.set("linux.resources", "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":33}}");
        return b;
    }

    private static void checkCommon(List<String> s, TreeSet<String> names) {
        assertEquals("67108864\n33\n", s.get(1), "the container's own limits");
        assertEquals("0\n" + String.join(" ", names) + " \n", s.get(2), "no host sibling; above a hierarchy is the tmpfs");
        assertEquals("Read-only file system\nRead-only file system\n", s.get(3));
    }

    @Test
    void inItsOwnCgroupNamespaceTheContainersCgroupIsTheRootEverywhere() throws Exception {
        TestBundle b = bundle(dir).add("linux.namespaces", "{\"type\":\"cgroup\"}");
        // Mounted afresh, not bound: inside a cgroup namespace the kernel shows both alike
        // (mountinfo's root is relative to the reader's namespace), so the plan tells.
        String plan = b.run("--explain").expect(0).out();
        for (Hierarchy h : Hierarchy.discover()) {
            assertTrue(plan.contains(h.unified() ? "mount cgroup2 on /sys/fs/cgroup/unified in the container (ro,"
                    : "mount cgroup on /sys/fs/cgroup/" + h.name() + " in the container (ro,"), h.name() + ": " + plan);
        }
        Path sibling = sibling(b);
        Brig.Result r;
        try {
            r = b.run().expect(0);
        } finally {
            remove(sibling);
        }
        List<String> s = sections(r.out());
        TreeSet<String> names = names();
        assertEquals(names.size(), s.get(0).lines().count(), s.get(0));
        assertTrue(s.get(0).lines().allMatch(l -> l.endsWith(":/")), "every hierarchy at its namespace's root: " + s.get(0));
        checkCommon(s, names);
        // Each mount's root is the namespace's root; the unified tree is there.
        for (String name : names) {
            String type = name.equals("unified") ? "cgroup2" : "cgroup";
            assertTrue(s.get(4).lines().anyMatch(l -> l.equals("/sys/fs/cgroup/" + name + " / ro " + type)), name + ": " + s.get(4));
        }
    }

    @Test
    void withoutOneTheContainersDirectoriesAreBoundUnifiedIncluded() throws Exception {
        TestBundle b = bundle(dir);
        Path sibling = sibling(b);
        Brig.Result r;
        try {
            r = b.run().expect(0);
        } finally {
            remove(sibling);
        }
        List<String> s = sections(r.out());
        TreeSet<String> names = names();
        assertTrue(s.get(0).lines().allMatch(l -> l.endsWith(":/brig/" + b.id())), s.get(0));
        checkCommon(s, names);
        assertTrue(names.contains("unified"), "this host has a unified tree: " + names);
        for (String name : names) {
            String type = name.equals("unified") ? "cgroup2" : "cgroup";
            assertTrue(s.get(4).lines().anyMatch(l -> l.equals("/sys/fs/cgroup/" + name + " /brig/" + b.id() + " ro " + type)),
                    name + ": " + s.get(4));
        }
    }

    @Test
    void inAUserNamespaceTooTheCgroupNamespaceIsItsToMountIn() throws Exception {
        // The cgroup namespace is made after the process took root's ids in its user
        // namespace, so that user namespace owns it and may mount its cgroups.
        // The container's root (host uid 100000) must be able to reach its rootfs.
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        TestBundle b = bundle(dir).add("linux.namespaces", "{\"type\":\"cgroup\"}").userNamespace(100000, 65536);
        Brig.Result r = b.run().expect(0);
        List<String> s = sections(r.out());
        assertTrue(s.get(0).lines().allMatch(l -> l.endsWith(":/")), s.get(0));
        assertEquals("67108864\n33\n", s.get(1));
        assertTrue(s.get(4).lines().anyMatch(l -> l.equals("/sys/fs/cgroup/unified / ro cgroup2")), s.get(4));
    }
}
