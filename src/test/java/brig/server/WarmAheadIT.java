package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.cgroups.Hierarchy;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a server prepares ahead of a call: the helper the caller's process starts while the
 * server plans (gone, not orphaned, when the call fails before using it), and Brig's default
 * cgroup parents, kept while the server runs and removed when it exits, by `server stop` or
 * by SIGTERM.
 */
@ExtendWith(NoLeaks.class)
class WarmAheadIT extends WarmCallTest {
    @Test
    void aHelperStartedAheadOfAFailingRunIsNotLeftBehind() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("true");
        b.write();
        Files.writeString(b.dir().resolve("config.json"), "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":5}}");
        List<Long> before = orphanHelpers();
        long served = served();
        Brig.Result r = brig.brig(b.dir(), WARM, List.of("run", "--bundle", b.dir().toString(), b.id()));
        assertEquals(served + 1, served(), "the run was not served");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains("process.args"), r.err());
        List<Long> after = orphanHelpers();
        after.removeAll(before);
        assertEquals(List.of(), after, "helpers left to init");
    }

    @Test
    void theDefaultParentsStayWhileTheServerRunsAndGoWithIt() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("true");
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), WARM, List.of("run", "--bundle", b.dir().toString(), b.id())).expect(0);
        Path pids = pidsParent();
        assertTrue(Files.isDirectory(pids), pids + " went with the container");
        assertEquals(List.of(), subdirectories(pids), "the container's cgroup stayed");
        Brig.run(dir, List.of("server", "stop"), null, WARM, 30).expect(0);
        waitGone(pids);
        assertFalse(Files.exists(pids) && subdirectories(pids).isEmpty(), pids + " outlived the server");
    }

    @Test
    void aServerEndedBySigtermRemovesItsCgroupsToo() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("true");
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), WARM, List.of("run", "--bundle", b.dir().toString(), b.id())).expect(0);
        long pid = serverPid();
        Path pids = pidsParent(), own = pids.resolveSibling(Server.CGROUP);
        assertTrue(Files.isDirectory(own), own + " missing");
        new ProcessBuilder("kill", "-TERM", Long.toString(pid)).start().waitFor();
        for (int k = 0; k < 200 && ProcessHandle.of(pid).isPresent(); k++) sleep(50);
        assertFalse(ProcessHandle.of(pid).isPresent(), "the server did not end");
        // Another installation's server (another build tree's) may be in its cgroup, or have
        // containers below /brig: those stay, empty ones go.
        assertFalse(Files.exists(pids) && subdirectories(pids).isEmpty(), pids + " outlived the server");
        assertFalse(Files.exists(own) && Files.readString(own.resolve("cgroup.procs")).isBlank(), own + " outlived the server");
    }

    @Test
    void aServerStoppedWhileItWarmsUpLeavesNoBundleBehind() throws Exception {
        // The server this test started plans runs of a bundle of its own between calls (Warmup).
        for (int k = 0; k < 3; k++) {
            long pid = serverPid();
            Brig.run(dir, List.of("server", "stop"), null, WARM, 30).expect(0);
            for (int w = 0; w < 200 && ProcessHandle.of(pid).isPresent(); w++) sleep(20);
            assertFalse(ProcessHandle.of(pid).isPresent(), "the server did not exit");
            if (k < 2) Brig.run(dir, List.of("--version"), null, WARM, 30).expect(0);
        }
        Path bundle = ServerIT.DIR.resolve(Protocol.warmup(ServerIT.home()));
        assertFalse(Files.exists(bundle), bundle + " left");
    }

    /** The pids hierarchy's /brig (every hierarchy is treated alike). */
    private static Path pidsParent() throws IOException {
        for (Hierarchy h : Hierarchy.discover()) if (h.has("pids")) return h.mountPoint().resolve("brig");
        throw new IllegalStateException("no pids hierarchy");
    }

    private static List<Path> subdirectories(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).toList();
        }
    }

    private static void waitGone(Path p) {
        for (int k = 0; k < 100 && Files.exists(p); k++) sleep(50);
    }

    /** `brig-helper init` processes whose parent is init: orphans. */
    private static List<Long> orphanHelpers() throws IOException {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = Files.readString(p.resolve("cmdline"));
                    if (!cmd.startsWith("brig-helper\0init")) continue;
                    String ppid = Files.readAllLines(p.resolve("status")).stream().filter(l -> l.startsWith("PPid:")).findFirst().orElse("");
                    if (ppid.replaceAll("\\D", "").equals("1")) out.add(Long.parseLong(p.getFileName().toString()));
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return out;
    }
}
