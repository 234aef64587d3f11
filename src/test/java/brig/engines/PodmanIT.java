package brig.engines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Podman 4 (Debian's, through conmon) with Brig as its runtime, as a user drives it: the
 * scenarios of the shared podman-smoke.sh, grouped per container. Podman is configured as
 * docs/engines.md says ({@link Podman}), with Brig in runtime_supports_json, so conmon passes
 * --log-format=json and podman reads Brig's errors from that log; one run uses
 * `--runtime PATH` with a name podman does not know, where errors come from stderr instead.
 * Images are made here ({@link EngineImage}) and every run is --pull=never.
 */
@ExtendWith(NoLeaks.class)
class PodmanIT {
    @RegisterExtension static final Engine.PerClass<Podman> ENGINE = new Engine.PerClass<>(Podman::start, "containers, conmon or cgroups left");

    private static Podman podman() {
        return ENGINE.get();
    }

    private static String[] run(String... rest) {
        List<String> a = Cmd.concat(List.of("run", "--pull=never", "--rm", "--network=none", "--cgroup-parent=" + Podman.CGROUP_PARENT), rest);
        return a.toArray(String[]::new);
    }

    /** podman's "Error: ..." line (podman may print warnings before it). */
    private static String errorLine(String err) {
        return err.lines().filter(l -> l.startsWith("Error: ")).reduce((a, b) -> b).orElse(err);
    }

    private static String cgroupFile(String v1, String v2) {
        return "cat /sys/fs/cgroup/" + v1 + " 2>/dev/null || cat /sys/fs/cgroup/" + v2;
    }

    @Test
    void runsInTheForegroundWithItsLimitsHostnameFdsAndExitCode() throws Exception {
        assertTrue(podman().podman("images").expect(0).out().matches("(?s).*localhost/busybox +latest.*"), "the image made here is in podman's store");
        // The short name finds the local image (no registry is asked: --pull=never, no search registries).
        assertEquals("hello\n", podman().podman(run("busybox", "echo", "hello")).expect(0).out());

        String script = "hostname; " + cgroupFile("memory/memory.limit_in_bytes", "memory.max") + "; "
                + cgroupFile("pids/pids.max", "pids.max") + "; echo fd3-ok >&3; exit 3";
        // --preserve-fds 1: podman's fd 3 (here its stdout) is the container's fd 3.
        List<String> cmd = podman().command(run("--hostname", "myhost", "--memory", "64m", "--pids-limit", "10", "--preserve-fds", "1",
                Podman.IMAGE, "sh", "-c", script));
        Brig.Result r = podman().run(Cmd.concat(List.of("sh", "-c", "exec \"$@\" 3>&1", "sh"), cmd.toArray(String[]::new)));
        assertEquals(3, r.exit(), "the container's exit code is podman's: " + r.err());
        // fd 3 is podman's stdout itself, the rest comes through conmon: their order may vary.
        assertEquals("fd3-ok\nmyhost\n67108864\n10\n", "fd3-ok\n" + r.out().replaceFirst("fd3-ok\n", ""), r.err());

        // no_pivot_root = true and keyring = false in containers.conf: conmon passes
        // create --no-pivot --no-new-keyring, and the container runs.
        r = podman().podmanNoPivot(run(Podman.IMAGE, "echo", "no-pivot-ok"));
        assertEquals("no-pivot-ok\n", r.expect(0).out(), r.err());
        assertTrue(podman().noPivotCalls().lines().anyMatch(l -> l.contains(" create ") && l.contains("--no-pivot") && l.contains("--no-new-keyring")),
                podman().noPivotCalls());

        // -t: conmon gives Brig a --console-socket and reads the terminal's master from it.
        r = podman().podman(run("-t", Podman.IMAGE, "sh", "-c", "test -t 0 && test -t 1 && echo tty-ok"));
        assertEquals("tty-ok", r.expect(0).out().strip());
    }

    @Test
    void aMissingProgramIsExit127WithBrigsErrorFromTheJsonLogOrFromStderr() throws Exception {
        // runtime_supports_json names brig: conmon passes --log-format=json --log FILE and podman
        // shows the message of Brig's {"level":"error","msg":...} line.
        Brig.Result r = podman().podman(run(Podman.IMAGE, "/nonexistent"));
        assertEquals(127, r.exit(), r.err());
        // podman prefixes the runtime's name ("brig"); the message is the log line's "msg"
        // (from stderr it would be Brig's "brig: exec: ...", as below).
        assertEquals("Error: brig: exec: \"/nonexistent\": stat /nonexistent: ENOENT: no such file or directory: "
                + "OCI runtime attempted to invoke a command that was not found", errorLine(r.err()));

        // --runtime PATH whose name is not in runtime_supports_json: podman reads Brig's stderr.
        Path other = podman().dir.resolve("bin/brig-text");
        Files.createDirectories(other.getParent());
        if (!Files.exists(other)) Files.createSymbolicLink(other, Brig.launcher());
        r = podman().run(Cmd.concat(List.of("podman", "--runtime", other.toString()), run(Podman.IMAGE, "/nonexistent")));
        assertEquals(127, r.exit(), r.err());
        assertEquals("Error: " + other + ": brig: exec: \"/nonexistent\": stat /nonexistent: ENOENT: no such file or directory: "
                + "OCI runtime attempted to invoke a command that was not found", errorLine(r.err()));
        assertEquals("ok\n", podman().run(Cmd.concat(List.of("podman", "--runtime", other.toString()), run(Podman.IMAGE, "echo", "ok"))).expect(0).out());
    }

    @Test
    void aDetachedContainerThroughItsLife() throws Exception {
        String name = NoLeaks.PREFIX + "sleeper";
        String id = podman().podman("run", "--pull=never", "-d", "--name", name, "--network=none", "--cgroup-parent=" + Podman.CGROUP_PARENT,
                Podman.IMAGE, "sleep", "100").expect(0).out().strip();
        assertTrue(id.matches("[0-9a-f]{64}"), id);
        assertTrue(podman().podman("ps").expect(0).out().contains(name));
        assertTrue(podman().podman("inspect", "-f", "{{.State.Running}} {{.State.Pid}}", name).expect(0).out().matches("true [1-9][0-9]*\n"));
        // podman gives no --root: the container is in Brig's default state root.
        assertTrue(Brig.run(null, "list", "-q").expect(0).out().lines().anyMatch(id::equals), "brig list shows podman's container");

        assertEquals("in-exec\n", podman().podman("exec", name, "echo", "in-exec").expect(0).out());
        assertEquals(7, podman().podman("exec", name, "sh", "-c", "exit 7").exit(), "exec's exit code reaches podman");
        assertEquals("exec-tty-ok", podman().podman("exec", "-t", name, "sh", "-c", "test -t 1 && echo exec-tty-ok").expect(0).out().strip());
        podman().podman("exec", "-d", name, "sleep", "5").expect(0);
        assertTrue(podman().podman("top", name).expect(0).out().contains("sleep 5"), "top sees the detached exec");

        podman().podman("pause", name).expect(0);
        assertEquals(name + " Paused\n", podman().podman("ps", "-a", "--format", "{{.Names}} {{.Status}}").expect(0).out());
        podman().podman("unpause", name).expect(0);
        podman().podman("update", "--memory", "128m", name).expect(0);
        assertEquals("134217728\n", podman().podman("exec", name, "sh", "-c", cgroupFile("memory/memory.limit_in_bytes", "memory.max")).expect(0).out());
        assertTrue(podman().podman("top", name).expect(0).out().contains("sleep 100"));
        assertTrue(podman().podman("ps", "--sync").expect(0).out().contains(name));

        podman().podman("kill", "-s", "USR1", name).expect(0);
        assertEquals("true\n", podman().podman("inspect", "-f", "{{.State.Running}}", name).expect(0).out(), "pid 1 without a handler ignores USR1");
        podman().podman("kill", name).expect(0);
        assertEquals("137\n", podman().podman("wait", name).expect(0).out());
        podman().podman("start", name).expect(0);
        assertEquals("true\n", podman().podman("inspect", "-f", "{{.State.Running}}", name).expect(0).out());
        podman().podman("stop", "-t", "2", name).expect(0);
        podman().podman("rm", name).expect(0);
        assertEquals("", podman().podman("ps", "-a", "-q").expect(0).out());
        assertFalse(Brig.run(null, "list", "-q").expect(0).out().lines().anyMatch(id::equals), "the state is gone");
    }
}
