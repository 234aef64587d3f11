package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.TestBundle;
import brig.testing.Vm;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On a pure cgroup v2 host (these machines are v1 hybrids, so in a throw-away VM: {@link
 * Vm}): placement, the eBPF device filter, the cgroup mount and the clean-up. The VM sees this
 * host's files read-only, so the bundles are made here.
 */
@org.junit.jupiter.api.extension.ExtendWith(brig.testing.NoLeaks.class)
class CgroupV2IT {
    /** Not under /tmp: the guest mounts a fresh /tmp of its own. */
    @TempDir(factory = Vm.GuestDir.class) Path dir;

    /** The harness, for v2 tests written against the old ../shared/vm runner (same arguments): prefer {@link Vm#run}. */
    static final Path VM = Vm.SCRIPT;

    @Test
    void containersOnAPureV2Host() throws Exception {
        Vm.requireAvailable();
        TestBundle place = TestBundle.busybox(dir.resolve("place")).sh("cat /proc/self/cgroup; ls /sys/fs/cgroup | grep -c cgroup.procs; "
                + "mkdir /sys/fs/cgroup/x 2>&1 | sed 's/.*: //'");
        TestBundle devices = TestBundle.busybox(dir.resolve("devices")).sh("mknod /tmp/mem c 1 1 && echo made; "
                + "head -c 1 /tmp/mem 2>&1 >/dev/null && echo READ; echo x > /dev/null && echo null works");
        devices.set("root.readonly", "false");
        devices.set("process.capabilities", "{\"bounding\":[\"CAP_MKNOD\",\"CAP_SYS_RAWIO\"],\"effective\":[\"CAP_MKNOD\",\"CAP_SYS_RAWIO\"],"
                + "\"permitted\":[\"CAP_MKNOD\",\"CAP_SYS_RAWIO\"]}");
        Files.createDirectories(devices.rootfs().resolve("tmp"));
        place.write();
        devices.write();
        String brig = Brig.launcher().toString();
        String script = String.join("\n",
                "echo '--- place'", brig + " --root /tmp/state run --bundle " + place.dir() + " " + place.id(),
                "echo '--- devices'", brig + " --root /tmp/state run --bundle " + devices.dir() + " " + devices.id(),
                "echo '--- after'", "find /sys/fs/cgroup/brig -mindepth 1 -type d 2>/dev/null | wc -l; ls /tmp/state | wc -l");
        Brig.Result r = Vm.run(dir, script, 600);
        assertEquals(0, r.exit(), r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("--- after"), out + r.err());
        String placeOut = out.substring(out.indexOf("--- place\n") + 10, out.indexOf("--- devices"));
        assertEquals("0::/brig/" + place.id() + "\n1\nRead-only file system\n", placeOut);
        String devOut = out.substring(out.indexOf("--- devices\n") + 12, out.indexOf("--- after"));
        assertEquals("made\nhead: /tmp/mem: Operation not permitted\nnull works\n", devOut);
        assertTrue(out.endsWith("--- after\n0\n0\n"), out);
    }
}
