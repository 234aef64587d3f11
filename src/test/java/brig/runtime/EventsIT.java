package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.cgroups.Hierarchy;
import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonObject;
import java.io.File;
import java.io.IOException;
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
 * `brig events` on real containers made with create and start: runc's stats line, a line every
 * interval until the container stops, an OOM line when the OOM killer strikes, and runc's
 * errors.
 */
@ExtendWith(NoLeaks.class)
class EventsIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();
    private final List<Process> watchers = new ArrayList<>();

    @BeforeEach
    void setUp() {
        brig = new Lifecycle(dir.resolve("state"), dir);
    }

    @AfterEach
    void removeContainers() {
        for (Process p : watchers) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (String id : ids) brig.brig(null, "delete", "--force", id);
    }

    private TestBundle started(String name, java.util.function.Consumer<TestBundle> edit) throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve(name));
        edit.accept(b);
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), "create", "--bundle", b.dir().toString(), b.id()).expect(0);
        brig.brig(b.dir(), "start", b.id()).expect(0);
        return b;
    }

    /** `brig events ARGS` running in the background, its lines going to {@code out}. */
    private Process events(Path out, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Brig.launcher().toString(), "--root", brig.root().toString(), "events"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(new File("/dev/null"))
                .redirectOutput(out.toFile()).redirectError(out.resolveSibling(out.getFileName() + ".err").toFile());
        pb.environment().clear();
        Process p = pb.start();
        watchers.add(p);
        return p;
    }

    private static List<JsonObject> lines(Path out) throws IOException {
        List<JsonObject> all = new ArrayList<>();
        for (String l : Files.readAllLines(out)) {
            if (!l.isBlank()) all.add(Json.parseQuietly(l).getAsJsonObject());
        }
        return all;
    }

    /** Waits (up to {@code seconds}) until {@code out} holds a line of that type; returns all lines then. */
    private static List<JsonObject> awaitLine(Path out, String type, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            List<JsonObject> all = lines(out);
            if (all.stream().anyMatch(o -> o.get("type").getAsString().equals(type))) return all;
            Thread.sleep(50);
        }
        throw new AssertionError("no " + type + " line in " + seconds + " s: " + Files.readString(out)
                + Files.readString(out.resolveSibling(out.getFileName() + ".err")));
    }

    @Test
    void statsOfARunningContainerAsRuncPrintsThem() throws Exception {
        TestBundle b = started("stats", t -> t.args("/bin/busybox", "sleep", "1000"));
        Brig.Result r = brig.brig(null, "events", "--stats", b.id()).expect(0);
        List<String> out = r.out().lines().toList();
        assertEquals(1, out.size(), r.out());
        JsonObject e = Json.parseQuietly(out.get(0)).getAsJsonObject();
        assertEquals("stats", e.get("type").getAsString());
        assertEquals(b.id(), e.get("id").getAsString());
        JsonObject data = e.getAsJsonObject("data");
        assertTrue(data.getAsJsonObject("memory").getAsJsonObject("usage").get("usage").getAsLong() > 0, data.toString());
        assertTrue(data.getAsJsonObject("pids").get("current").getAsLong() >= 1, data.toString());
        assertTrue(data.getAsJsonObject("cpu").getAsJsonObject("usage").get("total").getAsLong() > 0, data.toString());
        // runc's other keys, its Go nil included.
        for (String k : List.of("cpuset", "blkio", "hugetlb", "intel_rdt", "network_interfaces")) assertTrue(data.has(k), k + ": " + data);
        assertTrue(data.get("network_interfaces").isJsonNull());
        // v1's cpuset flags as the files say (runc reads them; sched_relax_domain_level is -1 by default).
        for (Hierarchy h : Hierarchy.discover()) {
            Path cs = h.mountPoint().resolve("brig").resolve(b.id());
            for (String flag : List.of("sched_load_balance", "sched_relax_domain_level", "cpu_exclusive")) {
                Path f = cs.resolve("cpuset." + flag);
                if (Files.exists(f)) {
                    assertEquals(Long.parseLong(Files.readString(f).strip()),
                            data.getAsJsonObject("cpuset").get(flag).getAsLong(), flag);
                }
            }
        }
    }

    @Test
    void anIntervalPrintsStatsUntilTheContainerIsKilled() throws Exception {
        TestBundle b = started("interval", t -> t.args("/bin/busybox", "sleep", "1000"));
        Path out = dir.resolve("events.out");
        Process p = events(out, "--interval", "200ms", b.id());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (lines(out).size() < 3 && System.nanoTime() < deadline) Thread.sleep(50);
        assertTrue(p.isAlive(), "events ended while the container runs: " + Files.readString(out));
        brig.brig(null, "kill", b.id(), "KILL").expect(0);
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "events did not end with the container");
        assertEquals(0, p.exitValue(), Files.readString(out.resolveSibling("events.out.err")));
        List<JsonObject> all = lines(out);
        assertTrue(all.size() >= 3, all.toString());
        for (JsonObject o : all) {
            assertEquals("stats", o.get("type").getAsString(), o.toString());
            assertEquals(b.id(), o.get("id").getAsString());
        }
        assertEquals("", Files.readString(out.resolveSibling("events.out.err")));
    }

    @Test
    void anOomKillIsReported() throws Exception {
        // The eater starts once the test has seen events' first line (its watch is registered
        // by then): it waits for /go, which the test makes in the rootfs.
        TestBundle b = started("oom", t -> t.set("linux.resources", "{\"memory\":{\"limit\":20971520,\"swappiness\":0}}")
                .sh("while [ ! -e /go ]; do sleep 0.1; done; x=$(head -c 104857600 /dev/zero | tr '\\0' a); echo ${#x}"));
        Path out = dir.resolve("oom.out");
        Process p = events(out, "--interval", "100ms", b.id());
        awaitLine(out, "stats", 20);
        Files.writeString(b.rootfs().resolve("go"), "");
        List<JsonObject> all = awaitLine(out, "oom", 20);
        JsonObject oom = all.stream().filter(o -> o.get("type").getAsString().equals("oom")).findFirst().orElseThrow();
        assertEquals(b.id(), oom.get("id").getAsString());
        assertEquals(2, oom.size(), "runc's oom line has no data: " + oom);
        // The shell survives its eater and exits: the container stops, and events with it.
        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "events did not end with the container");
        assertEquals(0, p.exitValue());
    }

    @Test
    void theCallersSignalEndsIt() throws Exception {
        // The launcher's supervisor gives events (a long-running verb) the caller's signals at once.
        TestBundle b = started("signal", t -> t.args("/bin/busybox", "sleep", "1000"));
        Path out = dir.resolve("signal.out");
        Process p = events(out, "--interval", "100ms", b.id());
        awaitLine(out, "stats", 20);
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "events did not end on SIGTERM");
        for (int k = 0; k < 100 && p.descendants().findAny().isPresent(); k++) Thread.sleep(50);
        assertEquals(List.of(), p.descendants().map(ProcessHandle::pid).toList(), "its JVM outlived it");
        assertEquals("running", brig.status(b.id()), "the container goes on");
    }

    @Test
    void runcsErrors() throws Exception {
        Brig.Result none = brig.brig(null, "events", NoLeaks.PREFIX + "nope");
        assertEquals(1, none.exit());
        assertEquals("brig: container does not exist\n", none.err());
        assertEquals("brig: container does not exist\n", brig.brig(null, "events", "--stats", NoLeaks.PREFIX + "nope").err());

        TestBundle b = started("stopped", t -> t.args("/bin/busybox", "true"));
        brig.awaitStatus(b.id(), "stopped");
        Brig.Result stopped = brig.brig(null, "events", b.id());
        assertEquals(1, stopped.exit());
        assertEquals("brig: container with id " + b.id() + " is not running\n", stopped.err());
        assertEquals("brig: container with id " + b.id() + " is not running\n", brig.brig(null, "events", "--stats", b.id()).err());

        assertEquals("brig: duration interval must be greater than 0\n", brig.brig(null, "events", "--interval", "0s", b.id()).err());
        Brig.Result bad = brig.brig(null, "events", "--interval", "5 seconds", b.id());
        assertEquals(1, bad.exit());
        assertTrue(bad.err().contains("invalid value \"5 seconds\" for flag -interval"), bad.err());
        assertEquals(1, brig.brig(null, "events").exit());
    }

    @Test
    void deleteOfAMissingContainerSaysRuncsWords() {
        Brig.Result r = brig.brig(null, "delete", NoLeaks.PREFIX + "nope");
        assertEquals(1, r.exit());
        assertEquals("brig: container does not exist\n", r.err());
        brig.brig(null, "delete", "--force", NoLeaks.PREFIX + "nope").expect(0);
    }
}
