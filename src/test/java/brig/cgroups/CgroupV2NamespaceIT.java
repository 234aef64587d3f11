package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import brig.testing.Vm;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * On a pure cgroup v2 host (in the project's VM, {@link Vm}; one boot, TCG is slow): the
 * "cgroup" mount is cgroup2 mounted in the container's own cgroup namespace, or a bind of its
 * cgroup without one; the first process is born in its cgroup (CLONE_INTO_CGROUP), which a
 * pids.max of 0 shows: born there, it cannot be created at all.
 */
@ExtendWith(NoLeaks.class)
class CgroupV2NamespaceIT {
    /** Not under /tmp: the guest mounts a fresh /tmp of its own. */
    @TempDir(factory = Vm.GuestDir.class) Path dir;

    /** /proc/self/cgroup; the limits; directories seen; a write; the mount (point, root, ro, type). */
    static final String SCRIPT = String.join("; ",
            "cat /proc/self/cgroup", "echo ---",
            "cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max", "echo ---",
            "find /sys/fs/cgroup/ -type d | wc -l", "echo ---",
            "echo 5 2>&1 > /sys/fs/cgroup/pids.max | sed 's/.*: //'", "echo ---",
            "grep ' /sys/fs/cgroup ' /proc/self/mountinfo | while read a b c root point opts rest; do "
                    + "echo $point $root ${opts%%,*} ${rest#*- }; done | cut -d' ' -f1-4");

    static TestBundle bundle(Path dir) throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh(SCRIPT);
        b.set("linux.resources", "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":33}}");
        b.write();
        return b;
    }

    static String section(String out, String name, String next) {
        return out.substring(out.indexOf("--- " + name + "\n") + name.length() + 5, out.indexOf("--- " + next + "\n"));
    }

    @Test
    void theCgroupMountAndTheFirstProcessOnAPureV2Host() throws Exception {
        Vm.requireAvailable();
        TestBundle ns = bundle(dir.resolve("ns"));
        ns.add("linux.namespaces", "{\"type\":\"cgroup\"}").write();
        TestBundle bind = bundle(dir.resolve("bind"));
        TestBundle zero = TestBundle.busybox(dir.resolve("zero")).args("/bin/true");
        zero.set("linux.resources", "{\"unified\":{\"pids.max\":\"0\"}}");
        zero.write();
        String brig = Brig.launcher() + " --root /tmp/state";
        String sibling = "/sys/fs/cgroup/brig/" + ns.id() + "-sibling";
        String script = String.join("\n",
                "mkdir -p " + sibling,
                "echo '--- ns'", brig + " run --bundle " + ns.dir() + " " + ns.id(),
                "rmdir " + sibling + " /sys/fs/cgroup/brig",
                "echo '--- bind'", brig + " run --bundle " + bind.dir() + " " + bind.id(),
                "echo '--- explain'", brig + " run --explain --bundle " + bind.dir() + " " + bind.id() + " | grep -c 'directly into cgroup "
                        + "/sys/fs/cgroup/brig/" + bind.id() + " (clone3'",
                "echo '--- zero'", brig + " run --bundle " + zero.dir() + " " + zero.id() + " 2>&1; echo exit $?",
                "echo '--- after'", "find /sys/fs/cgroup/brig -mindepth 1 -type d 2>/dev/null | wc -l; ls /tmp/state | wc -l");
        Brig.Result r = Vm.run(dir, script, 600);
        String out = r.out();
        assertTrue(out.contains("--- after"), out + r.err());
        // Its own namespace: the container's cgroup is the root, and all there is below it.
        assertEquals("0::/\n---\n33\n67108864\n---\n1\n---\nRead-only file system\n---\n/sys/fs/cgroup / ro cgroup2\n",
                section(out, "ns", "bind"), out + r.err());
        assertEquals("0::/brig/" + bind.id() + "\n---\n33\n67108864\n---\n1\n---\nRead-only file system\n---\n"
                + "/sys/fs/cgroup /brig/" + bind.id() + " ro cgroup2\n", section(out, "bind", "explain"), out + r.err());
        assertEquals("1\n", section(out, "explain", "zero"), out);
        // Moved after a plain clone, the first process would run; born in the cgroup, it counts
        // against pids.max from the start.
        String z = section(out, "zero", "after");
        assertTrue(z.contains("clone3: EAGAIN: resource temporarily unavailable (the cgroup's pids.max allows no more processes?)")
                && z.endsWith("exit 1\n") && z.lines().count() == 2, z);
        assertTrue(out.endsWith("--- after\n0\n0\n"), out);
        assertEquals(0, r.exit(), out + r.err());
    }
}
