package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The state store under concurrency and crashes: per-container locks (flock) that serialize
 * commands on one container and never make different containers wait, many creates on one
 * root at once, and a create killed at any point leaving nothing `delete --force` cannot remove.
 */
@ExtendWith(NoLeaks.class)
class StateStoreIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private TestBundle bundle;
    private final List<String> ids = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        brig = new Lifecycle(dir.resolve("state"), dir);
        bundle = TestBundle.busybox(dir.resolve("b")).args("sleep", "1000");
        bundle.write();
    }

    @AfterEach
    void removeContainers() throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            for (String id : ids) pool.submit(() -> brig.brig(null, "delete", "--force", id));
        }
    }

    private String id(String suffix) {
        String id = bundle.id() + "-" + suffix;
        ids.add(id);
        return id;
    }

    private Brig.Result create(String id, Map<String, String> env) {
        return brig.brig(bundle.dir(), env, List.of("create", "--bundle", bundle.dir().toString(), id));
    }

    /**
     * 50 creates on one root at once all succeed, each with its own process, all "created".
     * (50 JVMs on 2 cores: 6 s here.)
     */
    @Test
    void fiftyParallelCreatesOnOneRootAllSucceed() throws Exception {
        int n = 50;
        List<String> mine = new ArrayList<>();
        for (int k = 0; k < n; k++) mine.add(id("p" + k));
        long t0 = System.nanoTime();
        List<Future<Brig.Result>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            for (String id : mine) results.add(pool.submit(() -> create(id, Map.of())));
        }
        for (int k = 0; k < n; k++) results.get(k).get().expect(0);
        System.out.printf("%d parallel creates: %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
        JsonArray list = Json.parseQuietly(brig.brig(null, "list", "--format", "json").expect(0).out()).getAsJsonArray();
        assertEquals(n, list.size());
        Set<String> seen = new HashSet<>();
        Set<Integer> pids = new HashSet<>();
        for (var e : list) {
            JsonObject o = e.getAsJsonObject();
            assertEquals("created", o.get("status").getAsString(), o.toString());
            seen.add(o.get("id").getAsString());
            pids.add(o.get("pid").getAsInt());
        }
        assertEquals(Set.copyOf(mine), seen);
        assertEquals(n, pids.size(), "two containers share a pid");
    }

    /** One id created by several at once: exactly one wins, the others get runc's words and change nothing. */
    @Test
    void concurrentCreatesOfOneIdLeaveExactlyOne() throws Exception {
        String id = id("same");
        List<Future<Brig.Result>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
            for (int k = 0; k < 6; k++) results.add(pool.submit(() -> create(id, Map.of())));
        }
        int won = 0;
        for (Future<Brig.Result> f : results) {
            Brig.Result r = f.get();
            if (r.exit() == 0) {
                won++;
            } else {
                assertEquals("brig: container with id exists: " + id + "\n", r.err());
            }
        }
        assertEquals(1, won);
        assertEquals("created", brig.status(id));
        assertEquals(List.of(id), rootEntries());
    }

    /**
     * Two threads of one JVM locking one container: the second waits for the first (an fcntl
     * lock, such as Java's FileLock, would let it through). A third, on another container,
     * gets its lock while the first still holds its own.
     */
    /**
     * A state written again is swapped in (renameat2 RENAME_EXCHANGE), not renamed over the old
     * one (which on ext4 starts a writeback the later unlink waits for): readers meanwhile see
     * one whole record or the other, and no temporary file stays.
     */
    @Test
    void aRewrittenStateIsSeenWholeByReadersAndLeavesNoTemporaryFile() throws Exception {
        StateStore store = new StateStore(brig.root());
        String id = id("swap");
        Files.createDirectories(brig.root().resolve(id));
        ContainerState a = new ContainerState("1.2.0", id, 0, 0, "creating", Path.of("/b"), Path.of("/b/rootfs"),
                "2026-12-01T00:00:00Z", Map.of(), List.of(), List.of(), "1", null);
        ContainerState b = a.withStatus("running");
        store.write(a);
        AtomicBoolean stop = new AtomicBoolean();
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<Integer> reads = pool.submit(() -> {
                int n = 0;
                while (!stop.get()) {
                    String status = store.readRecord(id).status();
                    assertTrue(status.equals("creating") || status.equals("running"), status);
                    n++;
                }
                return n;
            });
            for (int k = 0; k < 300; k++) store.write(k % 2 == 0 ? b : a);
            stop.set(true);
            assertTrue(reads.get(20, TimeUnit.SECONDS) > 0);
        }
        assertEquals("creating", store.readRecord(id).status());
        try (var files = Files.list(brig.root().resolve(id))) {
            assertEquals(List.of("state.json"), files.map(f -> f.getFileName().toString()).toList());
        }
        StateStore.removeDir(brig.root().resolve(id));
    }

    @Test
    void threadsOfOneJvmSerializeOnOneContainerAndNotOnOthers() throws Exception {
        StateStore store = new StateStore(brig.root());
        Files.createDirectories(brig.root().resolve("one"));
        Files.createDirectories(brig.root().resolve("two"));
        CountDownLatch held = new CountDownLatch(1), otherTaken = new CountDownLatch(1);
        AtomicBoolean released = new AtomicBoolean();
        try (ExecutorService pool = Executors.newFixedThreadPool(3)) {
            Future<?> first = pool.submit(() -> {
                try (StateStore.Lock l = store.lock("one")) {
                    held.countDown();
                    assertTrue(otherTaken.await(20, TimeUnit.SECONDS), "the lock of another container waited");
                    Thread.sleep(300); // time for the second to get through, were it not held
                    released.set(true);
                }
                return null;
            });
            assertTrue(held.await(20, TimeUnit.SECONDS));
            Future<Boolean> second = pool.submit(() -> {
                try (StateStore.Lock l = store.lock("one")) {
                    return released.get();
                }
            });
            Future<?> other = pool.submit(() -> {
                try (StateStore.Lock l = store.lock("two")) {
                    otherTaken.countDown();
                }
                return null;
            });
            other.get(20, TimeUnit.SECONDS);
            first.get(20, TimeUnit.SECONDS);
            assertTrue(second.get(20, TimeUnit.SECONDS), "the second thread got the lock while the first held it");
        }
    }

    /**
     * A command of another process waits while the container is locked (here by this JVM), and
     * goes on once it is released; commands on another container do not wait, and `state`
     * (a read) never does.
     */
    @Test
    void anotherProcessWaitsForTheContainersLock() throws Exception {
        String one = id("one"), two = id("two");
        create(one, Map.of()).expect(0);
        create(two, Map.of()).expect(0);
        StateStore store = new StateStore(brig.root());
        Process kill;
        try (StateStore.Lock l = store.lock(one)) {
            ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", brig.root().toString(), "kill", one, "KILL")
                    .redirectInput(new File("/dev/null")).redirectErrorStream(true).redirectOutput(dir.resolve("kill.out").toFile());
            pb.environment().clear();
            kill = pb.start();
            brig.brig(null, "kill", two, "KILL").expect(0);
            assertEquals("created", brig.status(one));
            assertFalse(kill.waitFor(1500, TimeUnit.MILLISECONDS), "kill went through a held lock: " + Files.readString(dir.resolve("kill.out")));
            assertEquals("created", brig.status(one));
        }
        assertTrue(kill.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue(), Files.readString(dir.resolve("kill.out")));
        brig.awaitStatus(one, "stopped");
        brig.awaitStatus(two, "stopped");
    }

    /**
     * brig's JVM killed (SIGKILL) at each point of a create, under its supervisor: what is left
     * (the supervisor removes it itself) `delete --force` removes completely.
     */
    @ParameterizedTest
    @ValueSource(strings = {"claimed", "cgroups", "cloned", "created"})
    void createKilledAtAnyPointLeavesNothingDeleteForceCannotRemove(String point) throws Exception {
        String id = id(point);
        Set<Long> helpersBefore = helperInits();
        Brig.Result r = create(id, Map.of("BRIG_TEST_CRASH_AT", point, "BRIG_SERVER", "off"));
        assertEquals(137, r.exit(), "brig's JVM was to die of SIGKILL: " + r.err());
        brig.brig(null, "delete", "--force", id).expect(0);
        assertNothingLeft(id, helpersBefore);
    }

    /** The same when the resident server planning a warm create dies: exit 125, and the client has it removed. */
    @ParameterizedTest
    @ValueSource(strings = {"claimed", "cgroups", "cloned", "created"})
    void warmCreateWhoseServerIsKilledAtAnyPointLeavesNothing(String point) throws Exception {
        String id = id("warm-" + point);
        Set<Long> helpersBefore = helperInits();
        Brig.Result r = create(id, Map.of("BRIG_TEST_CRASH_AT", point));
        assertEquals(125, r.exit(), r.err());
        assertTrue(r.err().contains("brig: the brig server ended the call before it finished"), r.err());
        assertNothingLeft(id, helpersBefore);
        brig.brig(null, "delete", "--force", id).expect(0);
    }

    /**
     * The same without the supervisor (brig's JVM run directly, as a Java program using the
     * library might die): the half-made container is listed as "creating", and `delete --force`
     * removes it, its cgroups and its process.
     */
    @ParameterizedTest
    @ValueSource(strings = {"claimed", "cgroups", "cloned"})
    void aHalfMadeContainerIsListedAsCreatingAndDeleteForceRemovesIt(String point) throws Exception {
        String id = id("direct-" + point);
        Set<Long> helpersBefore = helperInits();
        Path dist = Brig.dist();
        List<String> cmd = List.of(dist.resolve("runtime/bin/java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-Dbrig.home=" + dist, "-cp", dist.resolve("lib/brig.jar").toString(), "brig.cli.Main",
                "--root", brig.root().toString(), "create", "--bundle", bundle.dir().toString(), id);
        Brig.Result r = brig.exec(bundle.dir(), Map.of("BRIG_TEST_CRASH_AT", point), cmd);
        assertEquals(137, r.exit(), r.err());
        String list = brig.brig(null, "list").expect(0).out();
        assertTrue(list.lines().anyMatch(l -> l.startsWith(id + " ") && l.contains(" creating ")), list);
        assertEquals("creating", brig.status(id));
        Brig.Result start = brig.brig(null, "start", id);
        assertEquals("brig: cannot start a container in the creating state\n", start.err());
        brig.brig(null, "delete", "--force", id).expect(0);
        assertNothingLeft(id, helpersBefore);
    }

    private List<String> rootEntries() throws IOException {
        if (!Files.exists(brig.root())) return List.of();
        try (Stream<Path> s = Files.list(brig.root())) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Container processes not yet at their program: the helper's init, by its command line. */
    private static Set<Long> helperInits() {
        Set<Long> out = new HashSet<>();
        ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").startsWith("brig-helper init"))
                .forEach(p -> out.add(p.pid()));
        return out;
    }

    private void assertNothingLeft(String id, Set<Long> helpersBefore) throws Exception {
        List<String> left = new ArrayList<>();
        for (int k = 0; k < 100; k++) {
            left.clear();
            for (String e : rootEntries()) if (e.contains(id)) left.add("state " + e);
            try (Stream<Path> s = Files.walk(Path.of("/sys/fs/cgroup"), 4)) {
                s.filter(p -> p.getFileName().toString().equals(id)).forEach(p -> left.add("cgroup " + p));
            }
            for (long pid : helperInits()) if (!helpersBefore.contains(pid)) left.add("process " + pid);
            if (left.isEmpty()) return;
            Thread.sleep(20);
        }
        throw new AssertionError("left behind: " + left);
    }
}
