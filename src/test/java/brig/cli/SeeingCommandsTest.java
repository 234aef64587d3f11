package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.runtime.ContainerState;
import brig.runtime.StateStore;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * lsns, container top and container inspect driven through their command classes over
 * buffers, on real processes of the host: a shell with two sleeps, and a sleep in a uts
 * namespace of its own (unshare -u), each recorded in a state root as a container would be.
 */
class SeeingCommandsTest {
    @TempDir Path dir;

    private final List<Process> started = new ArrayList<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    @AfterEach
    void stop() throws Exception {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
    }

    private Invocation inv() {
        out.reset();
        err.reset();
        return new Invocation(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(), dir, 022, new Invocation.Caller(4242, 0, 0),
                Invocation.Globals.DEFAULT, Invocation.Host.detached(Path.of("/nonexistent/brig"))).withGlobals(
                new Invocation.Globals(dir.resolve("state"), null, false, false, false));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Starts {@code cmd} and records it as container {@code id}'s first process; returns its pid. */
    private int container(String id, Map<String, String> annotations, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        started.add(p);
        int pid = (int) p.pid();
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        long start = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19]);
        Files.createDirectories(dir.resolve("state").resolve(id));
        new StateStore(dir.resolve("state")).write(new ContainerState("1.2.0", id, pid, start, "running", dir, dir.resolve("rootfs"),
                "2026-12-01T00:00:00Z", annotations, List.of(), List.of(), "0123456789abcdef"));
        return pid;
    }

    private static boolean sleeping(int pid) {
        try {
            return Files.readString(Path.of("/proc/" + pid + "/cmdline")).startsWith("sleep");
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** Waits until the process has {@code n} children. */
    private static void awaitChildren(int pid, int n) throws InterruptedException {
        for (int k = 0; k < 200 && brig.inspect.Proc.children(pid).size() < n; k++) Thread.sleep(10);
        assertEquals(n, brig.inspect.Proc.children(pid).size(), "children of " + pid);
    }

    @Test
    void topListsTheShellAndItsChildrenFlatAndAsATree() throws Exception {
        int sh = container("c1", Map.of(), "/bin/sh", "-c", "sleep 300 & sleep 301 & wait");
        awaitChildren(sh, 2);
        List<Integer> kids = brig.inspect.Proc.children(sh);
        // Forked children are copies of sh until they have exec'd sleep: wait for that too.
        for (int k = 0; k < 200 && !kids.stream().allMatch(SeeingCommandsTest::sleeping); k++) Thread.sleep(10);
        assertEquals(0, ContainerTopCommand.run(inv(), Args.parse(List.of("c1"), 0, ContainerTopCommand.FLAGS, true)));
        List<String> lines = out().lines().toList();
        assertEquals(4, lines.size(), out());
        assertTrue(lines.get(0).matches("\\s*PID\\s+CPID\\s+PPID\\s+USER\\s+COMMAND"), lines.get(0));
        assertTrue(lines.get(1).matches("\\s*" + sh + "\\s+" + sh + "\\s+\\d+\\s+root\\s+/bin/sh -c sleep 300 & sleep 301 & wait"), lines.get(1));
        assertTrue(lines.get(2).matches("\\s*" + kids.get(0) + "\\s+" + kids.get(0) + "\\s+" + sh + "\\s+root\\s+sleep 30[01]"), lines.get(2));

        assertEquals(0, ContainerTopCommand.run(inv(), Args.parse(List.of("--tree", "c1"), 0, ContainerTopCommand.FLAGS, true)));
        lines = out().lines().toList();
        assertTrue(lines.get(1).endsWith(" /bin/sh -c sleep 300 & sleep 301 & wait"), out());
        assertTrue(lines.get(2).matches(".* root\\s+ \\\\_ sleep 30[01]"), out());
        assertTrue(lines.get(3).matches(".* root\\s+ \\\\_ sleep 30[01]"), out());

        assertEquals(0, ContainerTopCommand.run(inv(), Args.parse(List.of("--format", "json", "c1"), 0, ContainerTopCommand.FLAGS, true)));
        JsonArray roots = Json.parseQuietly(out()).getAsJsonArray();
        assertEquals(1, roots.size(), out());
        assertEquals(sh, roots.get(0).getAsJsonObject().get("pid").getAsInt());
        assertEquals(2, roots.get(0).getAsJsonObject().getAsJsonArray("children").size(), out());
    }

    @Test
    void topOfAContainerThatIsNotThereOrHasStoppedSaysSo() throws Exception {
        assertEquals(1, Main.run(inv(), List.of("--root", dir.resolve("state").toString(), "lsns", "-t", "bogus")));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown namespace type: bogus"), err.toString(StandardCharsets.UTF_8));
        var e = org.junit.jupiter.api.Assertions.assertThrows(StateStore.NotFound.class,
                () -> ContainerTopCommand.run(inv(), Args.parse(List.of("nosuch"), 0, ContainerTopCommand.FLAGS, true)));
        assertEquals("container does not exist", e.getMessage());
        int pid = container("gone", Map.of(), "sleep", "300");
        started.get(0).destroyForcibly().waitFor();
        var stopped = org.junit.jupiter.api.Assertions.assertThrows(brig.runtime.BrigException.class,
                () -> ContainerTopCommand.run(inv(), Args.parse(List.of("gone"), 0, ContainerTopCommand.FLAGS, true)));
        assertEquals("container gone is not running (stopped)", stopped.getMessage(), "pid " + pid);
    }

    @Test
    void lsnsNamesTheContainerOwningANamespaceAndNotTheHostOnes() throws Exception {
        int pid = container("uts1", Map.of(), "unshare", "--uts", "sleep", "300");
        // unshare execs sleep once the namespace is made.
        for (int k = 0; k < 200 && !java.util.Objects.equals(brig.inspect.Proc.read(pid) == null ? null : brig.inspect.Proc.read(pid).command(), "sleep 300"); k++) Thread.sleep(10);
        String root = dir.resolve("state").toString();
        assertEquals(0, Main.run(inv(), List.of("--root", root, "lsns", "-p", Integer.toString(pid))), err.toString(StandardCharsets.UTF_8));
        List<String> lines = out().lines().toList();
        assertTrue(lines.get(0).matches("\\s+NS TYPE\\s+NPROCS\\s+PID USER\\s+CONTAINER\\s+COMMAND"), lines.get(0));
        long utsInode = brig.inspect.Proc.nsInode(pid, "uts");
        List<String> uts = lines.stream().filter(l -> l.contains(" uts ")).toList();
        assertEquals(1, uts.size(), out());
        assertTrue(uts.get(0).matches("\\s*" + utsInode + " uts\\s+1\\s+" + pid + " root\\s+uts1\\s+sleep 300"), uts.get(0));
        for (String l : lines.subList(1, lines.size())) {
            if (!l.contains(" uts ")) assertFalse(l.contains(" uts1 "), "the host's namespaces are not the container's: " + l);
        }
        assertEquals(8, lines.size() - 1, "one row per type it is in\n" + out());

        assertEquals(0, Main.run(inv(), List.of("--root", root, "lsns", "-t", "uts", "--json", Long.toString(utsInode))));
        JsonArray rows = Json.parseQuietly(out()).getAsJsonObject().getAsJsonArray("namespaces");
        assertEquals(1, rows.size(), out());
        JsonObject row = rows.get(0).getAsJsonObject();
        assertEquals(utsInode, row.get("ns").getAsLong());
        assertEquals(pid, row.get("pid").getAsInt());
        assertEquals("uts1", row.get("container").getAsString());
    }

    @Test
    void inspectShowsNamespacesMountsAndTheLayersOfACopyOnWriteRootfs() throws Exception {
        String layer = "/var/lib/brig/images/layers/sha256/" + "ab".repeat(32);
        int pid = container("cow", Map.of("brig.overlay.lowerdirs", layer + ":/srv/base", "brig.overlay.upperdir", "/srv/c/upper",
                "brig.overlay.workdir", "/srv/c/work"), "sleep", "300");
        assertEquals(0, ContainerInspectCommand.run(inv(), Args.parse(List.of("cow"), 0, ContainerInspectCommand.FLAGS, true)));
        JsonObject o = Json.parseQuietly(out()).getAsJsonObject();
        assertEquals("running", o.get("status").getAsString());
        assertEquals(pid, o.get("pid").getAsInt());
        JsonObject rootfs = o.getAsJsonObject("rootfs");
        assertEquals("overlay", rootfs.get("kind").getAsString());
        assertEquals("sha256:" + "ab".repeat(32), rootfs.getAsJsonArray("layers").get(0).getAsJsonObject().get("diffId").getAsString());
        assertEquals("/srv/base", rootfs.getAsJsonArray("layers").get(1).getAsJsonObject().get("dir").getAsString());
        assertEquals("/srv/c/upper", rootfs.get("upperdir").getAsString());
        JsonObject mnt = o.getAsJsonObject("namespaces").getAsJsonObject("mnt");
        assertEquals("/proc/" + pid + "/ns/mnt", mnt.get("path").getAsString());
        assertTrue(mnt.get("link").getAsString().matches("mnt:\\[\\d+\\]"), mnt.toString());
        assertFalse(mnt.get("own").getAsBoolean(), "a process of the host shares the host's");
        assertTrue(Json.compact(o.getAsJsonArray("mounts")).contains("\"destination\":\"/proc\",\"type\":\"proc\""), Json.compact(o));
        assertFalse(o.has("cgroups"), "no cgroup recorded: " + Json.compact(o));
    }
}
