package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.ConsoleEngine;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What `brig exec` takes from the container as it was created, as runc's exec does: its
 * seccomp profile, its config as it was at create (not the bundle's as edited since), its
 * session keyring; `--cap` into the ambient set; the terminal's master sent to a console
 * socket; and the join order when a namespace the container joined belongs to the host's user
 * namespace while the container has a user namespace of its own.
 */
@ExtendWith(NoLeaks.class)
class ExecSettingsIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        // A user namespace's root (host uid 100000) must be able to reach its rootfs.
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        brig = new Lifecycle(dir.resolve("state"), dir);
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (String id : ids) brig.brig(null, "delete", "--force", id);
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A created and started container running {@code args} (default: sleep), writable rootfs. */
    private TestBundle running(String name, Consumer<TestBundle> edit, String... args) throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve(name)).args(args.length == 0 ? new String[] {"sleep", "1000"} : args);
        b.set("root.readonly", "false");
        edit.accept(b);
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), Map.of(), List.of("create", "--bundle", b.dir().toString(), b.id())).expect(0);
        brig.brig(b.dir(), "start", b.id()).expect(0);
        return b;
    }

    private Brig.Result exec(TestBundle b, String... args) {
        List<String> all = new ArrayList<>(List.of("exec"));
        all.addAll(Arrays.asList(args));
        return brig.brig(b.dir(), Map.of(), all);
    }

    private static String statusField(String status, String field) {
        return status.lines().filter(l -> l.startsWith(field + ":")).findFirst().orElseThrow().substring(field.length() + 1).strip();
    }

    /** Compiles src/test/c/NAME.c statically into target/, once. */
    private static synchronized Path program(String name) {
        Path out = Path.of("target/test-" + name).toAbsolutePath();
        if (Files.exists(out)) return out;
        Path src = Path.of("src/test/c/" + name + ".c").toAbsolutePath();
        Brig.exec(null, List.of("cc", "-std=gnu11", "-O1", "-Wall", "-static", "-o", out.toString(), src.toString()),
                null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 120).expect(0);
        return out;
    }

    // ---- seccomp ----

    private static final String DENY_MKDIR = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":"
            + "[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";

    /** The container's profile holds for exec'd processes, with no_new_privs (late) and without (early). */
    @Test
    void theContainersSeccompProfileFiltersExecdProcesses() throws Exception {
        TestBundle b = running("sec", t -> t.set("linux.seccomp", DENY_MKDIR));
        Brig.Result r = exec(b, b.id(), "mkdir", "/tmp/x");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("mkdir: can't create directory '/tmp/x': Operation not permitted"), r.err());
        exec(b, b.id(), "true").expect(0);
        assertEquals("hi\n", exec(b, b.id(), "sh", "-c", "echo hi > /tmp/f && cat /tmp/f").expect(0).out());
        // Without no_new_privs the filter goes in while still privileged; it still holds.
        r = exec(b, "--no-new-privs=false", b.id(), "sh", "-c", "grep NoNewPrivs /proc/self/status; mkdir /tmp/y");
        assertEquals("NoNewPrivs:\t0\n", r.out(), r.err());
        assertTrue(r.err().contains("mkdir: can't create directory '/tmp/y': Operation not permitted"), r.err());
        exec(b, "--no-new-privs=false", b.id(), "true").expect(0);
        // A process file gets the container's profile too (it has no seccomp of its own).
        Path file = dir.resolve("process.json");
        Files.writeString(file, "{\"args\":[\"mkdir\",\"/tmp/z\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}");
        assertTrue(exec(b, "--process", file.toString(), b.id()).err().contains("Operation not permitted"));
        String plan = exec(b, "--explain", b.id(), "true").expect(0).out();
        assertTrue(plan.contains("install the seccomp filter (default action SCMP_ACT_ALLOW"), plan);
        assertFalse(Files.exists(b.rootfs().resolve("tmp/x")) || Files.exists(b.rootfs().resolve("tmp/y")));
        // The control: without the profile mkdir works.
        TestBundle plain = running("plain", t -> {});
        exec(plain, plain.id(), "mkdir", "/tmp/x").expect(0);
    }

    // ---- the config as created ----

    /** Editing (or removing) the bundle's config.json after create changes nothing for exec. */
    @Test
    void execStartsFromTheConfigTheContainerWasCreatedWith() throws Exception {
        TestBundle b = running("cfg", t -> t.add("process.env", "\"WHICH=created\""));
        assertTrue(Files.exists(brig.root().resolve(b.id()).resolve("created.json")), "nothing kept in the state");
        b.set("process.env", "[\"PATH=/bin\",\"WHICH=edited\"]");
        b.set("process.cwd", "\"/dev\"");
        b.set("linux.seccomp", DENY_MKDIR);
        b.write();
        assertEquals("created /\n", exec(b, b.id(), "sh", "-c", "echo $WHICH $(pwd); mkdir /tmp/x").expect(0).out());
        Files.delete(b.dir().resolve("config.json"));
        assertEquals("created\n", exec(b, b.id(), "sh", "-c", "echo $WHICH").expect(0).out());
    }

    // ---- --cap ----

    /**
     * runc's sets: bounding, effective, permitted; ambient only when the process has an
     * inheritable set; never the inheritable set itself.
     */
    @Test
    void capGoesToTheAmbientSetWhenTheProcessHasAnInheritableOne() throws Exception {
        // CAP_NET_RAW (bit 13) inheritable and in the bounding set, not permitted: the container
        // may pass it on, but its processes do not hold it.
        TestBundle inh = running("inh", t -> {
            t.add("process.capabilities.bounding", "\"CAP_NET_RAW\"");
            t.set("process.capabilities.inheritable", "[\"CAP_NET_RAW\"]");
        });
        String status = exec(inh, "-u", "1000", "--cap", "CAP_NET_RAW", inh.id(), "cat", "/proc/self/status").expect(0).out();
        assertEquals("0000000000002000", statusField(status, "CapInh"), status);
        assertEquals("0000000000002000", statusField(status, "CapAmb"), status);
        // A user other than root holds what is ambient, and only that.
        assertEquals("0000000000002000", statusField(status, "CapEff"), status);
        status = exec(inh, "-u", "1000", inh.id(), "cat", "/proc/self/status").expect(0).out();
        assertEquals("0000000000000000", statusField(status, "CapAmb"), status);
        assertEquals("0000000000000000", statusField(status, "CapEff"), status);

        TestBundle none = running("none", t -> {});
        status = exec(none, "--cap", "CAP_SYS_ADMIN", none.id(), "cat", "/proc/self/status").expect(0).out();
        assertEquals("0000000000000000", statusField(status, "CapInh"), status);
        assertEquals("0000000000000000", statusField(status, "CapAmb"), status);
        assertTrue((Long.parseLong(statusField(status, "CapEff"), 16) & (1L << 21)) != 0, status);
    }

    // ---- the session keyring ----

    private TestBundle withKeyringProbe(String name, Consumer<TestBundle> edit, boolean noNewKeyring) throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve(name)).sh("/bin/keyring-probe > /tmp/init-keyring; exec sleep 1000");
        b.set("root.readonly", "false");
        edit.accept(b);
        b.write();
        Files.copy(program("keyring-probe"), b.rootfs().resolve("bin/keyring-probe"));
        // Writable for a user namespace's root too.
        Files.setPosixFilePermissions(b.rootfs().resolve("tmp"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        ids.add(b.id());
        List<String> create = new ArrayList<>(List.of("create", "--bundle", b.dir().toString()));
        if (noNewKeyring) create.add("--no-new-keyring");
        create.add(b.id());
        brig.brig(b.dir(), Map.of(), create).expect(0);
        brig.brig(b.dir(), "start", b.id()).expect(0);
        Path written = b.rootfs().resolve("tmp/init-keyring");
        for (int k = 0; k < 500 && (!Files.exists(written) || Files.size(written) == 0); k++) Thread.sleep(10);
        return b;
    }

    /** The exec'd process has the container's session keyring: the same serial as its first process's. */
    @Test
    void execJoinsTheContainersSessionKeyring() throws Exception {
        for (boolean userns : List.of(false, true)) {
            TestBundle b = withKeyringProbe(userns ? "keys-u" : "keys", t -> {
                if (userns) t.userNamespace(100000, 65536);
            }, false);
            String init = Files.readString(b.rootfs().resolve("tmp/init-keyring"));
            assertTrue(init.matches("[0-9]+ keyring;.*;_ses\\." + b.id() + "\n"), init);
            assertEquals(init, exec(b, b.id(), "/bin/keyring-probe").expect(0).out(), "userns " + userns);
            assertEquals(init, exec(b, "-u", "1000", b.id(), "/bin/keyring-probe").expect(0).out(), "userns " + userns);
            String plan = exec(b, "--explain", b.id(), "true").expect(0).out();
            assertTrue(plan.contains("join the container's session keyring _ses." + b.id()), plan);
        }
        // --no-new-keyring at create: exec keeps its caller's too.
        TestBundle kept = withKeyringProbe("kept", t -> {}, true);
        String mine = exec(kept, kept.id(), "/bin/keyring-probe").expect(0).out();
        assertFalse(mine.contains("_ses." + kept.id()), mine);
        assertFalse(exec(kept, "--explain", kept.id(), "true").expect(0).out().contains("keyring"));
    }

    // ---- --console-socket ----

    private Process startEngine(Path socket) throws Exception {
        Process p = ConsoleEngine.start(socket, dir.resolve("engine-" + socket.getFileName() + ".err"));
        started.add(p);
        return p;
    }

    /**
     * The engine's way (containerd's shim: `exec -d --console-socket S --process FILE` with a
     * terminal in the file, or -t): the master arrives on the socket, a tty made in the
     * container, and the process's output and input go through it.
     */
    @Test
    void consoleSocketReceivesTheTerminalsMaster() throws Exception {
        TestBundle b = running("tty", t -> {});
        Path socket = dir.resolve("c1.sock");
        Process engine = startEngine(socket);
        exec(b, "-d", "-t", "--console-socket", socket.toString(), b.id(), "sh", "-c", "echo on-$(tty); read line; echo got:$line")
                .expect(0);
        assertEquals("received /dev/ptmx fd-is-a-tty\n", Files.readString(dir.resolve("engine-c1.sock.err")));
        String said = ConsoleEngine.readUntil(engine.getInputStream(), s -> s.contains("on-/dev/"));
        assertTrue(said.contains("on-/dev/pts/"), said);
        engine.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        engine.getOutputStream().flush();
        assertTrue(ConsoleEngine.readUntil(engine.getInputStream(), s -> s.contains("got:hello")).contains("got:hello"));
        assertTrue(engine.waitFor(10, TimeUnit.SECONDS), "the master did not end with the process");

        Path file = dir.resolve("process.json");
        Files.writeString(file, "{\"terminal\":true,\"args\":[\"sh\",\"-c\",\"echo from-file-$(tty)\"],\"cwd\":\"/\","
                + "\"user\":{\"uid\":0,\"gid\":0},\"env\":[\"PATH=/bin\"]}");
        Path socket2 = dir.resolve("c2.sock");
        Process engine2 = startEngine(socket2);
        Path pidFile = dir.resolve("exec.pid");
        exec(b, "-d", "--console-socket", socket2.toString(), "--pid-file", pidFile.toString(), "--process", file.toString(), b.id())
                .expect(0);
        assertTrue(Files.readString(pidFile).matches("[0-9]+"));
        assertTrue(ConsoleEngine.readUntil(engine2.getInputStream(), s -> s.contains("from-file-/dev/pts/")).contains("from-file-/dev/pts/"));
        assertEquals("running", brig.status(b.id()));
    }

    /** runc's words for what does not go together; a socket nobody listens on fails with nothing started. */
    @Test
    void consoleSocketMisuseIsRefusedWithRuncsWords() throws Exception {
        TestBundle b = running("mis", t -> {});
        Path socket = dir.resolve("c.sock");
        startEngine(socket);
        Brig.Result r = exec(b, "-t", "--console-socket", socket.toString(), b.id(), "true");
        assertEquals("brig: cannot use console socket if brig will not detach or allocate tty\n", r.err());
        r = exec(b, "-d", "--console-socket", socket.toString(), b.id(), "true");
        assertEquals("brig: cannot use console socket if brig will not detach or allocate tty\n", r.err());
        r = exec(b, "-d", "-t", b.id(), "true");
        assertEquals("brig: cannot allocate tty if brig will detach without setting console socket\n", r.err());
        r = exec(b, "-d", "-t", "--console-socket", dir.resolve("nobody.sock").toString(), b.id(), "sleep", "1000");
        assertEquals(1, r.exit());
        assertEquals("brig: --console-socket: connect " + dir.resolve("nobody.sock") + ": ENOENT: no such file or directory\n", r.err());
        int init = Json.parseQuietly(brig.brig(null, "state", b.id()).expect(0).out()).getAsJsonObject().get("pid").getAsInt();
        assertEquals("[" + init + "]\n", brig.brig(null, "ps", "--format", "json", b.id()).expect(0).out(), "a refused exec left a process");
    }

    // ---- the join order ----

    /**
     * A container with a user namespace of its own that joined a network namespace made under
     * the host's (as an engine prepares one): exec joins that one before the user namespace, for
     * after it Brig has no rights in the host's (setns: EPERM).
     */
    @Test
    void aNetworkNamespaceOfTheHostsUserNamespaceIsJoinedBeforeTheContainers() throws Exception {
        Process holder = new ProcessBuilder("unshare", "--net", "sleep", "1000").start();
        started.add(holder);
        Path netns = Path.of("/proc/" + holder.pid() + "/ns/net");
        for (int k = 0; k < 200 && Files.readSymbolicLink(netns).equals(Files.readSymbolicLink(Path.of("/proc/self/ns/net"))); k++) {
            Thread.sleep(10);
        }
        String net = Files.readSymbolicLink(netns).toString();
        assertNotEquals(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString(), net);
        TestBundle b = running("netns", t -> {
            t.userNamespace(100000, 65536);
            JsonArrayEdit.replaceNamespace(t, "network", netns.toString());
        });
        assertEquals(net + "\n0\n", exec(b, b.id(), "sh", "-c", "readlink /proc/self/ns/net; id -u").expect(0).out());
        String plan = exec(b, "--explain", b.id(), "true").expect(0).out();
        assertTrue(plan.contains("join the network, user, "), plan);
    }

    /** Edits of linux.namespaces. */
    private static final class JsonArrayEdit {
        static void replaceNamespace(TestBundle t, String type, String path) {
            com.google.gson.JsonArray ns = t.linux().getAsJsonArray("namespaces");
            for (int k = ns.size() - 1; k >= 0; k--) {
                if (ns.get(k).getAsJsonObject().get("type").getAsString().equals(type)) ns.remove(k);
            }
            t.add("linux.namespaces", "{\"type\":\"" + type + "\",\"path\":\"" + path + "\"}");
        }
    }
}
