package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attacks on what runs around a container: the supervisor `brig run` leaves in the caller's
 * place (its descriptors, its clean-up list), the JVM dying half-way through a start, the pid
 * file, and processes that try to outlive their container. Each test performs the attack and
 * checks from the host that it failed.
 */
@ExtendWith(NoLeaks.class)
class SupervisorSecurityIT {
    @TempDir Path dir;

    private final List<Path> targets = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        // Whatever of a container survived (a failing test): its processes run busybox from
        // the test's rootfs.
        for (long pid : processesRunningFrom(dir)) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        for (Path t : targets) Files.deleteIfExists(t);
    }

    private Path hostTarget(String name) {
        Path p = Path.of("/tmp", NoLeaks.PREFIX + name);
        targets.add(p);
        return p;
    }

    /** brig --root STATE run [flags] --bundle DIR ID, started by sh after {@code redirections}. */
    private static Brig.Result runWithFds(TestBundle b, String redirections, Map<String, String> env, String... flags) {
        b.write();
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "exec " + redirections + "; exec \"$0\" \"$@\"",
                Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run"));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("--bundle", b.dir().toString(), b.id()));
        return Brig.exec(b.dir(), cmd, null, env, 60);
    }

    private static TestBundle withoutNamespace(TestBundle b, String type) {
        JsonArray kept = new JsonArray();
        for (JsonElement e : b.linux().getAsJsonArray("namespaces")) {
            if (!e.getAsJsonObject().get("type").getAsString().equals(type)) kept.add(e);
        }
        b.linux().add("namespaces", kept);
        return b;
    }

    /** The fds `ls -l /proc/self/fd` lists, without the one it reads the directory by. */
    private static Map<Integer, String> fds(String out) {
        Map<Integer, String> m = new TreeMap<>();
        java.util.regex.Pattern line = java.util.regex.Pattern.compile(" (\\d+) -> (.*)$");
        for (String l : out.split("\n")) {
            java.util.regex.Matcher x = line.matcher(l);
            if (x.find() && !x.group(2).matches("/proc/\\d+/fd")) m.put(Integer.parseInt(x.group(1)), x.group(2));
        }
        return m;
    }

    // ---- item 4: the supervisor's descriptors and the preserved range ----

    @Test
    void closedStdinAndPreserveFdsBeyondThosePassedGiveTheContainerNothingOfBrigs() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/bin/ls", "-l", "/proc/self/fd");
        // The caller closes stdin and passes one fd, 3; it asks for 8.
        Brig.Result r = runWithFds(b, "<&- 3</etc/hostname", Map.of(), "--preserve-fds", "8").expect(0);
        Map<Integer, String> fds = fds(r.out());
        assertEquals("/dev/null", fds.get(0), "stdin of a caller that closed it: " + fds);
        assertEquals("/etc/hostname", fds.get(3), "the fd the caller passed: " + fds);
        assertEquals(List.of(0, 1, 2, 3), List.copyOf(fds.keySet()), "fds beyond those passed: " + fds);
        for (String target : fds.values()) {
            assertFalse(target.startsWith("socket:") || target.contains(".jar") || target.contains("modules")
                    || target.contains("brig") || target.contains("memfd"), "one of brig's own: " + fds);
        }
    }

    /**
     * The container (sharing the host's pid namespace, so it knows its host pid) writes forged
     * supervisor messages to every socket it holds, as early as it can and in one write: a
     * "forget" (which would drop the real clean-up) and a "starting" whose clean-up command
     * deletes another, innocent container. The supervisor reads its clean-up command only from
     * the start message (read_ctl in brig-helper.c, SV_STARTING); it must take neither from the
     * container: the other container survives, and the real clean-up still runs (NoLeaks).
     */
    @Test
    void containerCannotForgeAStartMessageForTheSupervisor() throws Exception {
        TestBundle victim = TestBundle.busybox(dir.resolve("victim")).args("true");
        victim.write();
        String victimRoot = victim.stateRoot().toString();
        // Its stdio away from the test's pipes: the created container keeps them open until deleted.
        Brig.exec(dir, List.of("/bin/sh", "-c", "exec \"$0\" \"$@\" </dev/null >/dev/null 2>&1", Brig.launcher().toString(),
                "--root", victimRoot, "create", "--bundle", victim.dir().toString(), victim.id()), null, Map.of(), 60).expect(0);
        try {
            byte[] undo = ("--root\0" + victimRoot + "\0delete\0--force\0" + victim.id() + "\0")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            StringBuilder payload = new StringBuilder();
            for (byte x : undo) payload.append(String.format("\\%03o", x & 0xff));
            // Octal escapes only: a printf format must not start with "-".
            String script = "le() { for s in 0 8 16 24; do printf \"\\\\$(printf %o $(( ($1 >> s) & 255 )))\"; done; }\n"
                    + "for f in /proc/$$/fd/*; do\n"
                    + "  case $(readlink $f) in socket:*) n=${f##*/}\n"
                    + "    { le 24; le 0; le 23; le " + undo.length + "; printf '" + payload + "'; } >/dev/frame\n"
                    + "    cat /dev/frame >&$n 2>/dev/null\n"
                    + "    echo forged on $n;;\n"
                    + "  esac\n"
                    + "done\n"
                    + "ls -l /proc/self/fd\n"
                    + "sleep 0.5\n";
            TestBundle b = withoutNamespace(TestBundle.busybox(dir.resolve("attacker")), "pid").sh(script);
            Brig.Result r = runWithFds(b, "<&-", Map.of(), "--preserve-fds", "8");
            assertEquals("created", Json.parse(Brig.run(dir, "--root", victimRoot, "state", victim.id()).expect(0).out())
                    .getAsJsonObject().get("status").getAsString(), "the forged clean-up ran: " + r.out());
            r.expect(0);
            for (String target : fds(r.out()).values()) assertFalse(target.startsWith("socket:"), r.out());
        } finally {
            Brig.run(dir, "--root", victimRoot, "delete", "--force", victim.id());
        }
    }

    // ---- item 9: the pid file ----

    @Test
    void symlinksPlantedAtThePidFileAndItsTemporaryNameLeaveTheHostFilesUnchanged() throws Exception {
        Path hostTmp = hostTarget("pidtmp"), hostFinal = hostTarget("pidfinal");
        Files.writeString(hostTmp, "precious");
        Files.writeString(hostFinal, "precious too");
        Path pidFile = dir.resolve("run").resolve("ctr.pid");
        Files.createDirectories(pidFile.getParent());
        // The names the old code used, and the final one.
        Files.createSymbolicLink(pidFile.resolveSibling(".ctr.pid.tmp"), hostTmp);
        Files.createSymbolicLink(pidFile, hostFinal);
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("echo $$");
        b.run("--pid-file", pidFile.toString()).expect(0);
        assertEquals("precious", Files.readString(hostTmp));
        assertEquals("precious too", Files.readString(hostFinal));
        assertTrue(Files.isRegularFile(pidFile, LinkOption.NOFOLLOW_LINKS), "the pid file is not a file of its own");
        assertTrue(Files.readString(pidFile).matches("[1-9][0-9]*"), Files.readString(pidFile));
        try (Stream<Path> s = Files.list(pidFile.getParent())) {
            assertEquals(List.of(".ctr.pid.tmp", "ctr.pid"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "temporary files left");
        }
    }

    // ---- item 8: the JVM dies half-way through a start ----

    /**
     * BRIG_TEST_CRASH_AT makes brig's JVM SIGKILL itself at that point of a start (see
     * {@link Runtime#testCrashPoint}), as the OOM killer would. The container forks a child that
     * would outlive it (no pid namespace of its own). Nothing may be left: no process, no cgroup,
     * no state.
     */
    @ParameterizedTest
    @ValueSource(strings = {"claimed", "cgroups", "cloned", "started"})
    void jvmKilledHalfWayThroughAStartLeavesNothing(String point) throws Exception {
        TestBundle b = withoutNamespace(TestBundle.busybox(dir), "pid").sh("sleep 1000 >/dev/null 2>&1 & exec sleep 1000");
        Brig.Result r = runWithFds(b, "", Map.of("BRIG_TEST_CRASH_AT", point, "BRIG_SERVER", "off"));
        assertEquals(137, r.exit(), "brig's JVM was to die of SIGKILL: " + r.err());
        assertNothingLeft(b);
    }

    /**
     * The same on the warm path: the resident server that plans the start dies at that point
     * (it acknowledged the call, so the client never runs it again). The client, which started
     * the helper and so has the container as its child, kills what it started, has the
     * container removed, and exits 125 with one line saying so.
     */
    @ParameterizedTest
    @ValueSource(strings = {"claimed", "cgroups", "cloned", "started"})
    void serverKilledHalfWayThroughAStartLeavesNothing(String point) throws Exception {
        TestBundle b = withoutNamespace(TestBundle.busybox(dir), "pid").sh("sleep 1000 >/dev/null 2>&1 & exec sleep 1000");
        Brig.Result r = runWithFds(b, "", Map.of("BRIG_TEST_CRASH_AT", point));
        assertEquals(125, r.exit(), r.err());
        assertTrue(r.err().contains("brig: the brig server ended the call before it finished"), r.err());
        assertNothingLeft(b);
    }

    /** The same, killed from outside at random moments of a start (as the OOM killer would). */
    @Test
    void jvmKilledFromOutsideDuringAStartLeavesNothing() throws Exception {
        for (int round = 0; round < 6; round++) {
            Path d = dir.resolve("r" + round);
            TestBundle b = withoutNamespace(TestBundle.busybox(d), "pid").sh("sleep 1000 >/dev/null 2>&1 & exec sleep 1000");
            b.write();
            ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run",
                    "--bundle", b.dir().toString(), b.id()).redirectErrorStream(true).redirectOutput(d.resolve("out").toFile());
            pb.environment().clear();
            pb.environment().put("BRIG_SERVER", "off"); // the cold path: a JVM of its own
            Process brig = pb.start();
            // Its java child, killed at the moment the state directory appears, plus a delay.
            ProcessHandle java = null;
            for (int k = 0; k < 2000 && java == null; k++) {
                java = brig.children().filter(c -> c.info().command().orElse("").endsWith("/java")).findFirst().orElse(null);
                if (java == null) Thread.sleep(1);
            }
            assertTrue(java != null, "no java child");
            for (int k = 0; k < 5000 && !Files.exists(b.stateRoot().resolve(b.id())); k++) Thread.sleep(1);
            Thread.sleep(round * 15L);
            java.destroyForcibly();
            if (!brig.waitFor(5, TimeUnit.SECONDS)) {
                // The start got through first: the container runs, and must still be removable.
                Brig.run(d, "--root", b.stateRoot().toString(), "delete", "--force", b.id()).expect(0);
                assertTrue(brig.waitFor(30, TimeUnit.SECONDS), "brig did not exit");
            }
            assertEquals(137, brig.exitValue(), Files.readString(d.resolve("out")));
            assertNothingLeft(b);
        }
    }

    // ---- brig delete ----

    @Test
    void deleteRefusesARunningContainerWithoutForceAndRemovesAllOfItWithForce() throws Exception {
        TestBundle b = withoutNamespace(TestBundle.busybox(dir), "pid").sh("sleep 1000 >/dev/null 2>&1 & exec sleep 1000");
        b.write();
        Process brig = startInBackground(b);
        try {
            awaitStatus(b, "running");
            Brig.Result r = Brig.run(dir, "--root", b.stateRoot().toString(), "delete", b.id());
            assertEquals(1, r.exit());
            assertEquals("brig: cannot delete container " + b.id() + " that is not stopped: running\n", r.err());
            Brig.run(dir, "--root", b.stateRoot().toString(), "delete", "--force", b.id()).expect(0);
            assertTrue(brig.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, brig.exitValue(), "the container's status (SIGKILL)");
            assertNothingLeft(b);
        } finally {
            brig.destroyForcibly();
        }
        Brig.Result r = Brig.run(dir, "--root", b.stateRoot().toString(), "delete", b.id());
        assertEquals(1, r.exit());
        assertEquals("brig: container does not exist\n", r.err());
        Brig.run(dir, "--root", b.stateRoot().toString(), "delete", "--force", b.id()).expect(0);
    }

    /** A container whose supervisor and first process were killed: stopped, deleted without force. */
    @Test
    void deleteRemovesAStoppedContainerAndWhatItLeft() throws Exception {
        TestBundle b = withoutNamespace(TestBundle.busybox(dir), "pid").sh("sleep 1000 >/dev/null 2>&1 & exec sleep 1000");
        b.write();
        Process brig = startInBackground(b);
        awaitStatus(b, "running");
        // Once handed over (the JVM gone), the supervisor is killed: nobody removes it then.
        for (int k = 0; k < 500 && brig.children().anyMatch(c -> c.info().command().orElse("").endsWith("/java")); k++) {
            Thread.sleep(10);
        }
        String state = Files.readString(b.stateRoot().resolve(b.id()).resolve("state.json"));
        int pid = Integer.parseInt(state.replaceAll("(?s).*\"pid\":(\\d+).*", "$1"));
        brig.destroyForcibly().waitFor();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        for (int k = 0; k < 200 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); k++) Thread.sleep(10);
        Brig.run(dir, "--root", b.stateRoot().toString(), "delete", b.id()).expect(0);
        assertNothingLeft(b);
    }

    private static Process startInBackground(TestBundle b) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run",
                "--bundle", b.dir().toString(), b.id()).redirectErrorStream(true).redirectOutput(b.dir().resolve("run.out").toFile());
        pb.environment().clear();
        return pb.start();
    }

    /** Asks `brig state`: the status is computed when read, not stored. */
    private static void awaitStatus(TestBundle b, String status) throws Exception {
        for (int k = 0; k < 200; k++) {
            Brig.Result r = Brig.run(b.dir(), "--root", b.stateRoot().toString(), "state", b.id());
            if (r.exit() == 0 && r.out().contains("\"status\": \"" + status + "\"")) return;
            Thread.sleep(20);
        }
        throw new AssertionError("the container did not become " + status);
    }

    // ---- item 10: killing all of a container ----

    /**
     * A container without a pid namespace of its own (its processes outlive its first one)
     * forks without end and moves a process into a cgroup of its own making below its cgroup,
     * in every hierarchy (it sees the host's cgroup tree, bind-mounted read-write). When its
     * first process exits, nothing of it may be left.
     */
    @Test
    void forkingContainerWithAChildCgroupLeavesNothingWhenItsRunEnds() throws Exception {
        TestBundle b = withoutNamespace(withoutNamespace(TestBundle.busybox(dir), "pid"), "cgroup");
        String mine = "/cg/*/brig/" + b.id();
        b.add("mounts", "{\"destination\":\"/cg\",\"type\":\"bind\",\"source\":\"/sys/fs/cgroup\",\"options\":[\"rbind\",\"rw\"]}");
        // What stays runs off the run's stdout and stderr: survivors holding them would keep
        // the test waiting for their end.
        b.sh("sleep 1000 >/dev/null 2>&1 & c=$!\n"
                + "for d in " + mine + "; do mkdir $d/child && echo $c > $d/child/cgroup.procs; done 2>/dev/null\n"
                + "for i in 1 2; do (while :; do (:); done) >/dev/null 2>&1 & done\n"
                + "(n=0; while [ $n -lt 100 ]; do sleep 1000 & n=$((n+1)); done; wait) >/dev/null 2>&1 &\n"
                + "sleep 0.5; ls -d " + mine + "/child | wc -l; cat /proc/$c/cgroup\n");
        Brig.Result r = b.run().expect(0);
        assertTrue(Integer.parseInt(r.out().lines().findFirst().orElse("0").trim()) > 1, "child cgroups: " + r.out());
        assertTrue(r.out().contains("/brig/" + b.id() + "/child"), "not moved: " + r.out());
        assertNothingLeft(b);
    }

    // ---- what must be gone ----

    private static void assertNothingLeft(TestBundle b) throws Exception {
        List<String> left = new ArrayList<>();
        // Processes that died of SIGKILL may take a moment to be reaped by their reaper.
        for (int k = 0; k < 100; k++) {
            left.clear();
            for (long pid : processesRunningFrom(b.dir())) left.add("process " + pid);
            for (Path h : hierarchies()) {
                Path c = h.resolve("brig").resolve(b.id());
                if (Files.exists(c)) left.add("cgroup " + c);
            }
            if (Files.exists(b.stateRoot().resolve(b.id()))) left.add("state " + b.stateRoot().resolve(b.id()));
            if (left.isEmpty()) return;
            Thread.sleep(20);
        }
        throw new AssertionError("left behind: " + left);
    }

    private static List<Path> hierarchies() throws IOException {
        Path root = Path.of("/sys/fs/cgroup");
        if (Files.exists(root.resolve("cgroup.controllers"))) return List.of(root);
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).toList();
        }
    }

    /**
     * Live processes running a busybox binary of a rootfs under {@code dir}, compared by device
     * and inode (the path a container's /proc/PID/exe shows depends on its mounts).
     */
    private static List<Long> processesRunningFrom(Path dir) throws IOException {
        List<Object> binaries = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir, 4)) {
            for (Path p : s.filter(p -> p.getFileName().toString().equals("busybox")
                    && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                binaries.add(List.of(Files.getAttribute(p, "unix:dev"), Files.getAttribute(p, "unix:ino")));
            }
        }
        List<Long> out = new ArrayList<>();
        if (binaries.isEmpty()) return out;
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) continue;
                try {
                    Path exe = p.resolve("exe");
                    Object id = List.of(Files.getAttribute(exe, "unix:dev"), Files.getAttribute(exe, "unix:ino"));
                    String stat = Files.readString(p.resolve("stat"));
                    boolean zombie = stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
                    if (binaries.contains(id) && !zombie) out.add(Long.parseLong(name));
                } catch (IOException | RuntimeException e) {
                    // gone, or a kernel thread
                }
            }
        }
        return out;
    }
}
