package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import brig.testing.Vm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The lab's cgroup demos ({@link ResourcesIT} on this v1 host) on a pure cgroup v2 kernel, in
 * the project's VM ({@link Vm}): the memory eater, the fork bomb, shares against shares on one
 * CPU, the v2 files linux.resources becomes, read back from inside the container, and the
 * library behind pause, resume and events ({@link V2LabProbe}) on a live container.
 *
 * <p>All in one guest: a boot costs ~4 s and every brig run in it ~2-3 s (TCG emulation), so
 * the guest runs one script with a section per check, and the test asserts on each section.
 * The bundles are made here (the guest sees this host's files read-only).
 */
@ExtendWith(NoLeaks.class)
class CgroupV2LabIT {
    /** Not under /tmp: the guest mounts a fresh /tmp of its own. */
    @TempDir(factory = Vm.GuestDir.class) Path dir;

    /** The lab's munch: 1 MiB at a time, each touched, its count printed as it goes. */
    private static final String EATER = """
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            #include <unistd.h>
            int main(void) {
                char line[16];
                for (int mib = 1; mib <= 1024; mib++) {
                    char *p = malloc(1 << 20);
                    if (p == NULL) return 1;
                    memset(p, 'a', 1 << 20);
                    write(1, line, snprintf(line, sizeof line, "%d\\n", mib));
                }
                return 0;
            }
            """;

    private void compileEater(Path out) throws Exception {
        Path src = dir.resolve("eat.c");
        Files.writeString(src, EATER);
        Brig.Result cc = Brig.exec(null, List.of("cc", "-static", "-O1", "-o", out.toString(), src.toString()), null,
                Map.of("PATH", "/usr/bin:/bin"), 120);
        assertEquals(0, cc.exit(), "cannot compile the memory eater (gcc and libc6-dev are build dependencies): " + cc.err());
    }

    @Test
    void theLabOnAPureV2Host() throws Exception {
        Vm.requireAvailable();
        // The eater under 100M with swap equal to the limit (v2: memory.swap.max 0). sh prints
        // what the container's own cgroup says, then becomes the eater.
        TestBundle eater = TestBundle.busybox(dir.resolve("eater"))
                .sh("cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max; exec /eat");
        compileEater(eater.rootfs().resolve("eat"));
        eater.set("linux.resources", "{\"memory\":{\"limit\":104857600,\"swap\":104857600}}");
        // Under a parent the guest makes (Brig leaves it), whose v2 counters are hierarchical and
        // outlive the container's cgroup: memory.events' oom_kill, pids.peak, pids.events.
        eater.set("linux.cgroupsPath", "\"/lab-mem/" + eater.id() + "\"");

        // The first process forks once, before there is a bomb (started by itself, its second
        // fork could be refused: sh exits 2, as in one CI run), then becomes sleep, whose end
        // ends the pid namespace, bomb and all.
        TestBundle bomb = TestBundle.busybox(dir.resolve("bomb")).sh("f() { f | f & }; (f) & exec sleep 2");
        bomb.set("linux.resources", "{\"pids\":{\"limit\":10}}");
        bomb.set("linux.cgroupsPath", "\"/lab-pids/" + bomb.id() + "\"");

        // Both pinned to CPU 0 (the guest may have only that one) and spinning until the guest
        // kills them (timeout: a safety net).
        String spin = "cat /sys/fs/cgroup/cpu.weight; timeout 60 sh -c 'while :; do :; done'";
        TestBundle big = TestBundle.busybox(dir.resolve("big")).sh(spin);
        TestBundle small = TestBundle.busybox(dir.resolve("small")).sh(spin);
        big.set("linux.resources", "{\"cpu\":{\"shares\":1024,\"cpus\":\"0\"}}");
        small.set("linux.resources", "{\"cpu\":{\"shares\":128,\"cpus\":\"0\"}}");

        // Every other field with a v2 file, read back by the container from its own cgroup.
        List<String> files = List.of("cpu.weight", "cpu.max", "cpuset.cpus", "memory.low", "memory.high", "memory.max", "memory.swap.max",
                "io.weight", "io.max", "hugetlb.2MB.max", "hugetlb.1GB.max", "pids.max", "cgroup.max.descendants");
        TestBundle settings = TestBundle.busybox(dir.resolve("settings")).sh("cd /sys/fs/cgroup && for f in " + String.join(" ", files)
                + "; do echo \"$f: $(cat $f | tr '\\n' ';')\"; done");
        // /dev/ram0 (1:0) is the harness's RAM disk: io.max needs a real block device.
        settings.set("linux.resources", """
                {"memory": {"limit": 268435456, "swap": 536870912, "reservation": 67108864},
                 "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
                 "blockIO": {"weight": 500,
                   "throttleReadBpsDevice": [{"major": 1, "minor": 0, "rate": 1048576}],
                   "throttleWriteIOPSDevice": [{"major": 1, "minor": 0, "rate": 100}]},
                 "hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}, {"pageSize": "1GB", "limit": 0}],
                 "pids": {"limit": 20},
                 "unified": {"memory.high": "201326592", "cgroup.max.descendants": "3"}}""");

        // Nothing of Brig is charged to the container: 512 KiB is enough for one busybox whose
        // file is in the page cache already, as on the host, where the test just wrote it. (In
        // the guest it is read cold, and the reader's cgroup is charged for the page cache: a
        // busybox reading memory.stat under 8M showed file 1.98 MB, file_mapped 1.62 MB, anon
        // 0.15 MB, kernel 0.30 MB; under 512K the same busybox, cold, was OOM-killed. So the
        // guest reads the file first, and the container is charged only for what it runs.)
        TestBundle tiny = TestBundle.busybox(dir.resolve("tiny")).args("/bin/busybox", "ls", "/");
        tiny.set("linux.resources", "{\"memory\":{\"limit\":524288}}");

        for (TestBundle b : List.of(eater, bomb, big, small, settings, tiny)) b.write();
        String cg = "/sys/fs/cgroup";
        String script = String.join("\n",
                "B=" + Brig.launcher(),
                // A section's start, with the guest's uptime (the test prints where time goes).
                "t() { echo \"--- $1 $(cut -d' ' -f1 /proc/uptime)\"; }",
                // The container's stdout, then "exit N"; brig's stderr and the container's in /tmp/ID.err.
                "run() { $B --root /tmp/state run --bundle \"$1\" \"$2\" 2>/tmp/$2.err; echo \"exit $?\"; }",
                // What is left under a parent: directories below it, tasks in it.
                "left() { echo \"dirs $(find " + cg + "/$1 -mindepth 1 -type d | wc -l) tasks $(cat " + cg + "/$1/pids.current)\"; }",
                "t eater", "mkdir " + cg + "/lab-mem",
                "run " + eater.dir() + " " + eater.id() + " | tr '\\n' ' '; echo", "echo \"stderr $(cat /tmp/" + eater.id() + ".err)\"",
                "grep -E '^(oom_kill|max) ' " + cg + "/lab-mem/memory.events", "left lab-mem",
                "t bomb", "mkdir " + cg + "/lab-pids",
                // The refused forks' complaints are counted, not shown.
                "run " + bomb.dir() + " " + bomb.id(), "echo \"complaints $(grep -c \"can't fork\" /tmp/" + bomb.id() + ".err)\"",
                "echo \"peak $(cat " + cg + "/lab-pids/pids.peak)\"", "grep '^max ' " + cg + "/lab-pids/pids.events", "left lab-pids",
                "t cpu",
                "run " + big.dir() + " " + big.id() + " > /tmp/big.out & b=$!",
                "run " + small.dir() + " " + small.id() + " > /tmp/small.out & s=$!",
                // Until both spin (their cgroups hold a task), then a second more: the
                // starting brig JVMs are done with the CPUs.
                // (cgroup files have no size: test -s is always false.)
                "for k in $(seq 600); do grep -qs . " + cg + "/brig/" + big.id() + "/cgroup.procs && grep -qs . " + cg + "/brig/"
                        + small.id() + "/cgroup.procs && break; sleep 0.05; done",
                "sleep 1",
                "u() { sed -n 's/^usage_usec //p' " + cg + "/brig/$1/cpu.stat; }",
                "b0=$(u " + big.id() + ") s0=$(u " + small.id() + ")", "sleep 2",
                "echo \"usec $(($(u " + big.id() + ") - b0)) $(($(u " + small.id() + ") - s0))\"",
                // The library behind pause, resume and events on the big one, still spinning. The
                // small one is done with, the big one spins on at 20% of a CPU: under TCG a spinning
                // vCPU halves the JVM's speed (the probe took 11.5 s beside both at full speed).
                "t pause", "echo 1 > " + cg + "/brig/" + small.id() + "/cgroup.kill",
                "echo '20000 100000' > " + cg + "/brig/" + big.id() + "/cpu.max",
                "echo \"procs $(wc -l < " + cg + "/brig/" + big.id() + "/cgroup.procs)\"",
                Vm.javaMain(V2LabProbe.class) + " " + cg + "/brig/" + big.id() + " 2>&1",
                "t spinners",
                "echo 1 > " + cg + "/brig/" + big.id() + "/cgroup.kill",
                "wait $b $s", "cat /tmp/big.out /tmp/small.out /tmp/" + big.id() + ".err /tmp/" + small.id() + ".err",
                "t settings", "run " + settings.dir() + " " + settings.id(), "cat /tmp/" + settings.id() + ".err",
                "t tiny", "cat " + tiny.rootfs().resolve("bin/busybox") + " > /dev/null",
                "run " + tiny.dir() + " " + tiny.id() + " | grep -E '^(bin|exit)'",
                "t after", "find " + cg + "/brig -mindepth 1 -type d 2>/dev/null | wc -l; ls /tmp/state | wc -l",
                "t end");
        long t0 = System.nanoTime();
        Brig.Result r = Vm.run(dir, script, 300);
        // Where the guest's time goes ("--- SECTION UPTIME"), and what it saw, for CI's log.
        System.err.printf("CgroupV2LabIT: the guest took %.1f s%n%s", (System.nanoTime() - t0) / 1e9, r.out());
        assertEquals(0, r.exit(), r.out() + r.err());
        Map<String, String> s = Vm.sections(r.out());
        assertTrue(s.containsKey("end"), r.out() + r.err());

        // Every section is checked, each failure reported: a boot is too dear to learn one at a time.
        assertAll(() -> eater(s.get("eater")), () -> bomb(s.get("bomb")), () -> cpu(s.get("cpu"), s.get("spinners")),
                () -> pause(s.get("pause")), () -> settings(s.get("settings")),
                () -> assertEquals("bin\nexit 0\n", s.get("tiny"), "a container under a 512 KiB limit starts and runs"),
                () -> assertEquals("0\n0\n", s.get("after"), "no cgroup and no state left"));
    }

    /** The eater: its cgroup said 100M and no swap; it got near 100 MiB and was killed, and counted. */
    private static void eater(String section) {
        List<String> eat = section.lines().toList();
        List<String> eaten = List.of(eat.get(0).split(" "));
        assertEquals(List.of("104857600", "0"), eaten.subList(0, 2), "memory.max and memory.swap.max: " + eat);
        assertEquals("exit 137", eaten.get(eaten.size() - 2) + " " + eaten.get(eaten.size() - 1), "SIGKILL: " + eat);
        int mib = Integer.parseInt(eaten.get(eaten.size() - 3));
        assertTrue(mib >= 90 && mib < 100, "killed near 100 MiB, after " + mib + " MiB: " + eat);
        assertEquals(List.of("1", "2", "3"), eaten.subList(2, 5), "one line per MiB: " + eat);
        assertTrue(eat.contains("oom_kill 1"), "memory.events counts the kill: " + eat);
        assertEquals("dirs 0 tasks 0", eat.get(eat.size() - 1), "everything is gone: " + eat);
        // eat.get(1) is what brig said on stderr: not checked (the place for a report of the OOM kill).
    }

    /** The bomb: held at 10 tasks (the kernel's own peak), forks refused, everything gone. */
    private static void bomb(String section) {
        List<String> b = section.lines().toList();
        assertEquals("exit 0", b.get(0), section);
        long peak = Long.parseLong(b.get(2).substring("peak ".length()));
        assertTrue(peak >= 9 && peak <= 10, "the bomb reached the limit and no more: " + b);
        assertTrue(b.get(3).matches("max [1-9][0-9]*"), "forks were refused at the limit: " + b);
        assertTrue(b.get(1).matches("complaints [1-9][0-9]*"), "the bomb's shells said so: " + b);
        assertEquals("dirs 0 tasks 0", b.get(4), "every task and cgroup is gone: " + b);
    }

    /**
     * Shares became weights by the kubelet's formula (1024 -> 39, 128 -> 5), and CFS gave the
     * spinners CPU 0 about as they say (39:5 = 7.8:1; wide bounds, as in ResourcesIT).
     */
    private static void cpu(String section, String spinners) {
        assertEquals("39\nexit 137\n5\nexit 137\n", spinners, "weights, then killed by the guest");
        List<String> c = section.lines().toList();
        String[] usec = c.get(0).split(" ");
        long bigUs = Long.parseLong(usec[1]), smallUs = Long.parseLong(usec[2]);
        double ratio = (double) bigUs / Math.max(1, smallUs);
        assertTrue(bigUs > 1_000_000, "the 1024-share container ran most of the 2 s: " + c);
        assertTrue(ratio > 4 && ratio < 16, "CPU time 1024:128 should be about 8:1, was " + bigUs + ":" + smallUs);
    }

    /**
     * Freezer and CgroupStats (pause, resume, events) on a real v2 cgroup: frozen, the spinner
     * gets no CPU; thawed, it spins again; the stats are the cgroup's.
     */
    private static void pause(String section) {
        List<String> p = section.lines().toList();
        assertEquals(4, p.size(), section);
        int procs = Integer.parseInt(p.get(0).substring("procs ".length()));
        assertTrue(p.get(1).matches("frozen FROZEN ran [0-9]+"), section);
        assertTrue(Long.parseLong(p.get(1).replaceFirst(".* ", "")) < 1000, "no CPU while frozen: " + section);
        assertTrue(p.get(2).matches("thawed THAWED ran [0-9]+"), section);
        // 300 ms at 20% of a CPU: ~60 ms.
        assertTrue(Long.parseLong(p.get(2).replaceFirst(".* ", "")) > 10_000, "spinning again once thawed: " + section);
        assertTrue(p.get(3).startsWith("stats {"), section);
        com.google.gson.JsonObject stats = com.google.gson.JsonParser.parseString(p.get(3).substring(6)).getAsJsonObject();
        assertTrue(stats.getAsJsonObject("cpu").getAsJsonObject("usage").get("total").getAsLong() > 1_000_000_000L,
                "seconds of CPU, in ns: " + stats);
        // It limits only CPU: pids and memory are accounted all the same (the controllers enabled for it).
        assertTrue(stats.getAsJsonObject("pids").has("current"), "pids accounted: " + stats);
        assertEquals(procs, stats.getAsJsonObject("pids").get("current").getAsInt(), "its tasks: " + stats);
        assertTrue(stats.getAsJsonObject("memory").getAsJsonObject("usage").has("usage"), "memory accounted: " + stats);
        assertEquals("[0]", stats.getAsJsonObject("cpuset").get("cpus").toString(), "its cpuset: " + stats);
        assertTrue(stats.getAsJsonObject("cpu").getAsJsonObject("throttling").has("throttledPeriods"), "the 20% quota throttled it: " + stats);
        assertTrue(stats.getAsJsonObject("memory").getAsJsonObject("usage").get("usage").getAsLong() > 0, "its memory: " + stats);
    }

    /** The v2 files as the container reads them. */
    private static void settings(String section) {
        Map<String, String> read = new LinkedHashMap<>();
        for (String line : section.lines().toList()) {
            int colon = line.indexOf(": ");
            if (colon > 0) read.put(line.substring(0, colon), line.substring(colon + 2));
        }
        Map<String, String> want = new LinkedHashMap<>();
        want.put("cpu.weight", "20;"); // 1 + (512 - 2) * 9999 / 262142
        want.put("cpu.max", "50000 100000;");
        want.put("cpuset.cpus", "0;"); // empty unless written
        want.put("memory.low", "67108864;");
        want.put("memory.high", "201326592;"); // unified, written after the rest
        want.put("memory.max", "268435456;");
        want.put("memory.swap.max", "268435456;"); // swap - limit
        want.put("io.weight", "default 4950;"); // 1 + (500 - 10) * 9999 / 990
        want.put("io.max", "1:0 rbps=1048576 wbps=max riops=max wiops=100;");
        want.put("hugetlb.2MB.max", "4194304;");
        want.put("hugetlb.1GB.max", "0;");
        want.put("pids.max", "20;");
        want.put("cgroup.max.descendants", "3;");
        assertEquals(want, read, section);
        assertTrue(section.endsWith("exit 0\n"), section);
    }
}
