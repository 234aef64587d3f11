package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm path through the real bin/brig: the same commands give the same stdout, stderr and
 * exit status from the resident server as from a JVM of their own (BRIG_SERVER=off); many
 * callers at once; a socket planted where the client looks is not used; a client killed
 * mid-call leaves the server serving; an old build's server steps aside; `brig server stop`.
 * The server is stopped and its socket gone after each test.
 */
@ExtendWith(NoLeaks.class)
class ServerIT {
    /** Root's socket of this installation (named after the dist's real path, as bin/brig finds its home). */
    static final Path DIR = Path.of("/run/brig/.server"), SOCKET = DIR.resolve(Protocol.socket(home()));

    static Path home() {
        try {
            return Brig.dist().toRealPath();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
    static final Map<String, String> WARM = Map.of(), COLD = Map.of("BRIG_SERVER", "off");

    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();

    @BeforeEach
    void setUp() {
        brig = new Lifecycle(dir.resolve("state"), dir);
        stopServers();
    }

    @AfterEach
    void tearDown() throws IOException {
        for (String id : ids) brig.brig(null, COLD, List.of("delete", "--force", id));
        List<String> left = stopServers();
        // A test's other installation's lock and log (its socket went with its server).
        Path other = dir.resolve("other");
        if (Files.isDirectory(other)) {
            for (String n : List.of(Protocol.lock(other.toRealPath()), Protocol.log(other.toRealPath()))) Files.deleteIfExists(DIR.resolve(n));
        }
        assertEquals(List.of(), left, "servers left running after `brig server stop`");
        assertFalse(Files.exists(SOCKET, java.nio.file.LinkOption.NOFOLLOW_LINKS), SOCKET + " left behind");
    }

    /** Stops the server as a user does; returns (and kills) server processes of ours still there. */
    private List<String> stopServers() {
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30);
        List<String> left = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
            left = serverProcesses();
            if (left.isEmpty()) break;
            sleep(50);
        }
        for (String p : left) ProcessHandle.of(Long.parseLong(p.split(" ")[0])).ifPresent(ProcessHandle::destroyForcibly);
        return left;
    }

    /** Our servers: "PID COMMAND LINE" of JVMs running brig.server.Server from this dist (or this test's copies). */
    private List<String> serverProcesses() {
        return ProcessHandle.allProcesses().map(p -> p.pid() + " " + p.info().commandLine().orElse(""))
                .filter(c -> c.contains("brig.server.Server") && (c.contains(Brig.dist().toString()) || c.contains(dir.toString())))
                .toList();
    }

    private Brig.Result run(Map<String, String> env, String... args) {
        return brig.brig(dir, env, List.of(args));
    }

    /** Runs the command warm and cold: both give the same; returns the warm result. */
    private Brig.Result same(Path cwd, byte[] stdin, String... args) {
        List<String> full = new ArrayList<>(List.of("--root", brig.root().toString()));
        full.addAll(List.of(args));
        long before = served();
        Brig.Result warm = Brig.run(cwd, full, stdin, WARM, 60);
        assertEquals(before + 1, served(), "served warm: " + full);
        Brig.Result cold = Brig.run(cwd, full, stdin, COLD, 60);
        assertEquals(before + 1, served(), "cold did not use the server: " + full);
        assertEquals(cold, warm, "warm and cold differ for " + full);
        return warm;
    }

    private Brig.Result same(String... args) {
        return same(dir, null, args);
    }

    /** How many calls the running server has served (status itself is one). */
    private long served() {
        Brig.Result s = Brig.run(dir, List.of("server", "status"), null, WARM, 30);
        Matcher m = Pattern.compile("served: (\\d+) calls").matcher(s.out());
        if (!m.find()) return -1;
        return Long.parseLong(m.group(1)) - (++statusCalls);
    }

    private long statusCalls;

    private long serverPid() {
        Matcher m = Pattern.compile("running: pid (\\d+)").matcher(Brig.run(dir, List.of("server", "status"), null, WARM, 30).out());
        statusCalls++;
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private TestBundle container(String... args) throws IOException {
        TestBundle b = TestBundle.busybox(dir.resolve("b" + ids.size())).args(args);
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), WARM, List.of("create", "--bundle", b.dir().toString(), b.id())).expect(0);
        return b;
    }

    /**
     * A verb that changes a container, warm on {@code a} and cold on {@code b} (the token ID
     * names it): the same answer, but for the id.
     */
    private Brig.Result both(TestBundle a, TestBundle b, byte[] stdin, String... args) {
        long before = served();
        Brig.Result warm = Brig.run(dir, with(a.id(), args), stdin, WARM, 60);
        assertEquals(before + 1, served(), "served warm: " + List.of(args));
        Brig.Result cold = Brig.run(dir, with(b.id(), args), stdin, COLD, 60);
        assertEquals(before + 1, served(), "cold did not use the server: " + List.of(args));
        assertEquals(new Brig.Result(cold.exit(), cold.out().replace(b.id(), a.id()), cold.err().replace(b.id(), a.id())), warm,
                "warm and cold differ for " + List.of(args));
        return warm;
    }

    private Brig.Result both(TestBundle a, TestBundle b, String... args) {
        return both(a, b, null, args);
    }

    private List<String> with(String id, String... args) {
        List<String> full = new ArrayList<>(List.of("--root", brig.root().toString()));
        for (String x : args) full.add(x.equals("ID") ? id : x);
        return full;
    }

    @Test
    void everyServedVerbAnswersAsACold() throws Exception {
        TestBundle a = container("sleep", "100"), b = container("sleep", "100");
        String id = a.id();
        same("--version").expect(0);
        same("--help").expect(0);
        same("help", "state").expect(0);
        same("frobnicate").expect(3);
        same("--log-format", "xml", "state", id).expect(1);
        same("features").expect(0);
        assertTrue(same("state", id).expect(0).out().contains("\"status\": \"created\""));
        same("state", "nosuch").expect(1);
        same("list").expect(0);
        same("list", "-q").expect(0);
        same("list", "--format", "json").expect(0);
        same("ps", id, "-o", "pid,comm").expect(0);
        same("ps", "--format", "json", id).expect(0);
        // ps gets the caller's environment: its time zone shows in STIME
        List<String> ps = List.of("--root", brig.root().toString(), "ps", id);
        Brig.Result psWarm = Brig.run(dir, ps, null, Map.of("TZ", "UTC-9"), 60);
        assertEquals(Brig.run(dir, ps, null, Map.of("TZ", "UTC-9", "BRIG_SERVER", "off"), 60), psWarm);
        assertNotEquals(Brig.run(dir, ps, null, Map.of(), 60).out(), psWarm.out());
        same("kill", id, "NOSUCHSIGNAL").expect(1);
        same("pause", "nosuch").expect(1);
        same("events", "--stats", "nosuch").expect(1);
        for (TestBundle t : List.of(a, b)) brig.brig(t.dir(), COLD, List.of("start", t.id())).expect(0);
        both(a, b, "pause", "ID").expect(0);
        assertTrue(same("state", a.id()).expect(0).out().contains("\"status\": \"paused\""));
        both(a, b, "resume", "ID").expect(0);
        both(a, b, "update", "--pids-limit", "40", "ID").expect(0);
        both(a, b, "{\"pids\":{\"limit\":30}}".getBytes(), "update", "--resources", "-", "ID").expect(0);
        assertEquals("30\n", Files.readString(pidsMax(a.id())));
        both(a, b, "{\"pids\":".getBytes(), "update", "--resources", "-", "ID").expect(1);
        both(a, b, "delete", "ID").expect(1);
        both(a, b, "kill", "ID", "KILL").expect(0);
        brig.awaitStatus(a.id(), "stopped");
        brig.awaitStatus(b.id(), "stopped");
        both(a, b, "delete", "ID").expect(0);
        both(a, b, "delete", "ID").expect(1);
        both(a, b, "delete", "--force", "ID").expect(0);
        // spec writes in the caller's directory, with the caller's umask
        Path w = Files.createDirectory(dir.resolve("specwarm")), c = Files.createDirectory(dir.resolve("speccold"));
        long before = served();
        Brig.Result warm = Brig.run(w, List.of("spec"), null, WARM, 60), cold = Brig.run(c, List.of("spec"), null, COLD, 60);
        assertEquals(before + 1, served());
        assertEquals(cold, warm);
        assertEquals(Files.readString(c.resolve("config.json")), Files.readString(w.resolve("config.json")));
        assertEquals(Files.getPosixFilePermissions(c.resolve("config.json")), Files.getPosixFilePermissions(w.resolve("config.json")));
        same(w, null, "spec").expect(1);
        // events --stats prints one line of numbers that change: the shape is the same
        TestBundle e = container("sleep", "100");
        Brig.Result ew = run(WARM, "events", "--stats", e.id()), ec = run(COLD, "events", "--stats", e.id());
        assertEquals(ec.exit(), ew.exit());
        assertTrue(ew.out().startsWith("{\"type\":\"stats\",\"id\":\"" + e.id() + "\""), ew.out());
        assertEquals(ec.err(), ew.err());
    }

    private static Path pidsMax(String id) throws IOException {
        try (Stream<Path> s = Files.walk(Path.of("/sys/fs/cgroup/pids"), 3)) {
            return s.filter(p -> p.getFileName().toString().equals(id)).findFirst().orElseThrow().resolve("pids.max");
        }
    }

    @Test
    void fiftyCallersAtOnceFromNoServerAllAnswerAndOneServerStarts() throws Exception {
        TestBundle b = container("sleep", "100");
        stopServers();
        String expected = run(COLD, "state", b.id()).expect(0).out();
        ExecutorService pool = Executors.newFixedThreadPool(50);
        try {
            List<Future<Brig.Result>> calls = new ArrayList<>();
            for (int k = 0; k < 50; k++) calls.add(pool.submit(() -> run(WARM, "state", b.id())));
            for (Future<Brig.Result> f : calls) {
                Brig.Result r = f.get();
                assertEquals(new Brig.Result(0, expected, ""), r);
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(1, serverProcesses().size(), String.join("\n", serverProcesses()));
        assertEquals(50, served());
    }

    @Test
    void aSymlinkWhereTheSocketGoesIsNotFollowed() throws Exception {
        Files.createDirectories(DIR);
        Path fake = dir.resolve("fake.sock");
        try (ServerSocketChannel planted = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            planted.bind(UnixDomainSocketAddress.of(fake));
            planted.configureBlocking(false);
            // A server an earlier test's leftover call started after setUp's stop (seen once,
            // 0.3 s after it) would hold the name: stopped again, then the link planted.
            for (int k = 0; ; k++) {
                try {
                    Files.createSymbolicLink(SOCKET, fake);
                    break;
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    if (k == 3) throw e;
                    stopServers();
                }
            }
            try {
                Brig.Result r = Brig.run(dir, List.of("--version"), null, WARM, 60).expect(0);
                assertTrue(r.out().startsWith("brig version"), r.out());
                SocketChannel got = planted.accept();
                assertEquals(null, got, "the client connected to the planted socket");
                assertEquals(List.of(), serverProcesses(), "a server was started beside a planted socket");
                assertEquals(3, Brig.run(dir, List.of("server", "status"), null, WARM, 30).exit());
            } finally {
                Files.delete(SOCKET);
            }
        }
    }

    @Test
    void aSocketOfAnotherUserIsNotUsed() throws Exception {
        Files.createDirectories(DIR);
        try (ServerSocketChannel planted = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            planted.bind(UnixDomainSocketAddress.of(SOCKET));
            planted.configureBlocking(false);
            Files.setAttribute(SOCKET, "unix:uid", 65534, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            try {
                Brig.run(dir, List.of("--version"), null, WARM, 60).expect(0);
                assertEquals(null, planted.accept(), "the client connected to a socket of uid 65534");
                assertEquals(List.of(), serverProcesses());
            } finally {
                Files.delete(SOCKET);
            }
        }
    }

    @Test
    void aDirectoryOthersMayEnterIsNotTrusted() throws Exception {
        Brig.run(dir, List.of("--version"), null, WARM, 60).expect(0);
        long pid = serverPid();
        assertTrue(pid > 0);
        Files.setPosixFilePermissions(DIR, PosixFilePermissions.fromString("rwx---r-x"));
        try {
            Brig.run(dir, List.of("--version"), null, WARM, 60).expect(0);
        } finally {
            Files.setPosixFilePermissions(DIR, PosixFilePermissions.fromString("rwx------"));
        }
        assertEquals(1, served(), "only the first --version was served"); // (status's own call not counted)
    }

    @Test
    void aClientKilledMidCallLeavesTheServerServing() throws Exception {
        TestBundle b = container("sleep", "100");
        Path out = dir.resolve("events.out");
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", brig.root().toString(), "events", "--interval", "100ms", b.id())
                .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().clear();
        Process events = pb.start();
        for (int k = 0; k < 200 && Files.size(out) == 0; k++) sleep(50);
        assertTrue(Files.size(out) > 0, "events printed nothing");
        events.destroyForcibly().waitFor();
        String state = run(WARM, "state", b.id()).expect(0).out();
        assertTrue(state.contains("\"status\": \"created\""), state);
        // the events call ends at its next write to the dead client
        String status = "";
        for (int k = 0; k < 100; k++) {
            status = Brig.run(dir, List.of("server", "status"), null, WARM, 30).expect(0).out();
            if (status.contains("calls now: 0 ")) break;
            sleep(50);
        }
        assertTrue(status.contains("calls now: 0 "), status);
    }

    @Test
    void serverStopStopsItAndRemovesItsSocket() {
        Brig.run(dir, List.of("--version"), null, WARM, 60).expect(0);
        long pid = serverPid();
        assertTrue(pid > 0);
        Brig.Result stop = Brig.run(dir, List.of("server", "stop"), null, WARM, 30).expect(0);
        assertEquals("stopped the brig server (pid " + pid + ")\n", stop.out());
        for (int k = 0; k < 100 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); k++) sleep(50);
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "server " + pid + " still runs");
        assertFalse(Files.exists(SOCKET));
        Brig.Result none = Brig.run(dir, List.of("server", "status"), null, WARM, 30);
        assertEquals(new Brig.Result(3, "not running\n", ""), none);
        assertEquals(new Brig.Result(0, "no brig server is running\n", ""), Brig.run(dir, List.of("server", "stop"), null, WARM, 30));
        // BRIG_SERVER=off and --no-server start none
        Brig.run(dir, List.of("--version"), null, COLD, 60).expect(0);
        Brig.run(dir, List.of("--no-server", "--version"), null, WARM, 60).expect(0);
        assertEquals(List.of(), serverProcesses());
    }

    @Test
    void aServerOfAnotherBuildStepsAside() throws Exception {
        // An upgrade in place: another installation's home, whose build id then changes.
        Path other = otherInstallation("an older build");
        Path otherBrig = other.resolve("bin/brig");
        Brig.exec(dir, List.of(otherBrig.toString(), "--version"), null, Map.of(), 60).expect(0);
        List<String> old = serverProcesses();
        assertEquals(1, old.size(), old.toString());
        assertTrue(old.get(0).contains(other.toString()), old.get(0));
        Files.writeString(other.resolve("lib/brig.build"), "a newer build\n");
        Brig.exec(dir, List.of(otherBrig.toString(), "--version"), null, Map.of(), 60).expect(0);
        long oldPid = Long.parseLong(old.get(0).split(" ")[0]);
        for (int k = 0; k < 100 && ProcessHandle.of(oldPid).map(ProcessHandle::isAlive).orElse(false); k++) sleep(50);
        assertFalse(ProcessHandle.of(oldPid).map(ProcessHandle::isAlive).orElse(false), "the old server still runs");
        Brig.Result status = Brig.exec(dir, List.of(otherBrig.toString(), "server", "status"), null, Map.of(), 30).expect(0);
        assertTrue(status.out().contains("build: a newer build\n"), status.out());
        Brig.exec(dir, List.of(otherBrig.toString(), "server", "stop"), null, Map.of(), 30).expect(0);
    }

    /**
     * Two installations (two build trees) on one machine each keep a server of their own, at
     * a socket named after their home: calls of one never make the other's step aside, and
     * `server status|stop` speak to the caller's installation's.
     */
    @Test
    void twoInstallationsKeepAServerEach() throws Exception {
        Path other = otherInstallation("another build");
        Path otherBrig = other.resolve("bin/brig");
        Path otherSocket = DIR.resolve(Protocol.socket(other.toRealPath()));
        assertNotEquals(SOCKET, otherSocket);
        Brig.run(dir, List.of("--version"), null, WARM, 60).expect(0);
        long mine = serverPid();
        assertTrue(mine > 0);
        Brig.exec(dir, List.of(otherBrig.toString(), "--version"), null, Map.of(), 60).expect(0);
        Brig.Result status = Brig.exec(dir, List.of(otherBrig.toString(), "server", "status"), null, Map.of(), 30).expect(0);
        assertTrue(status.out().contains("socket: " + otherSocket + "\n") && status.out().contains("build: another build\n"), status.out());
        long theirs = Long.parseLong(status.out().replaceAll("(?s)^running: pid (\\d+).*", "$1"));
        for (int k = 0; k < 5; k++) {
            Brig.run(dir, List.of("--version"), null, WARM, 60).expect(0);
            Brig.exec(dir, List.of(otherBrig.toString(), "--version"), null, Map.of(), 60).expect(0);
        }
        assertEquals(mine, serverPid(), "this installation's server stepped aside");
        assertTrue(ProcessHandle.of(theirs).map(ProcessHandle::isAlive).orElse(false), "the other installation's server stepped aside");
        assertEquals(2, serverProcesses().size(), serverProcesses().toString());
        // Stopping one leaves the other.
        Brig.exec(dir, List.of(otherBrig.toString(), "server", "stop"), null, Map.of(), 30).expect(0);
        ProcessHandle.of(theirs).ifPresent(p -> p.onExit().join());
        assertFalse(Files.exists(otherSocket, java.nio.file.LinkOption.NOFOLLOW_LINKS), otherSocket + " left behind");
        assertEquals(mine, serverPid());
    }

    /** Another installation in the test's directory: its own bin/brig and build id, the rest this dist's. */
    private Path otherInstallation(String build) throws IOException {
        Path other = dir.resolve("other");
        Files.createDirectories(other.resolve("bin"));
        Files.createDirectories(other.resolve("lib"));
        Files.copy(Brig.launcher(), other.resolve("bin/brig"), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        for (String d : List.of("libexec", "runtime")) Files.createSymbolicLink(other.resolve(d), Brig.dist().resolve(d));
        try (Stream<Path> jars = Files.list(Brig.dist().resolve("lib"))) {
            for (Path j : jars.filter(p -> p.toString().endsWith(".jar")).toList()) Files.createSymbolicLink(other.resolve("lib").resolve(j.getFileName()), j);
        }
        Files.writeString(other.resolve("lib/brig.build"), build + "\n");
        return other;
    }

    @Test
    void aServerLostAfterItsAcknowledgementIsAnErrorNotASecondRun() throws Exception {
        TestBundle b = container("sleep", "100");
        Path out = dir.resolve("events.out"), err = dir.resolve("events.err");
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", brig.root().toString(), "events", "--interval", "100ms", b.id())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().clear();
        Process events = pb.start();
        for (int k = 0; k < 200 && Files.size(out) == 0; k++) sleep(50);
        assertTrue(Files.size(out) > 0, "events printed nothing");
        long pid = serverPid();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        assertTrue(events.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "the client did not end");
        assertEquals(125, events.exitValue());
        assertTrue(Files.readString(err).startsWith("brig: the brig server ended the call before it finished"), Files.readString(err));
        // The next call finds the dead server's socket, starts a new one, and is served by it.
        assertTrue(run(WARM, "state", b.id()).expect(0).out().contains("\"status\": \"created\""));
        long now = serverPid();
        assertTrue(now > 0 && now != pid, "pid " + now);
    }

    @Test
    void callersInAnotherMountOrUserNamespaceRunCold() throws Exception {
        TestBundle b = container("sleep", "100");
        String expected = run(COLD, "state", b.id()).expect(0).out();
        long before = served();
        Brig.Result mnt = brig.exec(dir, WARM, List.of("unshare", "--mount", "--propagation", "private",
                Brig.launcher().toString(), "--root", brig.root().toString(), "state", b.id()));
        assertEquals(new Brig.Result(0, expected, ""), mnt);
        Brig.Result user = brig.exec(dir, WARM, List.of("unshare", "--user", "--map-root-user", Brig.launcher().toString(), "--version"));
        assertEquals(run(COLD, "--version"), user);
        assertEquals(before, served(), "a caller in another namespace was served");
    }

    @Test
    void anotherUserHasAServerOfItsOwnInItsRuntimeDirectory() throws Exception {
        Path runtime = Path.of("/run/user/65534");
        boolean made = !Files.exists(runtime);
        List<String> nobody = List.of("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", Brig.launcher().toString());
        try {
            // Without a runtime directory: cold, the same answer.
            if (made) {
                assertEquals(run(COLD, "--version"), brig.exec(Path.of("/"), WARM, cat(nobody, "--version")));
                assertEquals(List.of(), serverProcesses());
                Files.createDirectories(runtime);
                Files.setAttribute(runtime, "unix:uid", 65534);
                Files.setAttribute(runtime, "unix:gid", 65534);
                Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwx------"));
            }
            assertEquals(run(COLD, "--version"), brig.exec(Path.of("/"), WARM, cat(nobody, "--version")));
            Brig.Result status = brig.exec(Path.of("/"), WARM, cat(nobody, "server", "status")).expect(0);
            assertTrue(status.out().contains("socket: /run/user/65534/brig/" + Protocol.socket(home()) + "\n"), status.out());
            long pid = Long.parseLong(status.out().replaceAll("(?s)^running: pid (\\d+).*", "$1"));
            assertEquals(65534, Files.getAttribute(Path.of("/proc/" + pid), "unix:uid"));
            assertFalse(Files.exists(SOCKET), "root's server was started for another user");
            brig.exec(Path.of("/"), WARM, cat(nobody, "server", "stop")).expect(0);
            for (int k = 0; k < 100 && ProcessHandle.of(pid).isPresent(); k++) sleep(50);
            assertFalse(ProcessHandle.of(pid).isPresent(), "the user's server still runs");
        } finally {
            if (made) {
                try (Stream<Path> s = Files.walk(runtime)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private static List<String> cat(List<String> a, String... b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(b));
        return all;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
