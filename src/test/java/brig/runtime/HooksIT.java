package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCI hooks as a user sees them: each kind at its time and in its namespaces, with the state on
 * stdin, exactly its argv and env, its timeout, and what a failure does. Every hook appends one
 * line to a log on the host: its name, the mount and pid namespaces it ran in, and the status
 * and pid of the state it read.
 */
@ExtendWith(NoLeaks.class)
class HooksIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private TestBundle b;
    private Path log;
    private final List<String> ids = new ArrayList<>();

    /** What a hook writes to the log: NAME MNT-NS PID-NS STATUS PID. */
    private static final String RECORD = "state=$(cat); "
            + "st=$(echo \"$state\" | sed -n 's/.*\"status\":\"\\([a-z]*\\)\".*/\\1/p'); "
            + "pid=$(echo \"$state\" | sed -n 's/.*\"pid\":\\([0-9]*\\).*/\\1/p'); "
            + "echo \"$1 $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid) $st $pid\" >> \"$2\"";

    record Line(String name, String mnt, String pid, String status, int statePid) {
        static Line of(String text) {
            String[] f = text.split(" ");
            return new Line(f[0], f[1], f[2], f.length > 3 ? f[3] : "", f.length > 4 ? Integer.parseInt(f[4]) : -1);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        brig = new Lifecycle(dir.resolve("state"), dir);
        b = TestBundle.busybox(dir.resolve("bundle")).args("true");
        ids.add(b.id());
        Path logs = Files.createDirectories(dir.resolve("hooklog"));
        log = logs.resolve("log");
        Files.writeString(dir.resolve("hook.sh"), "#!/bin/sh\n" + RECORD + "\n");
        Files.setPosixFilePermissions(dir.resolve("hook.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        // The startContainer hook runs after pivot_root: it reaches the log through this bind.
        b.add("mounts", "{\"destination\":\"/hooklog\",\"type\":\"bind\",\"source\":\"" + logs + "\",\"options\":[\"rbind\"]}");
    }

    @AfterEach
    void removeContainers() {
        for (String id : ids) brig.brig(null, "delete", "--force", id);
    }

    /** A hook running hook.sh on the host (its path resolves in the runtime's mount namespace). */
    private String hostHook(String name) {
        return "{\"path\":\"" + dir.resolve("hook.sh") + "\",\"args\":[\"hook.sh\",\"" + name + "\",\"" + log + "\"]}";
    }

    /** A startContainer hook: the container's busybox sh, writing through the bind. */
    private static String containerHook(String name) {
        JsonObject h = new JsonObject();
        h.addProperty("path", "/bin/sh");
        JsonArray a = new JsonArray();
        for (String s : List.of("sh", "-c", RECORD, "sh", name, "/hooklog/log")) a.add(s);
        h.add("args", a);
        return Json.compact(h);
    }

    private void hooks(String json) {
        b.set("hooks", json);
        b.write();
    }

    private void allHooks() {
        hooks("{\"prestart\":[" + hostHook("prestart") + "],\"createRuntime\":[" + hostHook("createRuntime") + "],"
                + "\"createContainer\":[" + hostHook("createContainer") + "],\"startContainer\":[" + containerHook("startContainer") + "],"
                + "\"poststart\":[" + hostHook("poststart") + "],\"poststop\":[" + hostHook("poststop") + "]}");
    }

    private List<Line> lines() throws Exception {
        return Files.exists(log) ? Files.readAllLines(log).stream().map(Line::of).toList() : List.of();
    }

    private static List<String> names(List<Line> lines) {
        return lines.stream().map(Line::name).toList();
    }

    private Brig.Result cli(String... args) {
        return brig.brig(b.dir(), args);
    }

    private static String ns(String kind) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/ns/" + kind)).toString();
    }

    /**
     * The runtime-spec's order and namespaces: prestart, createRuntime, poststart and poststop
     * on the host with the host's pid; createContainer and startContainer in the container's
     * mount and pid namespaces, seeing themselves as its pid 1's children.
     */
    private void assertOrderAndNamespaces(List<Line> got, int hostPid) throws Exception {
        assertEquals(List.of("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"), names(got), got.toString());
        String mnt = ns("mnt"), pid = ns("pid");
        for (Line l : got) {
            boolean host = !l.name().equals("createContainer") && !l.name().equals("startContainer");
            if (host) {
                assertEquals(mnt, l.mnt(), l.toString());
                assertEquals(pid, l.pid(), l.toString());
            } else {
                assertNotEquals(mnt, l.mnt(), l.toString());
                assertNotEquals(pid, l.pid(), l.toString());
                assertEquals(1, l.statePid(), "in the container's namespaces, the pid as the container sees it: " + l);
            }
        }
        assertEquals(got.get(2).mnt(), got.get(3).mnt(), "both container hooks in the container's mount namespace");
        assertEquals(List.of("creating", "creating", "creating", "created", "running", "stopped"),
                got.stream().map(Line::status).toList());
        int host = got.get(0).statePid();
        assertTrue(host > 1, got.toString());
        if (hostPid > 0) assertEquals(hostPid, host, "the state's pid is the one `brig state` shows");
        assertEquals(host, got.get(1).statePid());
        assertEquals(host, got.get(4).statePid());
        assertEquals(0, got.get(5).statePid(), "a stopped container's state has pid 0, as runc's");
    }

    @Test
    void runCallsEveryHookInOrderInItsNamespaces() throws Exception {
        allHooks();
        Brig.Result r = b.run();
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        // The poststop hook ran from the supervisor's `brig delete` once the container ended.
        assertOrderAndNamespaces(lines(), -1);
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
    }

    @Test
    void createStartDeleteCallEachHookAtItsStep() throws Exception {
        allHooks();
        b.args("sleep", "1000").write();
        cli("create", b.id()).expect(0);
        assertEquals(List.of("prestart", "createRuntime", "createContainer"), names(lines()));
        JsonObject state = Json.parseQuietly(cli("state", b.id()).expect(0).out()).getAsJsonObject();
        assertEquals("created", state.get("status").getAsString());
        int pid = state.get("pid").getAsInt();
        cli("start", b.id()).expect(0);
        assertEquals(List.of("prestart", "createRuntime", "createContainer", "startContainer", "poststart"), names(lines()));
        assertEquals("running", brig.status(b.id()));
        cli("kill", b.id(), "KILL").expect(0);
        brig.awaitStatus(b.id(), "stopped");
        assertEquals(5, lines().size(), "nothing runs when the container stops");
        cli("delete", b.id()).expect(0);
        assertOrderAndNamespaces(lines(), pid);
    }

    /**
     * A hook's argv is its args (args[0] is argv[0]), its environment exactly its env: nothing
     * of brig's (brig runs here with LEAK=yes). Host hooks write to brig's stdout, container
     * hooks to the container's.
     */
    @Test
    void aHookGetsExactlyItsArgvAndEnv() throws Exception {
        hooks("{\"prestart\":[{\"path\":\"/usr/bin/env\",\"args\":[\"env\"],\"env\":[\"ONLY=1\",\"TWO=2 words\"]}],"
                + "\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"named-so\",\"-c\",\"echo argv0=$(tr '\\\\0' '\\\\n' < /proc/$$/cmdline | head -1) $0\",\"x\"]}],"
                + "\"startContainer\":[{\"path\":\"/bin/env\",\"env\":[\"IN=container\"]}]}");
        Brig.Result r = brig.brig(b.dir(), Map.of("LEAK", "yes"), List.of("run", "--bundle", b.dir().toString(), b.id()));
        assertEquals(0, r.exit(), r.err());
        assertEquals("ONLY=1\nTWO=2 words\nargv0=named-so x\nIN=container\n", r.out());
    }

    @Test
    void aHookPastItsTimeoutIsKilledAndCreateLeavesNothing() throws Exception {
        // The hook's own child carries the test's prefix: NoLeaks finds it if only the hook died.
        hooks("{\"createRuntime\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"sh -c 'sleep 1000; : " + NoLeaks.PREFIX + "' & wait\"],\"timeout\":1}],"
                + "\"poststop\":[" + hostHook("poststop") + "]}");
        long t0 = System.nanoTime();
        Brig.Result r = cli("create", b.id());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(1, r.exit(), r.err());
        assertEquals("brig: hooks.createRuntime[0] /bin/sh: still running after its timeout of 1 s (hooks.createRuntime[0].timeout): killed\n", r.err());
        assertTrue(ms < 20_000, ms + " ms");
        assertFalse(Files.exists(brig.root().resolve(b.id())), "no state left");
        assertEquals("brig: container does not exist\n", cli("state", b.id()).err());
        // The lifecycle goes on at its end: the container is destroyed and poststop runs.
        assertEquals(List.of("poststop"), names(lines()));
    }

    @Test
    void aFailingCreateRuntimeHookAbortsWithOneLineNamingIt() throws Exception {
        hooks("{\"createRuntime\":[" + hostHook("createRuntime") + ",{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 3\"]}],"
                + "\"createContainer\":[" + hostHook("createContainer") + "]}");
        Brig.Result r = cli("create", b.id());
        assertEquals(1, r.exit());
        assertEquals("brig: hooks.createRuntime[1] /bin/sh: exit status 3\n", r.err());
        assertEquals(List.of("createRuntime"), names(lines()), "nothing after the failed hook runs");
        assertFalse(Files.exists(brig.root().resolve(b.id())));
        // The same for run.
        r = b.run();
        assertEquals(1, r.exit());
        assertEquals("brig: hooks.createRuntime[1] /bin/sh: exit status 3\n", r.err());
    }

    @Test
    void aFailingCreateContainerHookAbortsRun() throws Exception {
        hooks("{\"createContainer\":[{\"path\":\"/nonexistent/hook\"}]}");
        Brig.Result r = b.run();
        assertEquals(1, r.exit());
        assertEquals("brig: hooks.createContainer[0] /nonexistent/hook: execve: ENOENT: no such file or directory\n", r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
        // The helper's timeout, in the container.
        hooks("{\"createContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"sleep 1000\"],\"timeout\":1}]}");
        r = b.run();
        assertEquals(1, r.exit());
        assertEquals("brig: hooks.createContainer[0] /bin/sh: still running after its timeout of 1 s (hooks.createContainer[0].timeout): killed\n", r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
    }

    @Test
    void aFailingPoststartHookIsAWarningAndTheContainerRuns() throws Exception {
        hooks("{\"poststart\":[{\"path\":\"/bin/false\"}," + hostHook("poststart") + "],"
                + "\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 4\"]}," + hostHook("poststop") + "]}");
        b.args("sleep", "1000").write();
        cli("create", b.id()).expect(0);
        Brig.Result r = cli("start", b.id());
        assertEquals(0, r.exit(), r.err());
        assertEquals("brig: warning: hooks.poststart[0] /bin/false: exit status 1\n", r.err());
        assertEquals("running", brig.status(b.id()));
        assertEquals(List.of("poststart"), names(lines()), "the next hook runs all the same");
        r = cli("delete", "--force", b.id());
        assertEquals(0, r.exit(), r.err());
        assertEquals("brig: warning: hooks.poststop[0] /bin/sh: exit status 4\n", r.err());
        assertEquals(List.of("poststart", "poststop"), names(lines()));
    }

    @Test
    void aFailingStartContainerHookFailsStartAndLeavesTheContainerStopped() throws Exception {
        hooks("{\"startContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 5\"]}],\"poststart\":[" + hostHook("poststart") + "]}");
        b.args("sleep", "1000").write();
        cli("create", b.id()).expect(0);
        Brig.Result r = cli("start", b.id());
        assertEquals(1, r.exit());
        assertEquals("brig: hooks.startContainer[0] /bin/sh: exit status 5\n", r.err());
        assertEquals("stopped", brig.status(b.id()));
        assertEquals(List.of(), names(lines()), "no poststart after a failed start");
        assertTrue(cli("ps", "--format", "json", b.id()).out().strip().equals("[]"), "nothing runs in it");
        cli("delete", b.id()).expect(0);
    }
}
