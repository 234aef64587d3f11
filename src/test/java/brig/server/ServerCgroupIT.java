package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Root's server in a cgroup of its own: started by a caller in a test cgroup (in every v1
 * hierarchy and the unified one), it is in /brig.server everywhere, never in the caller's,
 * and the caller's cgroup can be removed while the server lives. At exit the server removes
 * /brig.server, unless another process is in it by then (a newer server).
 */
@ExtendWith(NoLeaks.class)
class ServerCgroupIT {
    @TempDir Path dir;
    private final List<Path> made = new ArrayList<>();

    @BeforeEach
    void setUp() {
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30);
        awaitNoServer();
    }

    /**
     * Waits (up to 10 s) until no brig server runs (one of another build, another worktree's,
     * stepped aside when this build's `server stop` called), then removes an empty
     * /brig.server such a build left (builds before servers removed it at exit).
     */
    static void awaitNoServer() {
        for (int k = 0; k < 200 && ProcessHandle.allProcesses().anyMatch(ServerCgroupIT::ours); k++) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Path c : serverCgroups()) {
            try {
                Files.deleteIfExists(c);
            } catch (IOException e) {
                // a server still in it: the test's own checks will say
            }
        }
    }

    /** A server of this dist or of a test's copy of it (other installations' servers run on: theirs to stop). */
    private static boolean ours(ProcessHandle p) {
        String c = p.info().commandLine().orElse("");
        return c.contains("brig.server.Server") && (c.contains(Brig.dist().toString()) || c.contains("/junit"));
    }

    /**
     * The server that was in /brig.server left it and removed it, unless another process is
     * in it (another installation's server, which shares it): none is left empty.
     */
    static void assertNoEmptyServerCgroup(String why) throws IOException {
        for (Path c : serverCgroups()) {
            assertFalse(Files.readString(c.resolve("cgroup.procs")).isBlank(), why + ": " + c + " is left empty");
        }
    }

    /** The /brig.server directories there are, in every mounted hierarchy. */
    static List<Path> serverCgroups() {
        try {
            return NoLeaks.cgroupHierarchies().stream().map(h -> h.resolve(Server.CGROUP)).filter(Files::isDirectory).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aServerRemovesItsCgroupAtExitUnlessAnotherProcessIsInIt() throws Exception {
        long pid = serverPid();
        assertEquals(NoLeaks.cgroupHierarchies().size(), serverCgroups().size(), "the server made no cgroup of its own");
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30).expect(0);
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
        assertNoEmptyServerCgroup("the server did not remove its cgroup");

        // Another process in /brig.server (as a newer server that entered it meanwhile): it stays, the process in it.
        pid = serverPid();
        Process other = new ProcessBuilder("sleep", "100").start();
        try {
            for (Path c : serverCgroups()) Files.writeString(c.resolve("cgroup.procs"), Long.toString(other.pid()));
            Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30).expect(0);
            ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
            assertEquals(NoLeaks.cgroupHierarchies().size(), serverCgroups().size(), "a cgroup with a process in it went");
            assertTrue(Files.readString(serverCgroups().getFirst().resolve("cgroup.procs")).contains(Long.toString(other.pid())));
            String log = Files.readString(ServerIT.DIR.resolve(Protocol.log(ServerIT.home())));
            assertFalse(log.substring(log.lastIndexOf("serving (build")).contains("cgroup: cannot"), "the server logged a failure:\n" + log);
        } finally {
            other.destroyForcibly().waitFor();
            Thread.sleep(100);
            awaitNoServer();
        }
        assertNoEmptyServerCgroup("the test's /brig.server stayed");
    }

    /**
     * An unprivileged user's server stays in the cgroups of the process that started it (it
     * may not move): when that cgroup's tasks are killed (as systemd stops a unit on v1, one
     * by one; cgroup.kill is v2's), the server goes with them, and the user's next call starts
     * a new one and is answered.
     */
    @Test
    void anUnprivilegedUsersServerEndsWithTheCgroupOfItsStarter() throws Exception {
        Path runtime = Path.of("/run/user/65534");
        boolean madeRuntime = !Files.exists(runtime);
        if (madeRuntime) {
            Files.createDirectories(runtime);
            Files.setAttribute(runtime, "unix:uid", 65534);
            Files.setAttribute(runtime, "unix:gid", 65534);
            Files.setPosixFilePermissions(runtime, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        }
        List<String> nobody = List.of("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", Brig.launcher().toString());
        try {
            StringBuilder join = new StringBuilder();
            for (Path h : NoLeaks.cgroupHierarchies()) {
                Path c = Files.createDirectory(h.resolve(NoLeaks.PREFIX + "starter"));
                made.add(c);
                for (String f : List.of("cpuset.cpus", "cpuset.mems")) {
                    if (Files.exists(h.resolve(f))) Files.writeString(c.resolve(f), Files.readString(h.resolve(f)).trim());
                }
                join.append("echo $$ > ").append(c.resolve("cgroup.procs")).append("; ");
            }
            Brig.Result first = Brig.exec(Path.of("/"), List.of("/bin/sh", "-c", join + "exec " + String.join(" ", nobody) + " --version"), null, Map.of(), 60);
            assertEquals(0, first.exit(), first.err());
            Brig.Result status = Brig.exec(Path.of("/"), cat(nobody, "server", "status"), null, Map.of(), 30).expect(0);
            long pid = Long.parseLong(status.out().replaceAll("(?s)^running: pid (\\d+).*", "$1"));
            String procs = Files.readString(made.getFirst().resolve("cgroup.procs"));
            assertTrue(List.of(procs.split("\\s+")).contains(Long.toString(pid)), "the user's server is not in its starter's cgroup: " + procs);
            // Kill the starter's cgroup's tasks, as v1 allows: one by one until none is left.
            for (int k = 0; k < 100; k++) {
                String left = Files.readString(made.getFirst().resolve("cgroup.procs")).trim();
                if (left.isEmpty()) break;
                for (String p : left.split("\\s+")) ProcessHandle.of(Long.parseLong(p)).ifPresent(ProcessHandle::destroyForcibly);
                Thread.sleep(50);
            }
            ProcessHandle.of(pid).ifPresent(p -> p.onExit().join());
            assertFalse(ProcessHandle.of(pid).isPresent(), "the user's server outlived its starter's cgroup");
            assertEquals(Brig.run(dir, List.of("--version"), null, Map.of("BRIG_SERVER", "off"), 30),
                    Brig.exec(Path.of("/"), cat(nobody, "--version"), null, Map.of(), 60), "the next call");
            long next = Long.parseLong(Brig.exec(Path.of("/"), cat(nobody, "server", "status"), null, Map.of(), 30).expect(0).out()
                    .replaceAll("(?s)^running: pid (\\d+).*", "$1"));
            assertTrue(next != pid && ProcessHandle.of(next).isPresent(), "no new server for the user");
        } finally {
            Brig.exec(Path.of("/"), cat(nobody, "server", "stop"), null, Map.of(), 30);
            Thread.sleep(200);
            if (madeRuntime) {
                try (java.util.stream.Stream<Path> w = Files.walk(runtime)) {
                    w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static List<String> cat(List<String> a, String... b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(b));
        return all;
    }

    private long serverPid() {
        Brig.run(dir, List.of("--version"), null, Map.of(), 30).expect(0);
        Matcher m = Pattern.compile("running: pid (\\d+)").matcher(Brig.run(dir, List.of("server", "status"), null, Map.of(), 30).out());
        assertTrue(m.find(), "no server runs");
        return Long.parseLong(m.group(1));
    }

    @AfterEach
    void tearDown() throws Exception {
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30);
        for (Path c : made) {
            for (int k = 0; k < 50 && Files.exists(c); k++) {
                try {
                    Files.deleteIfExists(c);
                } catch (IOException e) {
                    Thread.sleep(100);
                }
            }
        }
    }

    @Test
    void aServerLeavesTheCgroupOfTheCallerThatStartedIt() throws Exception {
        StringBuilder join = new StringBuilder();
        for (Path h : NoLeaks.cgroupHierarchies()) {
            Path c = Files.createDirectory(h.resolve(NoLeaks.PREFIX + "caller"));
            made.add(c);
            for (String f : List.of("cpuset.cpus", "cpuset.mems")) {
                if (Files.exists(h.resolve(f))) Files.writeString(c.resolve(f), Files.readString(h.resolve(f)).trim());
            }
            join.append("echo $$ > ").append(c.resolve("cgroup.procs")).append("; ");
        }
        // The caller joins the test cgroups, then runs a served verb: that starts the server.
        String brig = Brig.dist().resolve("bin/brig").toString();
        Brig.Result r = Brig.exec(dir, List.of("/bin/sh", "-c", join + "exec " + brig + " --root " + dir + " list"), null, Map.of(), 60);
        assertEquals(0, r.exit(), r.err());
        Matcher m = Pattern.compile("running: pid (\\d+)").matcher(Brig.run(dir, List.of("server", "status"), null, Map.of(), 30).out());
        assertTrue(m.find(), "no server runs");
        long pid = Long.parseLong(m.group(1));
        List<String> lines = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"));
        // Every mounted hierarchy (v1 controllers not mounted, perf_event here, have none to join).
        assertEquals(NoLeaks.cgroupHierarchies().size(), lines.stream().filter(l -> l.endsWith(":/" + Server.CGROUP)).count(),
                "the server is not in its own cgroup everywhere: " + lines);
        for (String line : lines) assertFalse(line.contains(NoLeaks.PREFIX), "the server is in its caller's cgroup: " + lines);
        // The caller's cgroups are empty now and go, the server living on.
        for (Path c : made) Files.delete(c);
        for (Path c : made) assertFalse(Files.exists(c));
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the server died");
        assertEquals(0, Brig.run(dir, List.of("--root", dir.toString(), "list"), null, Map.of(), 30).exit());
    }
}
