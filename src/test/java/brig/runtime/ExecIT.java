package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * `brig exec` through the CLI, on busybox containers made with `brig create` and `brig start`:
 * what a user checks inside (hostname, cgroup, pid namespace, ids, capabilities, environment)
 * and outside (exit status, the mapped uid, the container untouched when the process ends).
 */
@ExtendWith(NoLeaks.class)
class ExecIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        // A user namespace's root (host uid 100000) must be able to reach its rootfs.
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        brig = new Lifecycle(dir.resolve("state"), dir);
    }

    @AfterEach
    void removeContainers() {
        for (String id : ids) brig.brig(null, "delete", "--force", id);
    }

    /** A running container whose first process sleeps; hostname "exechost". */
    private TestBundle running(String name, java.util.function.Consumer<TestBundle> edit) throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve(name)).args("sleep", "1000");
        b.set("hostname", "\"exechost\"");
        edit.accept(b);
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), Map.of(), List.of("create", "--bundle", b.dir().toString(), b.id())).expect(0);
        brig.brig(b.dir(), "start", b.id()).expect(0);
        return b;
    }

    private TestBundle running(String name) throws Exception {
        return running(name, b -> {});
    }

    private Brig.Result exec(TestBundle b, String... args) {
        List<String> all = new ArrayList<>(List.of("exec"));
        all.addAll(Arrays.asList(args));
        return brig.brig(b.dir(), Map.of(), all);
    }

    private int initPid(TestBundle b) {
        return Json.parseQuietly(brig.brig(null, "state", b.id()).expect(0).out()).getAsJsonObject().get("pid").getAsInt();
    }

    private static String statusLine(int pid, String field) throws Exception {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith(field + ":"))
                .findFirst().orElseThrow().substring(field.length() + 1).strip();
    }

    @Test
    void joinsTheContainersUtsCgroupAndPidNamespace() throws Exception {
        TestBundle b = running("b");
        String id = b.id();
        assertEquals("exechost\n", exec(b, id, "hostname").expect(0).out());
        // The container's cgroups: what its first process sees as its own.
        String mine = exec(b, id, "cat", "/proc/self/cgroup").expect(0).out();
        assertEquals(exec(b, id, "cat", "/proc/1/cgroup").expect(0).out(), mine);
        assertTrue(mine.contains(id), mine);
        // Its pid namespace: only the container's processes, its own pid small.
        String out = exec(b, id, "sh", "-c", "echo $$; ls /proc").expect(0).out();
        List<String> lines = out.lines().toList();
        int self = Integer.parseInt(lines.get(0));
        assertTrue(self > 1 && self < 20, out);
        List<Integer> pids = lines.stream().skip(1).filter(l -> l.matches("[0-9]+")).map(Integer::parseInt).toList();
        assertTrue(pids.contains(1) && pids.contains(self), out);
        assertTrue(pids.stream().allMatch(p -> p < 20), "host processes are visible: " + out);
        assertEquals("running", brig.status(id));
        // The exec'd processes are gone, the container's first process alone in its cgroups.
        assertEquals("[" + initPid(b) + "]\n", brig.brig(null, "ps", "--format", "json", id).expect(0).out());
    }

    @Test
    void userNamespaceRootInsideMappedUidOutside() throws Exception {
        TestBundle b = running("u", t -> t.userNamespace(100000, 65536));
        String id = b.id();
        assertEquals("0\n", exec(b, id, "id", "-u").expect(0).out());
        // Its terminal is the container root's, as one it made itself.
        assertEquals("/dev/pts/0 0\r\n", exec(b, "-t", id, "sh", "-c", "echo $(tty) $(stat -c %u $(tty))").expect(0).out());
        Path pidFile = dir.resolve("exec.pid");
        // Detached: brig returns while the process sleeps (a foreground exec would time out here).
        exec(b, "-d", "--pid-file", pidFile.toString(), id, "sleep", "1000").expect(0);
        int pid = Integer.parseInt(Files.readString(pidFile));
        assertTrue(statusLine(pid, "Uid").startsWith("100000\t"), statusLine(pid, "Uid"));
        assertTrue(brig.brig(null, "ps", "--format", "json", id).expect(0).out().contains(Integer.toString(pid)));
        assertEquals(Files.readSymbolicLink(Path.of("/proc/" + initPid(b) + "/ns/user")), Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/user")));
        assertEquals(Files.readSymbolicLink(Path.of("/proc/" + initPid(b) + "/ns/pid")), Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")));
    }

    @Test
    void exitStatusIsTheProcesss() throws Exception {
        TestBundle b = running("s");
        assertEquals(7, exec(b, b.id(), "sh", "-c", "exit 7").exit());
        assertEquals(137, exec(b, b.id(), "sh", "-c", "kill -9 $$").exit());
        Brig.Result missing = exec(b, b.id(), "nosuchprogram");
        assertEquals(1, missing.exit());
        assertEquals("brig: exec: \"nosuchprogram\": executable file not found in $PATH\n", missing.err());
        assertEquals("running", brig.status(b.id()));
    }

    @Test
    void processFileEnvCwdAndUser() throws Exception {
        TestBundle b = running("p");
        Path file = dir.resolve("process.json");
        Files.writeString(file, """
                {"args": ["sh", "-c", "echo $GREETING; pwd; id -u; id -g"], "env": ["PATH=/bin", "GREETING=hello"],
                 "cwd": "/dev", "user": {"uid": 5, "gid": 6}}
                """);
        assertEquals("hello\n/dev\n5\n6\n", exec(b, "--process", file.toString(), b.id()).expect(0).out());
        assertEquals("bar\n/dev\n1000\n1000\n1000 7\n", exec(b, "-e", "FOO=bar", "--cwd", "/dev", "-u", "1000:1000",
                "--additional-gids", "7", b.id(), "sh", "-c", "echo $FOO; pwd; id -u; id -g; id -G").expect(0).out());
        // A bad process file is named with its field.
        Files.writeString(file, "{\"args\": [\"true\"], \"cwd\": \"relative\", \"user\": {}}");
        Brig.Result bad = exec(b, "--process", file.toString(), b.id());
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains(file + ": ") && bad.err().contains("cwd"), bad.err());
    }

    @Test
    void capabilitiesAreTheContainersUnlessAdded() throws Exception {
        TestBundle b = running("c");
        String containers = statusLine(initPid(b), "CapEff");
        String plain = exec(b, b.id(), "grep", "CapEff", "/proc/self/status").expect(0).out();
        assertEquals("CapEff:\t" + containers + "\n", plain);
        assertNotEquals("000001ffffffffff", containers);
        String added = exec(b, "--cap", "CAP_SYS_ADMIN", b.id(), "grep", "CapEff", "/proc/self/status").expect(0).out();
        long mask = Long.parseLong(added.substring("CapEff:\t".length()).strip(), 16);
        assertEquals(Long.parseLong(containers, 16) | (1L << 21), mask, added);
    }

    @Test
    void stoppedPausedAndMissingContainersAreRefusedInRuncsWords() throws Exception {
        TestBundle b = running("x");
        String id = b.id();
        brig.brig(null, "pause", id).expect(0);
        Brig.Result paused = exec(b, id, "true");
        assertEquals(1, paused.exit());
        assertEquals("brig: cannot exec in a paused container (use --ignore-paused to override)\n", paused.err());
        brig.brig(null, "resume", id).expect(0);
        brig.brig(null, "kill", id, "KILL").expect(0);
        brig.awaitStatus(id, "stopped");
        Brig.Result stopped = exec(b, id, "true");
        assertEquals(1, stopped.exit());
        assertEquals("brig: cannot exec in a stopped container\n", stopped.err());
        Brig.Result none = exec(b, NoLeaks.PREFIX + "none", "true");
        assertEquals(1, none.exit());
        assertEquals("brig: container does not exist\n", none.err());
    }

    /**
     * In the foreground, brig's supervisor holds the process: a signal to brig reaches it, and
     * brig exits with its status, leaving the container running.
     */
    @Test
    void signalsReachTheProcessAndTheContainerStays() throws Exception {
        TestBundle b = running("g");
        String id = b.id();
        Path out = dir.resolve("g.out");
        Process p = new ProcessBuilder(Brig.launcher().toString(), "--root", brig.root().toString(), "exec", id, "sleep", "999")
                .redirectInput(new File("/dev/null")).redirectOutput(out.toFile()).redirectErrorStream(true).start();
        try {
            for (int k = 0; k < 200 && brig.brig(null, "ps", "--format", "json", id).expect(0).out().split(",").length < 2; k++) {
                Thread.sleep(50);
            }
            assertEquals(2, brig.brig(null, "ps", "--format", "json", id).expect(0).out().split(",").length);
            // SIGTERM to the pid the caller knows (the supervisor holds it until the JVM names the process).
            p.destroy();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
            assertEquals(128 + 15, p.exitValue(), Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
        assertEquals("running", brig.status(id));
        assertEquals("[" + initPid(b) + "]\n", brig.brig(null, "ps", "--format", "json", id).expect(0).out());
    }

    @Test
    void explainPrintsThePlanAndRunsNothing() throws Exception {
        TestBundle b = running("e", t -> t.userNamespace(100000, 65536));
        String plan = exec(b, "--explain", b.id(), "touch", "/dev/shm/x").expect(0).out();
        List<String> lines = plan.lines().toList();
        // The cgroup files first, as host paths; the process joins the v1 ones itself and is
        // forked into the cgroup2 one (no cgroup namespace of the container's).
        assertTrue(lines.get(0).matches(" *1\\. open the container's cgroup2 directory .* for the clone"), plan);
        assertTrue(lines.get(1).matches(" *2\\. open the tasks files of the container's v1 cgroups .*"), plan);
        assertTrue(lines.get(2).matches(" *3\\. join the user, .* namespaces of the container's first process "
                + initPid(b) + ", in that order \\(setns\\).*"), plan);
        assertTrue(lines.get(3).matches(" *4\\. fork the process .*, directly into cgroup .*"), plan);
        assertTrue(lines.get(4).matches(" *5\\. join the v1 cgroups itself: write 0 to tasks in .*"), plan);
        assertTrue(plan.contains("host after fork: place the process in the container's cgroup2 directory if the fork could not"), plan);
        assertTrue(plan.contains("execve touch /dev/shm/x"), plan);
        assertEquals("[" + initPid(b) + "]\n", brig.brig(null, "ps", "--format", "json", b.id()).expect(0).out());
        // And so it is, in a user namespace too: every line of /proc/self/cgroup is the container's.
        String cgroups = exec(b, b.id(), "cat", "/proc/self/cgroup").expect(0).out();
        assertTrue(cgroups.lines().allMatch(l -> l.endsWith(":/brig/" + b.id())), cgroups);
    }
    @Test
    void inAContainersOwnCgroupNamespaceTheExecdProcessIsInItsCgroupsToo() throws Exception {
        // Forked into the cgroup2 directory from the host's cgroup namespace (the kernel checks
        // the fork against the forking process's), the process joins the container's after;
        // the v1 ones it joins itself, from inside that namespace.
        TestBundle b = running("n", t -> t.add("linux.namespaces", "{\"type\":\"cgroup\"}"));
        String plan = exec(b, "--explain", b.id(), "true").expect(0).out();
        assertTrue(plan.contains("which then joins the container's cgroup namespace (setns)"), plan);
        assertTrue(plan.contains("join the v1 cgroups itself"), plan);
        String init = Files.readString(Path.of("/proc/" + initPid(b) + "/cgroup"));
        String cgroups = exec(b, b.id(), "cat", "/proc/self/cgroup").expect(0).out();
        assertTrue(cgroups.lines().allMatch(l -> l.endsWith(":/")), "at the namespace's root in every hierarchy: " + cgroups);
        assertTrue(init.lines().allMatch(l -> l.endsWith(":/brig/" + b.id())), init);
    }

    @Test
    void preservedFdsAndNoNewPrivileges() throws Exception {
        TestBundle b = running("f");
        Path file = Files.writeString(dir.resolve("three.txt"), "through fd 3\n");
        String brigCmd = Brig.launcher() + " --root " + brig.root() + " exec ";
        // The caller's fd 3 reaches the process only with --preserve-fds.
        assertEquals("through fd 3\n", brig.exec(null, Map.of(), List.of("/bin/sh", "-c", "exec 3<" + file + "; " + brigCmd
                + "--preserve-fds 1 " + b.id() + " cat /proc/self/fd/3")).expect(0).out());
        Brig.Result closed = brig.exec(null, Map.of(), List.of("/bin/sh", "-c", "exec 3<" + file + "; " + brigCmd + b.id()
                + " cat /proc/self/fd/3"));
        assertEquals(1, closed.exit(), closed.out());
        // config.json's noNewPrivileges (true), or the flag's value.
        assertEquals("NoNewPrivs:\t1\n", exec(b, b.id(), "grep", "NoNewPrivs", "/proc/self/status").expect(0).out());
        assertEquals("NoNewPrivs:\t0\n", exec(b, "--no-new-privs=false", b.id(), "grep", "NoNewPrivs", "/proc/self/status").expect(0).out());
    }

    /** As a library (no supervisor): the caller waits for the process itself. */
    @Test
    void libraryExecWaitsForTheProcess() throws Exception {
        TestBundle b = running("l");
        Runtime rt = new Runtime(brig.root(), Brig.dist().resolve("libexec/brig-helper"));
        Runtime.PreparedExec p = rt.prepareExec(b.id(), null, new ExecPlanner.Overrides(List.of("sh", "-c", "exit 3"), List.of(),
                null, null, null, null, List.of(), null, false), false, 0);
        assertEquals(3, rt.exec(p, 0, null, pid -> {}).waitFor());
        assertEquals("running", brig.status(b.id()));
    }
    /** runc execs into a created container too (checked with runc 1.1.5 on this machine): its namespaces exist, its program waits. */
    @Test
    void aCreatedContainerTakesExecAsRuncs() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("n")).args("sleep", "1000");
        b.set("hostname", "\"exechost\"");
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), Map.of(), List.of("create", "--bundle", b.dir().toString(), b.id())).expect(0);
        assertEquals("exechost\n", exec(b, b.id(), "hostname").expect(0).out());
        assertEquals("created", brig.status(b.id()));
    }
    /** -t: a terminal made in the container (its own devpts), relayed by brig's supervisor. */
    @Test
    void ttyGivesTheProcessATerminalOfTheContainers() throws Exception {
        TestBundle b = running("t");
        assertEquals("/dev/pts/0\r\nhi\r\n", exec(b, "-t", b.id(), "sh", "-c", "tty; echo hi").expect(0).out());
        assertEquals(5, exec(b, "--tty", b.id(), "sh", "-c", "exit 5").exit());
        Brig.Result detached = exec(b, "-t", "-d", b.id(), "true");
        assertEquals(1, detached.exit());
        assertEquals("brig: cannot allocate tty if brig will detach without setting console socket\n", detached.err());
        assertEquals("[" + initPid(b) + "]\n", brig.brig(null, "ps", "--format", "json", b.id()).expect(0).out());
    }
}
