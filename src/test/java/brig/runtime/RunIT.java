package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** `brig run` of busybox bundles: what a user checks first. */
@ExtendWith(NoLeaks.class)
class RunIT {
    @TempDir Path dir;

    @Test
    void runsAsPidOneWithItsOwnHostnameAndFreshProc() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("echo pid=$$; hostname; ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '");
        b.set("hostname", "\"box\"");
        Brig.Result r = b.run().expect(0);
        assertTrue(r.out().startsWith("pid=1\nbox\n"), r.out());
        // Only the shell and its pipeline are in the fresh /proc: no host process.
        for (String pid : r.out().split("\n")[2].trim().split(" ")) assertTrue(Integer.parseInt(pid) < 10, r.out());
    }

    @Test
    void everyNamespaceDiffersFromTheHosts() throws Exception {
        // The container's root (host uid 100000) must be able to reach its rootfs.
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        TestBundle b = TestBundle.busybox(dir).sh("for n in pid mnt uts ipc net cgroup user; do echo $n $(readlink /proc/self/ns/$n); done");
        b.add("linux.namespaces", "{\"type\":\"cgroup\"}").userNamespace(100000, 65536);
        Brig.Result r = b.run().expect(0);
        for (String line : r.out().strip().split("\n")) {
            String[] f = line.split(" ");
            String host = Files.readSymbolicLink(Path.of("/proc/self/ns/" + f[0])).toString();
            assertNotEquals(host, f[1], f[0] + " namespace is the host's");
        }
        assertEquals(7, r.out().strip().split("\n").length);
    }

    @Test
    void exitStatusIsTheContainers() throws Exception {
        assertEquals(7, TestBundle.busybox(dir).sh("exit 7").run().exit());
    }

    @Test
    void deathBySignalIs128PlusTheSignal() throws Exception {
        // Without a pid namespace of its own the shell is not an init, which ignores signals.
        TestBundle b = TestBundle.busybox(dir).sh("kill -9 $$");
        b.linux().getAsJsonArray("namespaces").remove(0);
        assertEquals(128 + 9, b.run().exit());
    }

    @Test
    void stdinAndStdoutPassThrough() throws Exception {
        Brig.Result r = TestBundle.busybox(dir).args("/bin/cat").run("hello through\n".getBytes(StandardCharsets.UTF_8), 30);
        assertEquals("hello through\n", r.expect(0).out());
        Brig.Result e = TestBundle.busybox(dir.resolve("two")).sh("echo oops >&2").run().expect(0);
        assertEquals("oops\n", e.err());
    }

    @Test
    void signalsSentToBrigReachTheContainer() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 1; done");
        b.write();
        List<String> cmd = new ArrayList<>(List.of(Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run",
                "--bundle", dir.toString(), b.id()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        Process p = pb.start();
        try {
            assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> signalled(p));
        } finally {
            p.destroyForcibly();
        }
    }

    private static void signalled(Process p) throws Exception {
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
        assertEquals("ready", out.readLine());
        // The launcher execs the supervisor, which keeps the pid we started and relays its signals.
        new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            String ps = new String(new ProcessBuilder("ps", "-eo", "pid,ppid,stat,args").start().getInputStream().readAllBytes());
            String st = new String(new ProcessBuilder("grep", "Sig", "/proc/" + p.pid() + "/status").start().getInputStream().readAllBytes());
            throw new AssertionError("brig did not exit\n" + ps + "\n" + st);
        }
        assertEquals("got TERM", out.readLine());
        assertEquals(42, p.exitValue());
    }

    /**
     * A signal that comes at any moment of the start, even before the JVM is up, reaches the
     * container (or stops it from starting): never lost, never killing brig half-way.
     */
    @Test
    void signalsDuringStartAreNeverLost() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("trap 'exit 42' TERM; while :; do sleep 1; done");
        b.linux().getAsJsonArray("namespaces").remove(0); // no pid namespace: TERM kills an untrapped sh
        b.write();
        for (int delay = 0; delay <= 420; delay += 60) {
            ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run",
                    "--bundle", dir.toString(), b.id()).redirectErrorStream(true);
            pb.environment().clear();
            Process p = pb.start();
            Thread.sleep(delay);
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
            boolean ended = p.waitFor(20, TimeUnit.SECONDS);
            if (!ended) p.destroyForcibly().waitFor();
            assertTrue(ended, "TERM after " + delay + " ms was lost");
            assertTrue(p.exitValue() == 42 || p.exitValue() == 143, "after " + delay + " ms: " + p.exitValue()
                    + " " + new String(p.getInputStream().readAllBytes()));
            assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left after " + delay + " ms");
        }
    }

    @Test
    void argsEnvAndCwdAreTheConfigs() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("pwd; echo $GREETING; echo $HOME; echo \"$0\" \"$1\"");
        b.process().addProperty("cwd", "/tmp/work");
        b.add("process.env", "\"GREETING=hello world\"");
        b.args("/bin/sh", "-c", "mkdir -p /tmp/work 2>/dev/null; pwd; echo $GREETING; echo $HOME; echo \"$0\" \"$1\"", "zero", "one");
        b.set("root.readonly", "false");
        Files.createDirectories(b.rootfs().resolve("tmp/work"));
        assertEquals("/tmp/work\nhello world\n/root\nzero one\n", b.run().expect(0).out());
    }

    @Test
    void terminalGivesTheContainerATty() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("tty; stty size");
        b.process().addProperty("terminal", true);
        b.set("process.consoleSize", "{\"height\":33,\"width\":101}");
        Brig.Result r = b.run().expect(0);
        assertEquals("/dev/pts/0\r\n33 101\r\n", r.out());
    }

    @Test
    void missingProgramIsReportedAsEnginesExpectAndNothingIsLeft() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("no-such-program");
        Brig.Result r = b.run();
        assertEquals(1, r.exit());
        assertEquals("brig: exec: \"no-such-program\": executable file not found in $PATH\n", r.err());
        Brig.Result abs = TestBundle.busybox(dir.resolve("two")).args("/bin/nope").run();
        assertTrue(abs.err().contains("no such file or directory"), abs.err());
    }

    @Test
    void programThatIsNotExecutableIsPermissionDenied() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/etc/passwd");
        Brig.Result r = b.run();
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("EACCES: permission denied"), r.err());
    }

    @Test
    void idInUseIsRefused() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("sleep 30");
        b.write();
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run",
                "--bundle", dir.toString(), b.id());
        Process first = pb.start();
        try {
            for (int k = 0; k < 100 && !Files.exists(b.stateRoot().resolve(b.id()).resolve("state.json")); k++) Thread.sleep(50);
            Brig.Result second = b.run();
            assertEquals(1, second.exit());
            assertEquals("brig: container with id exists: " + b.id() + "\n", second.err());
        } finally {
            new ProcessBuilder("kill", "-KILL", Long.toString(first.pid())).start().waitFor();
            first.waitFor();
            // the supervisor was killed: clean as an operator would (state and cgroups)
            cleanupAfterKilledMonitor(b);
        }
    }

    static void cleanupAfterKilledMonitor(TestBundle b) throws Exception {
        for (int k = 0; k < 50; k++) {
            boolean busy = false;
            for (Path h : List.of(Path.of("/sys/fs/cgroup/memory/brig", b.id()), Path.of("/sys/fs/cgroup/pids/brig", b.id()))) {
                if (Files.exists(h.resolve("cgroup.procs")) && !Files.readString(h.resolve("cgroup.procs")).isBlank()) {
                    for (String pid : Files.readAllLines(h.resolve("cgroup.procs"))) {
                        ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
                    }
                    busy = true;
                }
            }
            if (!busy) break;
            Thread.sleep(20);
        }
        try (var hs = Files.list(Path.of("/sys/fs/cgroup"))) {
            for (Path h : hs.toList()) {
                Files.deleteIfExists(h.resolve("brig").resolve(b.id()));
            }
        }
        try (var s = Files.walk(b.stateRoot())) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void badConfigIsOneLineNamingTheFieldAndNothingIsLeft() throws Exception {
        TestBundle b = TestBundle.busybox(dir);
        b.process().getAsJsonObject("user").addProperty("uid", "root");
        Brig.Result r = b.run();
        assertEquals(1, r.exit());
        assertEquals("brig: " + dir.resolve("config.json") + ": process.user.uid: expected a number, got the string \"root\"\n", r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
    }

    @Test
    void explainPrintsThePlanAndRunsNothing() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("true");
        Brig.Result r = b.run("--explain").expect(0);
        assertTrue(r.out().contains("pivot_root into the rootfs and detach the old root"), r.out());
        assertTrue(r.out().contains("mount proc on /proc in the container"), r.out());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
    }

    @Test
    void launcherWorksWithAnEmptyEnvironment() throws Exception {
        Brig.Result r = Brig.exec(dir, List.of(Brig.launcher().toString(), "--version"), null, Map.of(), 30).expect(0);
        assertTrue(r.out().startsWith("brig version "), r.out());
    }
}
