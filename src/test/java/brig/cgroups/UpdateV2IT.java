package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import brig.testing.Vm;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `brig update` on a pure cgroup v2 host (in the project's VM, {@link Vm}): a value given
 * alone is combined with what the cgroup has (memory.swap.max is swap alone, cpu.max holds
 * quota and period in one file), and an eater killed under the old limit survives the new one.
 */
@ExtendWith(NoLeaks.class)
class UpdateV2IT {
    /** Not under /tmp: the guest mounts a fresh /tmp of its own. */
    @TempDir(factory = Vm.GuestDir.class) Path dir;

    @Test
    void aRunningContainersLimitsOnAPureV2Host() throws Exception {
        Vm.requireAvailable();
        // Waits for /go, then holds 24 MiB (sh's buffer grows by copies: up to twice that at
        // once): more than the limit it starts with. Small and few commands: the guest runs
        // under emulation, where each JVM start costs seconds.
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("while [ ! -e /go ]; do sleep 0.05; done; "
                + "x=$(head -c 25165824 /dev/zero | tr '\\0' a); echo survived ${#x}");
        b.set("linux.resources", "{\"memory\":{\"limit\":16777216,\"swap\":16777216},\"cpu\":{\"quota\":50000,\"period\":100000},"
                + "\"pids\":{\"limit\":20}}");
        b.write();
        String brig = Brig.launcher() + " --root /tmp/state";
        String cg = "/sys/fs/cgroup/brig/" + b.id();
        String script = String.join("\n",
                brig + " run --bundle " + b.dir() + " " + b.id() + " > /tmp/out 2>&1 &",
                "for i in $(seq 200); do grep -q '\"running\"' /tmp/state/" + b.id() + "/state.json 2>/dev/null && break; sleep 0.1; done",
                "u() { " + brig + " update \"$@\" " + b.id() + " || echo \"update $* failed\"; }",
                "show() { echo \"$(cat " + cg + "/memory.max) $(cat " + cg + "/memory.swap.max) $(cat " + cg + "/cpu.max) $(cat "
                        + cg + "/pids.max)\"; }",
                "show",
                "u --cpu-period 200000 --memory-swap 400M", "show",
                "u --memory 128M --memory-swap 128M --cpu-quota 25000 --pids-limit -1", "show",
                "touch " + b.rootfs() + "/go; wait $!; echo \"exit $?\"",
                "cat /tmp/out", "find /sys/fs/cgroup/brig -mindepth 1 -type d 2>/dev/null | wc -l; ls /tmp/state | wc -l");
        Brig.Result r = Vm.run(dir, script, 600);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals(String.join("\n",
                "16777216 0 50000 100000 20",
                // The period alone keeps the quota; swap alone is memory plus swap less the limit the cgroup has.
                "16777216 402653184 50000 200000 20",
                "134217728 0 25000 200000 max",
                "exit 0", "survived 25165824", "0", "0", ""), r.out(), r.err());
    }
}
