package brig.container;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.Layout;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.GuestJUnit;
import brig.testing.NoLeaks;
import brig.testing.Vm;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `brig container ...` as a person uses it on a pure cgroup v2 host (issue 12's acceptance: the
 * verbs and flags "in the cgroup v2 guest"), in the project's VM ({@link Vm}): the memory
 * eater under `--memory 100M --memory-swap 100M` (v2 has no swappiness) ends 137 with the OOM
 * report read from memory.events' oom_kill; a fork bomb under `--pids-limit 10` holds and `top`
 * shows at most 10 tasks; `--cpus 1.5` and `--memory` in `inspect`, in `stats --no-stream` and
 * in the v2 files (cpu.max, memory.max), also as `exec` sees them from inside; `run -d` under a
 * monitor in /brig.monitor, then `wait`, `logs`, `rm`; `-v` and `--tmpfs`; the copy-on-write
 * rootfs whose upper is on the store's tmpfs; and nothing left behind.
 *
 * <p>One guest boot for all of it (a boot ~4 s, each brig call 1-3 s under TCG): the image is
 * built here into a store the guest copies to its own /tmp (a tmpfs: the guest's root is
 * overlayfs, which cannot hold a layer store, see the {@code overlay} section), and the script
 * prints a section per check that the test asserts on.
 */
@ExtendWith(NoLeaks.class)
class ContainerV2GuestIT {
    Path dir;

    @BeforeEach
    void makeDir() throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "containers need root");
        dir = Vm.workDir("container-v2-guest-it-");
    }

    @AfterEach
    void removeDir() throws Exception {
        Vm.removeDir(dir);
    }

    /** The methods of ContainerRunIT that read cgroup files, run in the guest by {@link GuestJUnit}. */
    static final List<String> RUN_IT = List.of("limitsAreInTheContainersCgroup", "memoryEaterEndsWith137AndTheOomReport", "forkBombIsHeld")
            .stream().map(m -> ContainerRunIT.class.getName() + "#" + m).toList();

    @Test
    void containerVerbsOnAPureV2Host() throws Exception {
        Vm.requireAvailable();
        ContainerImages.busybox(dir, Layout.openOrCreate(dir.resolve("store")), "plain", ContainerImages.config("{\"Cmd\":[\"sh\"]}"));
        String p = NoLeaks.PREFIX;
        String cg = "/sys/fs/cgroup";
        String script = String.join("\n",
                "B=" + Brig.launcher(),
                "t() { echo \"--- $1 $(cut -d' ' -f1 /proc/uptime)\"; }",
                // As a user would: one state root, one store (on the guest's tmpfs /tmp).
                "c() { v=$1; shift; $B --root /tmp/state container $v --store /tmp/store \"$@\"; }",
                "cx() { $B --root /tmp/state container exec \"$@\"; }",
                // The unified directory of a container, from inspect.
                "cgdir() { c inspect $1 | jq -r '.cgroups[] | select(.controllers == \"(unified)\") | .path'; }",
                "cp -a " + dir.resolve("store") + " /tmp/store",

                "t oom",
                // What the container's own cgroup says (no swap), then the lab's eater.
                "c run --rm --pull=never --name " + p + "oom --memory 100M --memory-swap 100M plain sh -c "
                        + "'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max; x=a; while :; do x=$x$x; done' 2>&1; echo \"exit $?\"",
                // A kill -9 gives 137 too, and no report.
                "c run --rm --pull=never --name " + p + "kill9 --memory 100M --memory-swap 100M plain sh -c 'sleep 100 & kill -9 $!; wait $!' 2>&1; echo \"exit $?\"",

                "t bomb",
                "c run -d --pull=never --name " + p + "bomb --pids-limit 10 plain sh -c "
                        + "'bomb() { sleep 30 & bomb | bomb & }; sleep 30 & bomb & wait' 2>&1",
                "for k in $(seq 60); do grep -q '^max [1-9]' $(cgdir " + p + "bomb)/pids.events && break; sleep 0.1; done; sleep 1",
                "echo \"tasks $(c top " + p + "bomb | tail -n +2 | wc -l)\"",
                "echo \"pids.max $(cat $(cgdir " + p + "bomb)/pids.max)\"",
                "grep '^max ' $(cgdir " + p + "bomb)/pids.events",
                "c inspect " + p + "bomb | jq -c '{limit: .limits.pids, current: .usage.pids.current}'",
                "c kill " + p + "bomb; c wait " + p + "bomb; c rm " + p + "bomb",

                "t limits",
                "c run -d --pull=never --name " + p + "lim --cpus 1.5 --memory 64M plain sleep 60 2>&1",
                "c inspect " + p + "lim | jq -c '.limits | {memory, cpuQuota, cpuPeriod}'",
                "echo \"cpu.max $(cat $(cgdir " + p + "lim)/cpu.max)\"",
                "echo \"memory.max $(cat $(cgdir " + p + "lim)/memory.max)\"",
                "c stats --no-stream " + p + "lim",

                "t exec",
                "cx " + p + "lim sh -c 'cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max; cat /proc/1/cmdline | tr \"\\0\" \" \"; echo'; echo \"exit $?\"",
                "cx " + p + "lim sh -c 'exit 3'; echo \"exit $?\"",

                "t monitor",
                // The container's parent is its monitor, in Brig's /brig.monitor, not the container's cgroup.
                "pid=$(jq .pid /tmp/state/" + p + "lim/state.json); ppid=$(cut -d' ' -f4 /proc/$pid/stat)",
                "cat /proc/$ppid/cgroup; cat /proc/$pid/cgroup",
                "c kill " + p + "lim; c wait " + p + "lim; c rm " + p + "lim",

                "t detach",
                "c run -d --pull=never --name " + p + "det plain sh -c 'echo to stdout; echo to stderr >&2; exit 3'",
                "c wait " + p + "det; c logs " + p + "det; c ps -a | grep -c '^" + p + "det .*Exited (3)'; c rm " + p + "det",

                "t volumes",
                "mkdir /tmp/vol; echo host > /tmp/vol/f",
                "c run --rm --pull=never --name " + p + "vol -v /tmp/vol:/data --tmpfs /scratch plain sh -c "
                        + "'cat /data/f; echo container > /data/g; awk \"\\$2 == \\\"/scratch\\\" || \\$2 == \\\"/\\\" {print \\$2, \\$3}\" /proc/mounts;"
                        + " echo w > /written; cat /written'; echo \"exit $?\"",
                "cat /tmp/vol/g",

                "t overlay",
                // The guest's root is overlayfs: a store there cannot keep its layers' whiteouts.
                "cp -a " + dir.resolve("store") + " /var/tmp/store",
                "$B --root /tmp/state container run --rm --pull=never --store /var/tmp/store --name " + p + "ovl plain true 2>&1; echo \"exit $?\"",

                "t tmpfsupper",
                // Its layers on a tmpfs, the containers' directory still on overlayfs: the
                // upper goes on a tmpfs of the container's, and brig says so.
                "mkdir /var/tmp/store/layers; mount -t tmpfs tmpfs /var/tmp/store/layers",
                "$B --root /tmp/state container run --rm --pull=never --store /var/tmp/store --name " + p + "tmpup plain sh -c "
                        + "'awk \"\\$2 == \\\"/\\\" {print \\$3}\" /proc/mounts; echo w > /w; cat /w' 2>&1; echo \"exit $?\"",
                "ls /var/tmp/store/containers | wc -l; umount /var/tmp/store/layers",

                "t runit",
                // ContainerRunIT's cgroup tests, written for either version, run here on v2.
                Vm.javaMain(GuestJUnit.class) + " " + String.join(" ", RUN_IT) + " 2>/tmp/runit.err | grep -E '^(FAILED|tests) '",

                "t after",
                "find " + cg + "/brig -mindepth 1 -type d 2>/dev/null | wc -l; ls /tmp/state | wc -l; ls /tmp/store/containers 2>/dev/null | wc -l",
                "t end");
        long t0 = System.nanoTime();
        Brig.Result r = Vm.run(dir, script, 300);
        // Where the guest's time goes ("--- SECTION UPTIME"), and what it saw, for CI's log.
        System.err.printf("ContainerV2GuestIT: the guest took %.1f s%n%s%s", (System.nanoTime() - t0) / 1e9, r.out(), r.err());
        assertEquals(0, r.exit(), r.out() + r.err());
        Map<String, String> s = Vm.sections(r.out());
        assertTrue(s.containsKey("end"), r.out() + r.err());
        assertAll(() -> oom(s.get("oom")), () -> bomb(s.get("bomb")), () -> limits(s.get("limits")), () -> exec(s.get("exec")),
                () -> monitor(s.get("monitor")), () -> detach(s.get("detach")), () -> volumes(s.get("volumes")),
                () -> overlay(s.get("overlay")), () -> tmpfsUpper(s.get("tmpfsupper")),
                () -> assertEquals("tests " + RUN_IT.size() + " passed 0 failed\n", s.get("runit"), "ContainerRunIT's limits, OOM and fork bomb on v2"),
                () -> assertEquals("0\n0\n0\n", s.get("after"), "no cgroup, no state, no container left"));
    }

    /** 100M and no swap in the container's files; killed, reported from memory.events; a kill -9 not reported. */
    private static void oom(String section) {
        String n = NoLeaks.PREFIX + "oom";
        // busybox ash's "Killed" for the job it waits for is its own and comes or not (missing
        // twice in the slow guest, CI runs of 2026-12-01): what counts is 137 and no report.
        assertEquals("104857600\n0\nbrig: container " + n + ": out of memory: the OOM killer killed a process (memory limit 100 MiB)\nexit 137\n"
                + "exit 137\n", section.replace("\nKilled\n", "\n"), "memory.max, memory.swap.max, the report, 137; then kill -9: 137 and nothing of brig's");
    }

    /** Held at 10: the kernel refused forks, top shows no more than 10 tasks. */
    private static void bomb(String section) {
        List<String> b = section.lines().toList();
        assertEquals(NoLeaks.PREFIX + "bomb", b.get(0), section);
        int tasks = Integer.parseInt(b.get(1).substring("tasks ".length()));
        assertTrue(tasks >= 2 && tasks <= 10, "top shows at most 10 tasks: " + section);
        assertEquals("pids.max 10", b.get(2), section);
        assertTrue(b.get(3).matches("max [1-9][0-9]*"), "forks were refused at the limit: " + section);
        JsonObject o = JsonParser.parseString(b.get(4)).getAsJsonObject();
        assertEquals(10, o.get("limit").getAsInt(), section);
        assertTrue(o.get("current").getAsInt() <= 10, section);
        // kill, wait (137: SIGKILL), rm
        assertEquals(List.of(NoLeaks.PREFIX + "bomb", "137", NoLeaks.PREFIX + "bomb"), b.subList(5, 8), section);
    }

    /** --cpus 1.5 and --memory 64M: in inspect, in cpu.max and memory.max, in stats' limit. */
    private static void limits(String section) {
        List<String> l = section.lines().toList();
        String n = NoLeaks.PREFIX + "lim";
        assertEquals(n, l.get(0), section);
        assertEquals("{\"memory\":67108864,\"cpuQuota\":150000,\"cpuPeriod\":100000}", l.get(1), section);
        assertEquals("cpu.max 150000 100000", l.get(2), section);
        assertEquals("memory.max 67108864", l.get(3), section);
        assertTrue(l.get(4).startsWith("NAME "), section);
        assertTrue(l.get(5).startsWith(n + " ") && l.get(5).contains(" / 64MiB "), "stats: the memory limit: " + section);
        assertTrue(l.get(5).matches(".* 1$"), "stats: one task (sleep): " + section);
    }

    /** exec runs in the container: its cgroup's files, its pid 1; the command's own status. */
    private static void exec(String section) {
        assertEquals("150000 100000\n67108864\nsleep 60 \nexit 0\nexit 3\n", section);
    }

    /** The monitor in /brig.monitor/NAME (v2: one line "0::PATH"), the container in its own cgroup. */
    private static void monitor(String section) {
        List<String> m = section.lines().toList();
        assertEquals("0::/brig.monitor/" + NoLeaks.PREFIX + "lim", m.get(0), section);
        assertEquals("0::/brig/" + NoLeaks.PREFIX + "lim", m.get(1), "the container in its own: " + section);
        assertEquals(List.of(NoLeaks.PREFIX + "lim", "137", NoLeaks.PREFIX + "lim"), m.subList(2, 5), section);
    }

    /** run -d, wait (its status), logs (stdout and stderr), ps -a, rm. */
    private static void detach(String section) {
        String n = NoLeaks.PREFIX + "det";
        assertEquals(n + "\n3\nto stdout\nto stderr\n1\n" + n + "\n", section);
    }

    /** -v both ways, --tmpfs a tmpfs, the rootfs overlayfs and writable. */
    private static void volumes(String section) {
        assertEquals("host\n/ overlay\n/scratch tmpfs\nw\nexit 0\ncontainer\n", section);
    }

    /** A store on overlayfs: one clear line and 125 (the layer store would lose its whiteouts). */
    private static void overlay(String section) {
        assertEquals("brig: layer store /var/tmp/store/layers is on overlayfs, which takes the layers' whiteouts for its own:"
                + " put the image store (--store) on another file system (a disk or a tmpfs)\nexit 125\n", section);
    }

    /** Layers on a tmpfs, containers on overlayfs: the upper on a tmpfs, said on stderr; --rm leaves nothing. */
    private static void tmpfsUpper(String section) {
        String n = NoLeaks.PREFIX + "tmpup";
        assertEquals("brig: warning: container " + n + ": /var/tmp/store/containers/" + n + " is on overlayfs, which cannot hold an upper"
                + " directory: the container's writable layer is on a tmpfs of its own and is lost when it stops\noverlay\nw\nexit 0\n0\n", section);
    }
}
