package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Busybox;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * runc's lifecycle with brig's CLI, as an engine or a person drives it: create, start, state,
 * list, ps, kill, pause, resume, delete, with runc's output and error texts.
 */
@ExtendWith(NoLeaks.class)
class LifecycleIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();

    @BeforeEach
    void setUp() {
        brig = new Lifecycle(dir.resolve("state"), dir);
    }

    /** Whatever a test made goes, even when it failed half-way. */
    @AfterEach
    void removeContainers() {
        for (String id : ids) brig.brig(null, "delete", "--force", id);
    }

    private TestBundle bundle(String name, String... args) throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve(name)).args(args);
        b.write();
        ids.add(b.id());
        return b;
    }

    private void create(TestBundle b, String... flags) {
        List<String> args = new ArrayList<>(List.of("create", "--bundle", b.dir().toString()));
        args.addAll(List.of(flags));
        args.add(b.id());
        brig.brig(b.dir(), java.util.Map.of(), args).expect(0);
    }

    private JsonObject state(String id) {
        return Json.parseQuietly(brig.brig(null, "state", id).expect(0).out()).getAsJsonObject();
    }

    /** The seed's sequence, word for word: spec, create, list, state, start, ps, kill, delete. */
    @Test
    void theSeedsSequenceWordForWord() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("mycontainer"));
        Busybox.rootfs(bundle.resolve("rootfs"));
        String id = NoLeaks.PREFIX + "seed";
        ids.add(id);
        brig.brig(bundle, "spec").expect(0);
        // As runc's README says: no terminal, a program that stays.
        JsonObject config = Json.parseObjectFile(bundle.resolve("config.json"));
        config.getAsJsonObject("process").addProperty("terminal", false);
        JsonArray args = new JsonArray();
        args.add("sleep");
        args.add("1000");
        config.getAsJsonObject("process").add("args", args);
        Files.writeString(bundle.resolve("config.json"), Json.pretty(config));

        brig.brig(bundle, "create", id).expect(0);
        String list = brig.brig(bundle, "list").expect(0).out();
        List<String> lines = list.lines().toList();
        assertEquals(2, lines.size(), list);
        assertTrue(lines.get(0).matches("ID +PID +STATUS +BUNDLE +CREATED +OWNER"), list);
        assertTrue(lines.get(1).matches(java.util.regex.Pattern.quote(id) + " +[1-9][0-9]* +created +"
                + java.util.regex.Pattern.quote(bundle.toString()) + " +20[0-9-]+T[0-9:.]+Z +root"), list);

        JsonObject s = state(id);
        assertEquals("created", s.get("status").getAsString());
        int pid = s.get("pid").getAsInt();
        assertTrue(pid > 0, s.toString());
        assertEquals(id, s.get("id").getAsString());
        assertEquals(bundle.toString(), s.get("bundle").getAsString());
        assertEquals(bundle.resolve("rootfs").toString(), s.get("rootfs").getAsString());
        assertEquals("", s.get("owner").getAsString());
        assertTrue(s.has("ociVersion") && s.has("created"), s.toString());
        assertTrue(Files.exists(brig.root().resolve(id).resolve("exec.fifo")));

        brig.brig(bundle, "start", id).expect(0);
        assertEquals("running", state(id).get("status").getAsString());
        assertFalse(Files.exists(brig.root().resolve(id).resolve("exec.fifo")), "the fifo stays after start");

        String ps = brig.brig(bundle, "ps", id).expect(0).out();
        List<String> psLines = ps.lines().toList();
        assertTrue(psLines.get(0).contains("PID") && psLines.get(0).contains("CMD"), ps);
        assertEquals(2, psLines.size(), ps);
        assertTrue(psLines.get(1).contains(" " + pid + " ") && psLines.get(1).endsWith("sleep 1000"), ps);
        assertEquals("[" + pid + "]\n", brig.brig(bundle, "ps", "--format", "json", id).expect(0).out());

        brig.brig(bundle, "kill", id, "KILL").expect(0);
        brig.awaitStatus(id, "stopped");
        assertEquals(0, state(id).get("pid").getAsInt(), "a stopped container shows pid 0, as runc's");
        brig.brig(bundle, "delete", id).expect(0);
        Brig.Result gone = brig.brig(bundle, "state", id);
        assertEquals(1, gone.exit());
        assertEquals("brig: container does not exist\n", gone.err());
        assertFalse(Files.exists(brig.root().resolve(id)));
    }

    /** created, running, paused, running, stopped; and runc's texts where a verb does not fit the status. */
    @Test
    void statusTransitionsAndRuncsTexts() throws Exception {
        TestBundle b = bundle("b", "sleep", "1000");
        Path pidFile = dir.resolve("ctr.pid");
        create(b, "--pid-file", pidFile.toString());
        String id = b.id();
        // Written before create returned, and the container's own pid.
        int pid = state(id).get("pid").getAsInt();
        assertEquals(Integer.toString(pid), Files.readString(pidFile));
        assertEquals("created", brig.status(id));
        // The process waits, its program not run yet.
        assertTrue(Files.readString(Path.of("/proc/" + pid + "/cmdline")).startsWith("brig-helper"));

        Brig.Result again = brig.brig(b.dir(), java.util.Map.of(), List.of("create", "--bundle", b.dir().toString(), id));
        assertEquals(1, again.exit());
        assertEquals("brig: container with id exists: " + id + "\n", again.err());
        assertEquals("created", brig.status(id), "a refused create touched the container");

        brig.brig(null, "start", id).expect(0);
        assertEquals("running", brig.status(id));
        assertEquals("brig: cannot start an already running container\n", brig.brig(null, "start", id).err());
        brig.brig(null, "pause", id).expect(0);
        assertEquals("paused", brig.status(id));
        assertEquals("brig: cannot start a container in the paused state\n", brig.brig(null, "start", id).err());
        brig.brig(null, "resume", id).expect(0);
        assertEquals("running", brig.status(id));
        Brig.Result resume = brig.brig(null, "resume", id);
        assertEquals(1, resume.exit());
        assertEquals("brig: container not paused\n", resume.err());

        brig.brig(null, "kill", id, "9").expect(0);
        brig.awaitStatus(id, "stopped");
        Brig.Result start = brig.brig(null, "start", id);
        assertEquals(1, start.exit());
        assertEquals("brig: cannot start a container that has stopped\n", start.err());
        Brig.Result kill = brig.brig(null, "kill", id, "KILL");
        assertEquals(1, kill.exit());
        assertEquals("brig: container not running\n", kill.err());
        assertEquals("brig: container not running\n", brig.brig(null, "pause", id).err());
        brig.brig(null, "delete", id).expect(0);

        for (String verb : List.of("state", "start", "kill", "ps", "pause", "resume")) {
            Brig.Result r = brig.brig(null, verb, id);
            assertEquals(1, r.exit(), verb);
            assertEquals("brig: container does not exist\n", r.err(), verb);
        }
    }

    /**
     * The state records the first process's start time: once it has exited and its pid names
     * another process, the container is stopped, not running, and kill leaves that process alone.
     */
    @Test
    void aReusedPidNeverShowsRunning() throws Exception {
        TestBundle b = bundle("b", "sleep", "1000");
        create(b);
        brig.brig(null, "kill", b.id(), "SIGKILL").expect(0);
        brig.awaitStatus(b.id(), "stopped");
        // Another process now holds the pid the state names (a pid reused, made to order). Its
        // start time must fall in a later clock tick (10 ms): a warm create and kill take less.
        Thread.sleep(30);
        Process other = new ProcessBuilder("sleep", "1000").start();
        try {
            Path file = brig.root().resolve(b.id()).resolve("state.json");
            JsonObject s = Json.parseObjectFile(file);
            s.addProperty("pid", other.pid());
            Files.writeString(file, Json.compact(s));
            assertEquals("stopped", brig.status(b.id()));
            assertEquals(0, state(b.id()).get("pid").getAsInt());
            assertEquals("brig: container not running\n", brig.brig(null, "kill", b.id(), "KILL").err());
            brig.brig(null, "delete", b.id()).expect(0);
            assertTrue(other.isAlive(), "brig killed a process that is not the container's");
        } finally {
            other.destroyForcibly().waitFor();
        }
    }

    /** Signals by name with and without SIG, any case, and by number; an unknown one is refused. */
    @Test
    void killTakesNamesAndNumbersAndDefaultsToTerm() throws Exception {
        // A shell as pid 1 gets only the signals it handles: it reports which one came.
        TestBundle b = bundle("b", "/bin/sh", "-c", "trap 'echo TERM > /tmp/got; exit 3' TERM; trap 'echo USR1 >> /tmp/got' USR1; "
                + "while :; do sleep 0.05; done");
        b.set("root.readonly", "false"); // it writes what it got to /tmp
        b.write();
        create(b);
        brig.brig(null, "start", b.id()).expect(0);
        Brig.Result bad = brig.brig(null, "kill", b.id(), "NOSUCH");
        assertEquals(1, bad.exit());
        assertEquals("brig: unknown signal \"NOSUCH\"\n", bad.err());
        Path got = b.rootfs().resolve("tmp/got");
        // One at a time: a signal sent while the same one is still pending is merged with it
        // (a warm brig sends the three within a few milliseconds).
        List<String> names = List.of("usr1", "SIGUSR1", "10");
        for (int n = 0; n < names.size(); n++) {
            brig.brig(null, "kill", b.id(), names.get(n)).expect(0);
            for (int k = 0; k < 100 && (!Files.exists(got) || Files.readAllLines(got).size() < n + 1); k++) Thread.sleep(50);
        }
        assertEquals(List.of("USR1", "USR1", "USR1"), Files.readAllLines(got));
        brig.brig(null, "kill", b.id()).expect(0);
        brig.awaitStatus(b.id(), "stopped");
        assertEquals("TERM", Files.readAllLines(got).get(0));
    }

    /** kill --all reaches every process of the container, ps lists them all. */
    @Test
    void psListsAndKillAllKillsEveryProcess() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "sleep 1001 & sleep 1002 & wait");
        create(b);
        brig.brig(null, "start", b.id()).expect(0);
        List<Integer> pids = List.of();
        for (int k = 0; k < 100 && pids.size() < 3; k++) {
            JsonArray a = Json.parseQuietly(brig.brig(null, "ps", "--format", "json", b.id()).expect(0).out()).getAsJsonArray();
            pids = new ArrayList<>();
            for (var e : a) pids.add(e.getAsInt());
            Thread.sleep(50);
        }
        assertEquals(3, pids.size(), "sh and two sleeps: " + pids);
        String ps = brig.brig(null, "ps", b.id(), "-o", "pid,args").expect(0).out();
        assertTrue(ps.startsWith("    PID COMMAND\n") || ps.lines().findFirst().orElse("").contains("PID"), ps);
        assertTrue(ps.contains("sleep 1001") && ps.contains("sleep 1002"), ps);
        assertEquals(4, ps.lines().count(), ps);
        brig.brig(null, "kill", "--all", b.id(), "KILL").expect(0);
        brig.awaitStatus(b.id(), "stopped");
        for (int pid : pids) {
            for (int k = 0; k < 100 && Files.exists(Path.of("/proc/" + pid)); k++) Thread.sleep(20);
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "process " + pid + " survived kill --all");
        }
    }

    /** list: the table, -q, --format json (runc's fields, with the owner), and an empty root. */
    @Test
    void listFormats() throws Exception {
        assertEquals("ID          PID         STATUS      BUNDLE      CREATED     OWNER\n", brig.brig(null, "list").expect(0).out());
        assertEquals("null\n", brig.brig(null, "list", "--format", "json").expect(0).out());
        TestBundle one = bundle("one", "sleep", "1000"), two = bundle("two", "sleep", "1000");
        create(one);
        create(two);
        brig.brig(null, "start", two.id()).expect(0);
        List<String> sorted = new ArrayList<>(List.of(one.id(), two.id()));
        sorted.sort(null);
        assertEquals(String.join("\n", sorted) + "\n", brig.brig(null, "list", "-q").expect(0).out());
        JsonArray a = Json.parseQuietly(brig.brig(null, "list", "--format", "json").expect(0).out()).getAsJsonArray();
        assertEquals(2, a.size());
        for (var e : a) {
            JsonObject o = e.getAsJsonObject();
            assertEquals(o.get("id").getAsString().equals(one.id()) ? "created" : "running", o.get("status").getAsString());
            assertEquals("root", o.get("owner").getAsString());
            for (String f : List.of("ociVersion", "pid", "bundle", "rootfs", "created")) assertTrue(o.has(f), f + " in " + o);
        }
    }

    /** A terminal needs a console socket when brig does not stay: refused as runc refuses it, nothing made. */
    @Test
    void createWithATerminalAndNoConsoleSocketIsRefused() throws Exception {
        TestBundle b = bundle("b", "sleep", "1000");
        b.process().addProperty("terminal", true);
        b.write();
        Brig.Result r = brig.brig(b.dir(), java.util.Map.of(), List.of("create", "--bundle", b.dir().toString(), b.id()));
        assertEquals(1, r.exit());
        assertEquals("brig: cannot allocate tty if brig will detach without setting console socket\n", r.err());
        assertEquals("brig: container does not exist\n", brig.brig(null, "state", b.id()).err());
    }

    /** create's process outlives brig and its supervisor: the supervisor neither waits for it nor removes it. */
    @Test
    void aCreatedContainerOutlivesBrigAndItsSupervisor() throws Exception {
        TestBundle b = bundle("b", "sleep", "1000");
        long t0 = System.nanoTime();
        create(b);
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) < 20, "create waited for the container");
        int pid = state(b.id()).get("pid").getAsInt();
        // Its parent is no process of brig's any more (reparented when brig and the supervisor exited).
        long parent = ProcessHandle.of(pid).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L);
        String parentCmd = ProcessHandle.of(parent).flatMap(p -> p.info().commandLine()).orElse("");
        assertFalse(parentCmd.contains("brig"), "still brig's child: " + parentCmd);
        Thread.sleep(300);
        assertEquals("created", brig.status(b.id()));
        brig.brig(null, "start", b.id()).expect(0);
        assertEquals("running", brig.status(b.id()));
    }

    /** --preserve-fds hands the caller's fd 3 to the created container; --no-pivot enters the rootfs without pivot_root. */
    @Test
    void createPassesPreservedFdsAndHonoursNoPivot() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "echo through-fd-3 >&3");
        String plan = brig.brig(b.dir(), "create", "--explain", "--no-pivot", "--bundle", b.dir().toString(), b.id()).expect(0).out();
        assertTrue(plan.contains("chroot into it (no pivot_root)") && !plan.contains("pivot_root into"), plan);
        assertTrue(plan.contains("open the start fifo " + brig.root().resolve(b.id()).resolve("exec.fifo")), plan);
        Path out = dir.resolve("fd3");
        String cmd = "exec 3>>" + out + "; exec " + Brig.launcher() + " --root " + brig.root() + " create --preserve-fds 1 --no-pivot --bundle "
                + b.dir() + " " + b.id();
        brig.exec(b.dir(), java.util.Map.of(), List.of("/bin/sh", "-c", cmd)).expect(0);
        assertEquals("", Files.readString(out), "the program ran before start");
        brig.brig(null, "start", b.id()).expect(0);
        brig.awaitStatus(b.id(), "stopped");
        assertEquals(List.of("through-fd-3"), Files.readAllLines(out));
    }

    /**
     * Without a pid namespace of its own, what the container forked outlives its first process:
     * the container is stopped, and kill --all still reaches those processes in its cgroups;
     * plain kill says it is not running.
     */
    @Test
    void killAllReachesWhatAStoppedContainerLeftBehind() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "sleep 1003 >/dev/null 2>&1 &");
        JsonArray ns = b.linux().getAsJsonArray("namespaces");
        for (int k = ns.size() - 1; k >= 0; k--) {
            if (ns.get(k).getAsJsonObject().get("type").getAsString().equals("pid")) ns.remove(k);
        }
        b.write();
        create(b);
        brig.brig(null, "start", b.id()).expect(0);
        brig.awaitStatus(b.id(), "stopped");
        JsonArray left = Json.parseQuietly(brig.brig(null, "ps", "--format", "json", b.id()).expect(0).out()).getAsJsonArray();
        assertEquals(1, left.size(), "the sleep: " + left);
        assertEquals("brig: container not running\n", brig.brig(null, "kill", b.id(), "KILL").err());
        brig.brig(null, "kill", "--all", b.id(), "KILL").expect(0);
        int pid = left.get(0).getAsInt();
        for (int k = 0; k < 100 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); k++) Thread.sleep(20);
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the sleep survived kill --all");
        assertEquals("brig: container not running\n", brig.brig(null, "kill", "--all", b.id(), "KILL").err());
    }
}
