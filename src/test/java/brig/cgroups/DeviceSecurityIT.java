package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.spec.Spec;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import brig.testing.Vm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on device access and on cgroups Brig did not make, on this host's cgroup v1
 * devices controller and, in one boot of the pure-v2 VM ({@link Vm}), on the eBPF filter.
 *
 * <p>The device opened is char 7:0 (/dev/vcs, the text of the current console): outside
 * the default list, present on this host and in the VM's kernel, and harmless to open
 * read-only, needing no capability (unlike /dev/mem or, with dmesg_restrict, /dev/kmsg), so
 * the only thing that can refuse it is the device cgroup.
 */
@ExtendWith(NoLeaks.class)
class DeviceSecurityIT {
    @TempDir Path dir;

    /** Makes a node outside the default list with CAP_MKNOD and opens it for reading. */
    static final String ATTACK = "mknod /tmp/vcs c 7 0 && echo made; dd if=/tmp/vcs of=/dev/null count=0 2>&1 && echo OPENED; "
            + "echo x > /dev/null && echo null works";
    static final String REFUSED = "made\ndd: can't open '/tmp/vcs': Operation not permitted\nnull works\n";

    static TestBundle attacker(Path dir, boolean withRuncsDefaultRules) throws IOException {
        TestBundle b = TestBundle.busybox(dir).sh(ATTACK);
        b.set("root.readonly", "false");
        b.set("process.capabilities", "{\"bounding\":[\"CAP_MKNOD\"],\"effective\":[\"CAP_MKNOD\"],\"permitted\":[\"CAP_MKNOD\"]}");
        if (!withRuncsDefaultRules) b.linux().getAsJsonObject("resources").remove("devices");
        Files.createDirectories(b.rootfs().resolve("tmp"));
        return b;
    }

    @Test
    void mknodAndOpenADeviceOutsideTheDefaultListWithNoDeviceRulesInTheConfig() throws Exception {
        assertEquals(REFUSED, attacker(dir, false).run().expect(0).out());
    }

    @Test
    void mknodAndOpenADeviceOutsideTheDefaultListUnderRuncsDefaultConfig() throws Exception {
        assertEquals(REFUSED, attacker(dir, true).run().expect(0).out());
    }

    /**
     * The v2 filter is built from {@link DeviceFilter#reduce}; here its result is compared
     * with what the v1 kernel lists after the same writes, for many rule sequences.
     */
    @Test
    void v2ReductionAgreesWithTheV1KernelOnRandomRuleSequences() throws Exception {
        Hierarchy devices = Hierarchy.discover().stream().filter(h -> h.has("devices")).findFirst().orElseThrow();
        Path brig = devices.mountPoint().resolve("brig");
        boolean madeBrig = !Files.isDirectory(brig);
        Path cg = brig.resolve(NoLeaks.PREFIX + "reduce");
        Files.createDirectories(cg);
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        char[] types = {'a', 'b', 'c'};
        long[] majors = {-1, 1, 8}, minors = {-1, 0, 3};
        String[] accesses = {"r", "w", "m", "rw", "rm", "wm", "rwm"};
        try {
            for (int round = 0; round < 300; round++) {
                List<Spec.DeviceRule> rules = new ArrayList<>();
                // A leading "a" makes the kernel's starting state the one reduce() assumes.
                rules.add(new Spec.DeviceRule(rnd.nextBoolean(), 'a', -1, -1, accesses[rnd.nextInt(accesses.length)]));
                for (int k = rnd.nextInt(9); k > 0; k--) {
                    char t = rnd.nextInt(8) == 0 ? 'a' : types[1 + rnd.nextInt(2)];
                    rules.add(new Spec.DeviceRule(rnd.nextBoolean(), t, majors[rnd.nextInt(3)], minors[rnd.nextInt(3)],
                            accesses[rnd.nextInt(accesses.length)]));
                }
                for (Spec.DeviceRule r : rules) {
                    ContainerCgroup.write(cg.resolve(r.allow() ? "devices.allow" : "devices.deny"), DeviceRules.line(r));
                }
                DeviceFilter.Rules reduced = DeviceFilter.reduce(rules);
                List<String> expected = reduced.allowByDefault() ? List.of("a *:* rwm")
                        : reduced.exceptions().stream().map(DeviceRules::line).toList();
                assertEquals(expected, Files.readAllLines(cg.resolve("devices.list")), "seed " + seed + ", rules " + rules);
            }
        } finally {
            Files.deleteIfExists(cg);
            if (madeBrig) Files.deleteIfExists(brig);
        }
    }

    @Test
    void changingTheRulesUnderARunningProcessNeverOpensADevice() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        String report = liveChanges("/brig/" + NoLeaks.PREFIX + "live", dir);
        assertEquals(LIVE_REPORT + "programs attached: none, v1\n", report);
    }

    static final String LIVE_REPORT = """
            denied before: sh: can't open NODE: Operation not permitted
            allowed: opened
            denied after: sh: can't open NODE: Operation not permitted
            opened during the changes: false
            open state seen: false
            attempts made: true
            """;

    /**
     * A process in the cgroup tries to open a device denied by both rule sets while the rules
     * switch back and forth under it; then a set that allows the device is applied and taken
     * back. On v1, devices.list is also watched for an open state; on v2 exactly one program
     * must stay attached. Run on this host (v1) and, from {@link V2Live}, in the VM (v2).
     */
    static String liveChanges(String cgroupsPath, Path scratch) throws Exception {
        Path node = scratch.resolve("vcs");
        mknod(node);
        List<Spec.DeviceRule> a = DeviceRules.effective(List.of(), List.of());
        List<Spec.DeviceRule> b = DeviceRules.effective(List.of(new Spec.DeviceRule(true, 'c', 10, 229, "r")), List.of());
        List<Spec.DeviceRule> open = DeviceRules.effective(List.of(new Spec.DeviceRule(true, 'c', 7, 0, "r")), List.of());
        ContainerCgroup cg = ContainerCgroup.resolve(Hierarchy.discover(), cgroupsPath);
        String name = cgroupsPath.substring(cgroupsPath.lastIndexOf('/') + 1);
        Path stop = scratch.resolve("stop"), started = scratch.resolve("started");
        List<Path> made = cg.create(a);
        Process loop = null;
        StringBuilder report = new StringBuilder();
        try {
            loop = inCgroup(cg, name, "n=0; while [ ! -e " + stop + " ]; do (exec 3<" + node + ") 2>/dev/null && echo OPENED; "
                    + "n=$((n+1)); [ $n = 1 ] && : > " + started + "; done; echo $n");
            // The rules change under attempts only once they are being made: under load the
            // 200 changes were over before the loop's first attempt (a CI run, "attempts made: false").
            for (int k = 0; k < 600 && !Files.exists(started) && loop.isAlive(); k++) Thread.sleep(50);
            report.append("denied before: ").append(tryOpen(cg, name, node));
            Path list = cg.dirs().stream().filter(d -> d.hierarchy().has("devices")).map(d -> d.path().resolve("devices.list"))
                    .findFirst().orElse(null);
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<String> openSeen = new AtomicReference<>();
            Thread watcher = new Thread(() -> {
                while (list != null && !done.get()) {
                    try {
                        for (String l : Files.readAllLines(list)) {
                            if (l.startsWith("a ") || l.startsWith("c 7:") || l.startsWith("c *:* r") || l.startsWith("c *:* w")) openSeen.set(l);
                        }
                    } catch (IOException e) {
                        openSeen.set(e.toString());
                    }
                }
            });
            watcher.start();
            try {
                for (int k = 0; k < 100; k++) {
                    cg.applyDevices(b);
                    cg.applyDevices(a);
                }
            } finally {
                done.set(true);
                watcher.join();
            }
            Files.createFile(stop);
            if (!loop.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError("the loop did not stop");
            String out = new String(loop.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            cg.applyDevices(open);
            report.append("allowed: ").append(tryOpen(cg, name, node));
            cg.applyDevices(a);
            report.append("denied after: ").append(tryOpen(cg, name, node));
            report.append("opened during the changes: ").append(out.contains("OPENED")).append('\n');
            report.append("open state seen: ").append(openSeen.get() != null ? openSeen.get() : "false").append('\n');
            report.append("attempts made: ").append(Long.parseLong(out.strip().lines().reduce((x, y) -> y).orElse("0")) > 0).append('\n');
            report.append("programs attached: ").append(list != null ? "none, v1" : programs(cg)).append('\n');
        } finally {
            if (loop != null) {
                loop.destroyForcibly();
                loop.waitFor();
            }
            Files.deleteIfExists(stop);
            Files.deleteIfExists(started);
            ContainerCgroup.destroy(cg.dirs().stream().map(ContainerCgroup.Dir::path).toList(), made);
        }
        return report.toString().replace(node.toString(), "NODE");
    }

    /** On v2: how many device programs the cgroup has after all the changes. */
    private static String programs(ContainerCgroup cg) {
        try {
            return Integer.toString(DeviceFilter.programs(cg.dirs().get(0).path()).length);
        } catch (CgroupException e) {
            return e.getMessage();
        }
    }

    private static void mknod(Path node) throws Exception {
        Process p = new ProcessBuilder("/bin/busybox", "mknod", node.toString(), "c", "7", "0").inheritIO().start();
        if (p.waitFor() != 0) throw new AssertionError("mknod " + node);
    }

    /** A busybox sh running the script once it is in the cgroup in every hierarchy (it waits to be moved there). */
    static Process inCgroup(ContainerCgroup cg, String name, String script) throws Exception {
        Process p = new ProcessBuilder("/bin/busybox", "sh", "-c",
                "until [ $(grep -c '/" + name + "$' /proc/self/cgroup) = " + cg.dirs().size() + " ]; do sleep 0.05; done; " + script)
                .redirectErrorStream(true).start();
        cg.add((int) p.pid());
        return p;
    }

    static String tryOpen(ContainerCgroup cg, String name, Path node) throws Exception {
        Process p = inCgroup(cg, name, "(exec 3<" + node + ") 2>&1 && echo opened");
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("open of " + node + " hung");
        }
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void joiningACgroupThatHoldsAHostProcessIsRefusedAndTheHostProcessSurvives() throws Exception {
        String path = "/brig/" + NoLeaks.PREFIX + "host";
        ContainerCgroup host = ContainerCgroup.resolve(Hierarchy.discover(), path);
        List<Path> made = new ArrayList<>();
        for (ContainerCgroup.Dir d : host.dirs()) {
            for (Path p = d.path(); !Files.isDirectory(p); p = p.getParent()) made.add(0, p);
        }
        Process sleep = new ProcessBuilder("/bin/busybox", "sleep", "1000").start();
        try {
            for (Path p : made) Files.createDirectory(p);
            for (ContainerCgroup.Dir d : host.dirs()) {
                if (d.hierarchy().has("cpuset")) {
                    for (String f : List.of("cpuset.cpus", "cpuset.mems")) {
                        for (Path p : made) if (p.startsWith(d.hierarchy().mountPoint())) {
                            Files.writeString(p.resolve(f), Files.readString(p.getParent().resolve(f)).trim());
                        }
                    }
                }
            }
            host.add((int) sleep.pid());
            TestBundle b = TestBundle.busybox(dir).sh("echo joined");
            b.set("linux.cgroupsPath", "\"" + path + "\"");
            Brig.Result r = b.run();
            assertEquals(1, r.exit(), r.out() + r.err());
            assertEquals("", r.out());
            List<String> err = r.err().lines().toList();
            assertEquals(1, err.size(), r.err());
            String first = host.dirs().get(0).path().toString();
            assertTrue(err.get(0).contains("cgroup: " + first + " (linux.cgroupsPath) already holds processes that are not this "
                    + "container's: refusing to join it"), r.err());
            assertTrue(sleep.isAlive(), "the host process was killed");
            for (ContainerCgroup.Dir d : host.dirs()) {
                assertEquals(sleep.pid() + "\n", Files.readString(d.path().resolve("cgroup.procs")), d.path().toString());
            }
            if (host.dirs().stream().anyMatch(d -> d.hierarchy().has("devices"))) {
                Path list = host.dirs().stream().filter(d -> d.hierarchy().has("devices")).findFirst().orElseThrow().path();
                assertEquals("a *:* rwm\n", Files.readString(list.resolve("devices.list")), "the refused cgroup's rules were changed");
            }
        } finally {
            sleep.destroyForcibly();
            sleep.waitFor();
            made.sort(Comparator.comparingInt(Path::getNameCount).reversed());
            for (Path p : made) {
                for (int k = 0; k < 100 && Files.exists(p); k++) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException busy) {
                        Thread.sleep(10);
                    }
                }
            }
        }
    }

    /** In the VM: {@link #liveChanges} on cgroup v2. */
    public static final class V2Live {
        public static void main(String[] args) throws Exception {
            System.out.print(liveChanges("/brig/live", Path.of(args[0])));
        }
    }

    /** Everything above that involves the kernel's cgroup v2, in one boot of the VM. */
    @Test
    void theSameAttacksOnAPureV2Host(@TempDir(factory = Vm.GuestDir.class) Path work) throws Exception {
        Vm.requireAvailable();
        TestBundle bare = attacker(work.resolve("bare"), false);
        TestBundle runc = attacker(work.resolve("runc"), true);
        TestBundle join = TestBundle.busybox(work.resolve("join")).sh("echo joined");
        join.set("linux.cgroupsPath", "\"/brig/hostx\"");
        for (TestBundle t : List.of(bare, runc, join)) t.write();
        String brig = Brig.launcher() + " --root /tmp/state";
        String script = String.join("\n",
                "echo '--- bare'", brig + " run --bundle " + bare.dir() + " " + bare.id(),
                "echo '--- runc'", brig + " run --bundle " + runc.dir() + " " + runc.id(),
                "echo '--- join'",
                // The host process sits below the named cgroup: v2 reports it as "populated 1".
                "mkdir -p /sys/fs/cgroup/brig/hostx/inner; /bin/busybox sleep 1000 & s=$!",
                "echo $s > /sys/fs/cgroup/brig/hostx/inner/cgroup.procs",
                brig + " run --bundle " + join.dir() + " " + join.id() + " 2>&1; echo \"exit $?\"",
                "kill -0 $s && echo host process alive; cat /sys/fs/cgroup/brig/hostx/inner/cgroup.procs | grep -c \"^$s$\"",
                "echo '--- live'", "mkdir -p /tmp/live", Vm.javaMain(V2Live.class) + " /tmp/live 2>&1",
                "echo '--- end'");
        Brig.Result r = Vm.run(work, script, 600);
        String out = r.out();
        assertTrue(out.contains("--- end\n"), out + r.err());
        assertEquals(REFUSED, section(out, "bare", "runc"));
        assertEquals(REFUSED, section(out, "runc", "join"));
        String join1 = section(out, "join", "live");
        assertTrue(join1.matches("(?s)[^\n]*cgroup: /sys/fs/cgroup/brig/hostx \\(linux.cgroupsPath\\) already holds processes that "
                + "are not this container's: refusing to join it\nexit 1\nhost process alive\n1\n"), join1);
        assertEquals(LIVE_REPORT + "programs attached: 1\n", section(out, "live", "end"));
    }

    private static String section(String out, String from, String to) {
        int a = out.indexOf("--- " + from + "\n"), b = out.indexOf("--- " + to + "\n");
        if (a < 0 || b < a) throw new AssertionError("no section " + from + " in\n" + out);
        return out.substring(a + from.length() + 5, b);
    }
}
