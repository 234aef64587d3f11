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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A foreground `run`'s container is removed by the supervisor itself once it has exited, as
 * Java planned it at the handover (brig.runtime.Teardown): no second JVM after a cold run, no
 * delete in the server after a warm one. What a user can check: strace of the call shows one
 * JVM (cold) or none (warm) and the caller's own process removing the state directory; nothing
 * is left. Anything the plan did not foresee (a sub-cgroup, a process left, the id's directory
 * replaced) leaves it to `brig delete --force --start`, as before.
 */
@ExtendWith(NoLeaks.class)
class RunTeardownIT {
    @TempDir Path dir;

    private static Map<String, String> mode(boolean warm) {
        return warm ? Map.of() : Map.of("BRIG_SERVER", "off");
    }

    /** What strace saw: each line "PID syscall(...) = result". */
    private record Trace(List<String> lines) {
        long jvms() {
            String java = Brig.dist().resolve("runtime/bin/java").toString();
            return lines.stream().filter(l -> l.contains("execve(\"" + java + "\"") && l.endsWith("= 0")).count();
        }

        long brigs() {
            String brig = Brig.launcher().toString();
            return lines.stream().filter(l -> l.contains("execve(\"" + brig + "\"") && l.endsWith("= 0")).count();
        }

        boolean removed(Path p) {
            return lines.stream().anyMatch(l -> l.contains("rmdir(\"" + p + "\") = 0"));
        }
    }

    /** bin/brig run under strace -f (execve and rmdir), with {@code env}. */
    private Brig.Result tracedRun(TestBundle b, Map<String, String> env, Path traceFile) {
        b.write();
        List<String> cmd = new ArrayList<>(List.of("strace", "-f", "-qq", "-e", "trace=execve,rmdir", "-o", traceFile.toString(),
                Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run", "--bundle", b.dir().toString(), b.id()));
        return Brig.exec(dir, cmd, null, env, 60);
    }

    private static List<Path> cgroupsNamed(String id) throws Exception {
        try (var s = Files.walk(Path.of("/sys/fs/cgroup"), 4)) {
            return s.filter(p -> p.getFileName() != null && p.getFileName().toString().equals(id)).toList();
        }
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {false, true})
    void aRunIsRemovedByItsSupervisorWithoutAnotherJvm(boolean warm) throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/bin/true");
        Lifecycle brig = new Lifecycle(b.stateRoot(), dir);
        if (warm) brig.brig(null, "list").expect(0); // the server is up: its start is not this run's
        Path trace = dir.resolve("trace");
        Brig.Result r = tracedRun(b, mode(warm), trace);
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        Trace t = new Trace(Files.readAllLines(trace));
        assertEquals(warm ? 0 : 1, t.jvms(), "JVMs started by the call:\n" + String.join("\n", t.lines()));
        assertEquals(1, t.brigs(), "bin/brig ran again (a delete):\n" + String.join("\n", t.lines()));
        assertTrue(t.removed(b.stateRoot().resolve(b.id())), "the caller's process did not remove the state directory itself");
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left");
        assertEquals(List.of(), cgroupsNamed(b.id()), "cgroups left");
    }

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {false, true})
    void explainSaysWhoRemovesIt(boolean warm) throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/bin/true");
        b.write();
        Lifecycle brig = new Lifecycle(b.stateRoot(), dir);
        String out = brig.brig(dir, mode(warm), List.of("run", "--explain", "--bundle", dir.toString(), b.id())).expect(0).out();
        assertTrue(out.contains("after the container exits: the supervisor, holding the lock on " + b.stateRoot().resolve(b.id())), out);
        b.add("hooks.poststop", "{\"path\":\"/bin/true\"}");
        b.write();
        out = brig.brig(dir, mode(warm), List.of("run", "--explain", "--bundle", dir.toString(), b.id())).expect(0).out();
        assertTrue(out.contains("after the container exits: brig delete --force removes it (poststop hooks run in Java)"), out);
        out = brig.brig(dir, mode(warm), List.of("run", "--explain", "--keep", "--bundle", dir.toString(), b.id())).expect(0).out();
        assertFalse(out.contains("after the container exits"), out);
    }

    /**
     * The container's cgroup has a sub-cgroup (made from the host while it ran, as a container
     * with a writable cgroupfs would): the supervisor's rmdir finds it busy and leaves it to
     * the delete, which walks the tree. Nothing is left.
     */
    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {false, true})
    void aSubCgroupFallsBackToTheDelete(boolean warm) throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("while [ ! -e /go ]; do sleep 0.05; done");
        Lifecycle brig = new Lifecycle(b.stateRoot(), dir);
        Process run = start(b, warm);
        try {
            brig.awaitStatus(b.id(), "running");
            List<Path> subs = new ArrayList<>();
            for (Path c : cgroups(b)) {
                Path sub = c.resolve("sub");
                Files.createDirectory(sub);
                subs.add(sub);
            }
            Files.writeString(b.rootfs().resolve("go"), "");
            assertTrue(run.waitFor(30, TimeUnit.SECONDS), "run did not end");
            assertEquals(0, run.exitValue(), Files.readString(dir.resolve("run.err")));
            assertEquals("", Files.readString(dir.resolve("run.err")));
            for (Path s : subs) assertFalse(Files.exists(s), s + " left");
            assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left");
            assertEquals(List.of(), cgroupsNamed(b.id()), "cgroups left");
        } finally {
            stop(run, brig, b);
        }
    }

    /**
     * Without a pid namespace a fork outlives the first process: the cgroup is busy, the
     * supervisor leaves it to the delete, which kills it.
     */
    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {false, true})
    void aProcessLeftBehindFallsBackToTheDelete(boolean warm) throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("sleep 300 </dev/null >/dev/null 2>&1 & exit 0");
        JsonArray ns = new JsonArray();
        for (var n : b.linux().getAsJsonArray("namespaces")) {
            if (!n.getAsJsonObject().get("type").getAsString().equals("pid")) ns.add(n);
        }
        b.linux().add("namespaces", ns);
        b.write();
        Brig.Result r = Brig.run(dir, List.of("--root", b.stateRoot().toString(), "run", "--bundle", dir.toString(), b.id()),
                null, mode(warm), 60);
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left");
        assertEquals(List.of(), cgroupsNamed(b.id()), "cgroups left");
    }

    /**
     * While the container runs, the id's directory becomes another container's (deleted by force
     * and the id reused; simulated by moving it away and putting a copy with another start's
     * token in its place, or, as if the new directory had the old one's inode number, by
     * rewriting its state.json with another start's token): the supervisor must not remove it,
     * nor the cgroups at its paths.
     */
    @ParameterizedTest(name = "warm={0} sameInode={1}")
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void aDirectoryReusedByAnotherContainerIsNotRemoved(boolean warm, boolean sameInode) throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("while [ ! -e /go ]; do sleep 0.05; done");
        Lifecycle brig = new Lifecycle(b.stateRoot(), dir);
        Path state = b.stateRoot().resolve(b.id()), away = b.stateRoot().resolve(".moved-away");
        Process run = start(b, warm);
        try {
            brig.awaitStatus(b.id(), "running");
            // "running" shows before the start has written its last state: once it has let go
            // of the container's lock (as a forced delete would wait for it), it is done.
            assertEquals(0, new ProcessBuilder("flock", state.toString(), "true").start().waitFor());
            List<Path> cgroups = cgroups(b);
            JsonObject other = Json.parseObjectFile(state.resolve("state.json"));
            if (sameInode) {
                Files.copy(state.resolve("state.json"), dir.resolve("state.json.saved"));
            } else {
                Files.move(state, away);
                Files.createDirectory(state);
            }
            other.getAsJsonObject("brig").addProperty("start", "0123456789abcdef");
            Files.writeString(state.resolve("state.json"), Json.compact(other));
            Files.writeString(b.rootfs().resolve("go"), "");
            assertTrue(run.waitFor(30, TimeUnit.SECONDS), "run did not end");
            assertEquals(0, run.exitValue(), Files.readString(dir.resolve("run.err")));
            assertTrue(Files.exists(state.resolve("state.json")), "the other container's state was removed");
            for (Path c : cgroups) assertTrue(Files.isDirectory(c), c + " (the other container's path) was removed");
        } finally {
            // Back as it was, and removed by the delete.
            if (Files.isDirectory(away)) {
                StateStore.removeDir(state);
                Files.move(away, state);
            }
            if (Files.exists(dir.resolve("state.json.saved")) && Files.isDirectory(state)) {
                Files.move(dir.resolve("state.json.saved"), state.resolve("state.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            stop(run, brig, b);
        }
    }

    private Process start(TestBundle b, boolean warm) throws Exception {
        b.write();
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run",
                "--bundle", b.dir().toString(), b.id()).redirectInput(new File("/dev/null"))
                .redirectOutput(dir.resolve("run.out").toFile()).redirectError(dir.resolve("run.err").toFile());
        pb.environment().clear();
        pb.environment().putAll(mode(warm));
        return pb.start();
    }

    private static void stop(Process run, Lifecycle brig, TestBundle b) throws Exception {
        run.descendants().forEach(ProcessHandle::destroyForcibly);
        run.destroyForcibly().waitFor();
        brig.brig(null, "delete", "--force", b.id());
    }

    /** The container's cgroup directories, as its state records them. */
    private static List<Path> cgroups(TestBundle b) throws Exception {
        JsonObject s = Json.parseObjectFile(b.stateRoot().resolve(b.id()).resolve("state.json"));
        List<Path> out = new ArrayList<>();
        for (var c : s.getAsJsonObject("brig").getAsJsonArray("cgroups")) out.add(Path.of(c.getAsString()));
        assertFalse(out.isEmpty(), "no cgroups in the state");
        return out;
    }
}
