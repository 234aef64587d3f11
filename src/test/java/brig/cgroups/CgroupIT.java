package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The container's own cgroup, its device rules, and the cgroup mount. */
@ExtendWith(NoLeaks.class)
class CgroupIT {
    @TempDir Path dir;

    /** A block device of this host, as "major minor". */
    static String hostDisk() throws Exception {
        try (var s = Files.list(Path.of("/sys/block"))) {
            for (Path b : s.toList()) {
                String name = b.getFileName().toString();
                if (name.startsWith("loop") || name.startsWith("ram")) continue;
                return Files.readString(b.resolve("dev")).trim().replace(':', ' ');
            }
        }
        return "8 0";
    }

    @Test
    void containerSitsInItsOwnCgroupEverywhereAndItIsRemovedAfter() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("cat /proc/self/cgroup");
        String out = b.run().expect(0).out();
        List<Hierarchy> hs = Hierarchy.discover();
        assertEquals(hs.size(), out.strip().split("\n").length, out);
        for (String line : out.strip().split("\n")) assertTrue(line.endsWith(":/brig/" + b.id()), line);
        for (Hierarchy h : hs) assertFalse(Files.exists(h.mountPoint().resolve("brig").resolve(b.id())), h.toString());
    }

    @Test
    void relativeCgroupsPathIsBelowBrigsOwnCgroup() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("grep memory /proc/self/cgroup");
        b.set("linux.cgroupsPath", "\"brig/" + b.id() + "\"");
        String own = Hierarchy.discover().stream().filter(h -> h.has("memory")).findFirst().orElseThrow().own();
        String out = b.run().expect(0).out().trim();
        assertEquals(("memory:" + own + "/brig/" + b.id()).replace("//", "/"), out.substring(out.indexOf(':') + 1));
    }

    @Test
    void deviceRulesDenyTheHostsDisksEvenWithMknod() throws Exception {
        String disk = hostDisk();
        // The open must fail for the device cgroup's reason (EPERM), not for any other.
        TestBundle b = TestBundle.busybox(dir).sh("mknod /tmp/disk b " + disk + " && echo made; "
                + "head -c 1 /tmp/disk 2>&1 >/dev/null && echo READ; echo ok > /dev/null && echo null works");
        b.set("root.readonly", "false");
        b.set("process.capabilities", "{\"bounding\":[\"CAP_MKNOD\",\"CAP_DAC_OVERRIDE\"],\"effective\":[\"CAP_MKNOD\",\"CAP_DAC_OVERRIDE\"],"
                + "\"permitted\":[\"CAP_MKNOD\",\"CAP_DAC_OVERRIDE\"]}");
        Files.createDirectories(b.rootfs().resolve("tmp"));
        assertEquals("made\nhead: /tmp/disk: Operation not permitted\nnull works\n", b.run().expect(0).out());
    }

    @Test
    void configuredRulesCanAllowADevice() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("head -c 4 /dev/loopish | wc -c");
        b.add("linux.devices", "{\"path\":\"/dev/loopish\",\"type\":\"c\",\"major\":1,\"minor\":5}");
        assertEquals("4\n", b.run().expect(0).out());
    }

    @Test
    void cgroupMountShowsTheContainersOwnCgroupReadOnly() throws Exception {
        // Its own cgroup holds exactly the shell and the wc reading it; the host's would hold
        // every process of the machine.
        TestBundle b = TestBundle.busybox(dir).sh("ls /sys/fs/cgroup; wc -l < /sys/fs/cgroup/pids/cgroup.procs; "
                + "mkdir /sys/fs/cgroup/memory/x 2>&1 | sed 's/.*: //'");
        String out = b.run().expect(0).out();
        List<Hierarchy> hs = Hierarchy.discover();
        List<String> lines = out.lines().toList();
        List<String> names = hs.stream().filter(h -> !h.unified() || hs.size() > 1).map(Hierarchy::name).sorted().toList();
        assertEquals(names, lines.subList(0, lines.size() - 2).stream().sorted().toList(), out);
        assertEquals("2", lines.get(lines.size() - 2).trim(), "processes in the container's own pids cgroup\n" + out);
        assertEquals("Read-only file system", lines.get(lines.size() - 1), out);
    }
}
