package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Detached containers (issue 12): `container run -d` under a native monitor of its own, and
 * what reads its log and exit file: `logs [-f]`, `wait`, `ps -a`, `stop`, `rm`, `--rm`.
 */
@ExtendWith(NoLeaks.class)
class ContainerDetachIT extends ContainerITBase {
    @Override
    void afterRemoving(String n) throws Exception {
        awaitNoMonitor(n);
    }

    /** `container run -d --pull=never --name N FLAGS... plain CMD...`: returns once it runs, printing its name. */
    Brig.Result detached(String n, String... flagsAndCmd) {
        List<String> a = new ArrayList<>(List.of("run", "-d", "--pull=never", "--name", n));
        a.addAll(List.of(flagsAndCmd));
        return container(a.toArray(String[]::new));
    }

    Path bundle(String n) {
        return store.resolve("containers").resolve(n);
    }

    JsonObject exitFile(String n) throws Exception {
        return Json.parseObjectFile(bundle(n).resolve("exit"));
    }

    int containerPid(String n) throws Exception {
        return Json.parseObjectFile(state.resolve(n).resolve("state.json")).get("pid").getAsInt();
    }

    static String stat(long pid, int field) throws Exception {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return s.substring(s.lastIndexOf(')') + 2).split(" ")[field - 3];
    }

    /**
     * The container's parent once it is its monitor: the start's JVM is its parent until that
     * JVM has exited, just after it said "running".
     */
    static long monitorOf(int pid) throws Exception {
        long parent = Long.parseLong(stat(pid, 4));
        for (int k = 0; k < 250; k++, Thread.sleep(20)) {
            parent = Long.parseLong(stat(pid, 4));
            try {
                if (Files.readString(Path.of("/proc/" + parent + "/cmdline")).replace('\0', ' ').contains("brig-helper launch ")) break;
            } catch (java.nio.file.NoSuchFileException e) {
                // the start's JVM exited between the two reads: the container's parent changes now
            }
        }
        return parent;
    }

    /** The monitor is gone once the container and its clean-up are: no process names the container. */
    static void awaitNoMonitor(String n) throws InterruptedException {
        for (int k = 0; k < 500 && ProcessHandle.allProcesses().anyMatch(p -> p.info().commandLine().orElse("").contains(n)); k++) Thread.sleep(20);
    }

    @Test
    void exitStatusLogAndPsOfADetachedContainer() throws Exception {
        String n = name("exit3");
        Brig.Result r = detached(n, "plain", "sh", "-c", "echo to stdout; echo to stderr >&2; sleep 0.2; exit 3");
        assertEquals(0, r.exit(), r.err());
        assertEquals(n + "\n", r.out(), "run -d prints the name once the container runs");
        assertEquals("", r.err());
        assertEquals("3\n", container("wait", n).expect(0).out(), "wait: the container's own status");
        assertEquals("3\n", container("wait", n).expect(0).out(), "wait for one that has exited: at once");
        assertEquals("to stdout\nto stderr\n", container("logs", n).expect(0).out(), "stdout and stderr, in the order written");
        JsonObject exit = exitFile(n);
        assertEquals(3, exit.get("status").getAsInt(), exit.toString());
        assertFalse(exit.get("oomKilled").getAsBoolean(), exit.toString());
        assertTrue(exit.get("finishedAt").getAsString().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z"), exit.toString());
        awaitNoMonitor(n);
        String ps = container("ps", "-a").expect(0).out();
        assertTrue(ps.lines().anyMatch(l -> l.startsWith(n + " ") && l.endsWith("Exited (3)")), ps);
        assertFalse(container("ps").out().contains(n), "ps without -a: running ones only");
        assertFalse(Files.exists(state.resolve(n)), "the monitor's clean-up removed the runtime's state");

        assertEquals(n + "\n", container("rm", n).expect(0).out());
        assertFalse(Files.exists(bundle(n)), "rm takes the log and the exit file with the bundle");
    }

    @Test
    void failedDetachedStartsSayWhyWithDockersCodes() throws Exception {
        String n = name("missing");
        Brig.Result r = detached(n, "plain", "no-such-command");
        assertEquals(127, r.exit(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().contains("no-such-command"), r.err());
        assertTrue(Files.exists(bundle(n).resolve("config.json")), "as docker: the container stays, created");
        String gone = name("missing-rm");
        r = detached(gone, "--rm", "plain", "/etc/passwd");
        assertEquals(126, r.exit(), r.err());
        awaitNoMonitor(gone);
        assertFalse(Files.exists(bundle(gone)), "--rm: nothing left");
    }

    /**
     * Served (root, a server running): the monitor's start is the server's, no JVM of its own,
     * and its clean-up follows the exit by milliseconds: `wait` still reads the status (it holds
     * the bundle until it has), and monitors coming and going never collide on their cgroups.
     */
    @Test
    void backToBackShortRmRunsAreServedAndWaitReadsEachStatus() throws Exception {
        for (int k = 0; k < 8; k++) {
            String n = name("short" + k);
            detached(n, "--rm", "plain", "sh", "-c", "sleep 0.1; exit 3").expect(0);
            assertEquals("3\n", container("wait", n).expect(0).out(), "run " + k);
        }
        for (Path h : NoLeaks.cgroupHierarchies()) {
            for (int k = 0; k < 100 && Files.exists(h.resolve("brig.monitor")); k++) Thread.sleep(20);
            assertFalse(Files.exists(h.resolve("brig.monitor")), h.resolve("brig.monitor") + " left");
        }
    }

    @Test
    void rmDetachedLeavesNothing() throws Exception {
        String n = name("rm");
        detached(n, "--rm", "plain", "sh", "-c", "echo bye; sleep 0.5; exit 2").expect(0);
        assertEquals("2\n", container("wait", n).expect(0).out(), "wait reads the exit file before --rm removes it");
        awaitNoMonitor(n);
        for (int k = 0; k < 250 && Files.exists(bundle(n)); k++) Thread.sleep(20);
        assertFalse(Files.exists(bundle(n)), "--rm -d: no bundle, log or exit file");
        assertFalse(Files.exists(state.resolve(n)), "no state");
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(n), "nothing mounted");
        for (Path h : NoLeaks.cgroupHierarchies()) assertFalse(Files.exists(h.resolve("brig").resolve(n)), "no cgroup in " + h);
        try (Stream<Path> s = Files.list(store.resolve("containers"))) {
            assertEquals(List.of(), s.toList());
        }
    }

    @Test
    void detachedTerminalIsHeldByTheMonitorAndLogged() throws Exception {
        String n = name("tty");
        detached(n, "-t", "plain", "sh").expect(0); // a shell that reads nothing: it waits at its prompt
        int pid = containerPid(n);
        String log = "";
        for (int k = 0; k < 250 && !log.contains("/ # "); k++) {
            Thread.sleep(20);
            log = container("logs", n).out();
        }
        assertTrue(log.contains("/ # "), "the shell's prompt, through the terminal: " + log);
        assertTrue(log.contains("\r\n"), "a terminal's line ends: " + log);
        assertTrue(Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/0")).toString().startsWith("/dev/pts/"), "the container's stdin is a terminal");
        long monitor = monitorOf(pid);
        boolean master = false;
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + monitor + "/fd"))) {
            for (Path fd : fds.toList()) master |= Files.readSymbolicLink(fd).toString().endsWith("ptmx");
        }
        assertTrue(master, "the monitor holds the terminal's master");
        assertTrue(container("ps").out().contains(n), "still running: nothing wrote to it, nothing closed it");
        container("kill", n).expect(0);
        assertEquals("137\n", container("wait", n).expect(0).out());
    }

    @Test
    void stopSendsTermToADetachedContainer() throws Exception {
        String n = name("stop");
        // pid 1 has no default action for TERM: the shell passes it on to its sleep, and ends with its status.
        detached(n, "plain", "sh", "-c", "trap 'kill $p' TERM; sleep 100 & p=$!; echo up; wait $p; wait $p").expect(0);
        for (int k = 0; k < 250 && !container("logs", n).out().contains("up"); k++) Thread.sleep(20);
        assertEquals(n + "\n", container("stop", "-t", "30", n).expect(0).out());
        assertEquals("143\n", container("wait", n).expect(0).out(), "killed by the TERM, not by a KILL after -t");
        awaitNoMonitor(n);
        assertTrue(container("ps", "-a").out().lines().anyMatch(l -> l.startsWith(n + " ") && l.endsWith("Exited (143)")));
    }

    @Test
    void theMonitorIsNativeInItsOwnSessionAndOutsideTheContainersCgroup() throws Exception {
        String n = name("monitor");
        detached(n, "-m", "16m", "plain", "sleep", "100").expect(0);
        int pid = containerPid(n);
        long monitor = monitorOf(pid);
        String cmdline = Files.readString(Path.of("/proc/" + monitor + "/cmdline")).replace('\0', ' ');
        assertTrue(cmdline.contains("brig-helper launch ") && cmdline.contains(" container monitored "), "the container's parent is its monitor: " + cmdline);
        assertTrue(cmdline.contains("brig-helper launch --server "), "served by the resident server, no JVM of its own: " + cmdline);
        assertEquals(String.valueOf(monitor), stat(monitor, 6), "the monitor leads a session of its own");
        assertNotEquals(stat(ProcessHandle.current().pid(), 6), stat(monitor, 6));
        List<String> mine = Files.readAllLines(Path.of("/proc/" + monitor + "/cgroup"));
        List<String> its = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"));
        for (String line : mine) {
            if (line.endsWith(":/")) continue; // a hierarchy not mounted here: Brig places nothing in it
            assertTrue(line.endsWith(":/brig.monitor/" + n), "Brig's own cgroup for monitors, one per container: " + mine);
            assertFalse(its.contains(line), "never the container's: " + its);
        }
        assertTrue(mine.stream().anyMatch(l -> l.endsWith(":/brig.monitor/" + n)), "Brig's own cgroup for monitors: " + mine);
        Path memory = NoLeaks.cgroupHierarchies().stream().map(h -> h.resolve("brig").resolve(n))
                .filter(p -> Files.exists(p.resolve("memory.limit_in_bytes")) || Files.exists(p.resolve("memory.max"))).findFirst().orElseThrow();
        assertEquals(List.of(String.valueOf(pid)), Files.readAllLines(memory.resolve("cgroup.procs")), "only the container is charged to its memory cgroup");
        long rssKb = Long.parseLong(Files.readString(Path.of("/proc/" + monitor + "/status")).lines().filter(l -> l.startsWith("VmRSS:"))
                .findFirst().orElseThrow().replaceAll("\\D", ""));
        assertTrue(rssKb < 4096, "native and small: no JVM stays (" + rssKb + " kB)");
        List<Long> children = List.of();
        for (int k = 0; k < 250 && !children.equals(List.of((long) pid)); k++, Thread.sleep(20)) {
            children = ProcessHandle.of(monitor).orElseThrow().children().map(ProcessHandle::pid).toList();
        }
        assertEquals(List.of((long) pid), children, "the start's JVM has gone; the container is the monitor's only child");
        container("kill", n).expect(0);
        assertEquals("137\n", container("wait", n).expect(0).out());
        // The last monitor to go takes the monitors' cgroup with it, as the server does its own.
        for (int k = 0; k < 250 && ProcessHandle.of(monitor).isPresent(); k++) Thread.sleep(20);
        for (Path h : NoLeaks.cgroupHierarchies()) assertFalse(Files.exists(h.resolve("brig.monitor")), h.resolve("brig.monitor") + " left");
    }

    @Test
    void waitEndsWithAnErrorWhenTheMonitorWasKilled() throws Exception {
        String n = name("orphan");
        detached(n, "plain", "sleep", "100").expect(0);
        int pid = containerPid(n);
        long monitor = monitorOf(pid);
        Libc.kill((int) monitor, Libc.SIGKILL);
        awaitNoMonitor(" container monitored --store " + store + " " + n);
        container("kill", n).expect(0);
        Brig.Result r = container("wait", n);
        assertEquals(125, r.exit(), r.out() + r.err());
        assertEquals("brig: container " + n + " has exited, but no monitor recorded its status (was its monitor killed?)\n", r.err());
    }

    @Test
    void memoryEaterDetachedHasItsOomInTheExitFile() throws Exception {
        String n = name("oom");
        detached(n, "-m", "100M", "--memory-swap", "100M", "plain", "sh", "-c", "x=a; while true; do x=$x$x; done").expect(0);
        assertEquals("137\n", container("wait", n).expect(0).out());
        JsonObject exit = exitFile(n);
        assertTrue(exit.get("oomKilled").getAsBoolean(), exit.toString());
        assertTrue(exit.get("message").getAsString().endsWith("out of memory: the OOM killer killed a process (memory limit 100 MiB)"), exit.toString());
        assertTrue(container("logs", n).out().contains("out of memory"), "the report is in the log too");
    }

    @Test
    void logsFollowUntilTheContainerHasExited() throws Exception {
        String n = name("follow");
        detached(n, "plain", "sh", "-c", "echo one; sleep 1; echo two; exit 0").expect(0);
        CompletableFuture<Brig.Result> follow = CompletableFuture.supplyAsync(() -> container("logs", "-f", n),
                task -> Thread.ofPlatform().daemon().start(task));
        Brig.Result r = follow.get(60, TimeUnit.SECONDS);
        assertEquals(0, r.exit(), r.err());
        assertEquals("one\ntwo\n", r.out(), "what came after -f started, and it ended with the container");
        assertTrue(Files.exists(bundle(n).resolve("exit")), "-f ended once the container had exited");
    }

    @Test
    void createDetachedThenStartRunsInTheBackground() throws Exception {
        String n = name("created");
        assertEquals(n + "\n", container("create", "-d", "--pull=never", "--name", n, "plain", "sh", "-c", "echo hi; exit 5").expect(0).out());
        assertEquals(n + "\n", container("start", n).expect(0).out(), "start of a container created with -d: detached");
        assertEquals("5\n", container("wait", n).expect(0).out());
        awaitNoMonitor(n);
        container("start", n).expect(0);
        assertEquals("5\n", container("wait", n).expect(0).out());
        assertEquals("hi\nhi\n", container("logs", n).out(), "the log goes on across starts");
    }
}
