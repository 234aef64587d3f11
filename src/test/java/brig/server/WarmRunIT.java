package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * run, create and exec from the resident server: the server plans and carries out the host's
 * side, the caller's own process starts the helper and supervises. On twin containers, one
 * warm and one cold, the same stdout, stderr and exit status; the container is the caller's
 * descendant with the caller's stdio, never the server's; a relative cgroupsPath lies below
 * the caller's cgroups, not the server's own.
 */
@ExtendWith(NoLeaks.class)
class WarmRunIT extends WarmCallTest {
    private TestBundle bundle(String script) throws IOException {
        TestBundle b = TestBundle.busybox(dir.resolve("b" + ids.size())).sh(script);
        b.write();
        ids.add(b.id());
        return b;
    }

    @Test
    void runAnswersAsColdAndLeavesNothing() throws Exception {
        String script = "echo out; echo err >&2; exit 3";
        TestBundle a = bundle(script), b = bundle(script);
        // run, its container removed on the same call once it has exited: one served call.
        Brig.Result r = both(a, b, 1, "run", "--bundle", "DIR", "ID");
        assertEquals(new Brig.Result(3, "out\n", "err\n"), r);
        String list = brig.brig(dir, WARM, List.of("list", "-q")).expect(0).out();
        assertFalse(list.contains(a.id()) || list.contains(b.id()), "a run's container stays after it ends: " + list);
    }

    @Test
    void createExecAndStartAnswerAsCold() throws Exception {
        TestBundle a = bundle("echo started; sleep 100"), b = bundle("echo started; sleep 100");
        Path pidA = dir.resolve("a.pid"), pidB = dir.resolve("b.pid");
        long before = served();
        Brig.Result warm = brig.brig(a.dir(), WARM, List.of("create", "--pid-file", pidA.toString(), "--bundle", a.dir().toString(), a.id()));
        assertEquals(before + 1, served(), "create was not served");
        Brig.Result cold = brig.brig(b.dir(), COLD, List.of("create", "--pid-file", pidB.toString(), "--bundle", b.dir().toString(), b.id()));
        assertEquals(cold, warm);
        warm.expect(0);
        assertEquals("created", brig.status(a.id()));
        assertEquals(Files.readString(pidA).trim(), Long.toString(statePid(a.id())), "the pid file names the container's process");
        assertEquals(new Brig.Result(4, "in\n", "oops\n"), both(a, b, 1, "exec", "ID", "sh", "-c", "echo in; echo oops >&2; exit 4"));
        both(a, b, 1, "exec", "ID", "/no/such/program").expect(1);
        both(a, b, 1, "exec", "nosuch-" + a.id(), "true").expect(1);
        both(a, b, 1, "start", "ID").expect(0);
        both(a, b, 1, "delete", "--force", "ID").expect(0);
    }

    @Test
    void aBadConfigAnswersAsColdAndMakesNothing() throws Exception {
        TestBundle a = bundle("true"), b = bundle("true");
        for (TestBundle x : List.of(a, b)) Files.writeString(x.dir().resolve("config.json"), "{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":5}}");
        Brig.Result r = both(a, b, 1, "run", "--bundle", "DIR", "ID");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("process.args"), r.err());
        assertFalse(Files.exists(brig.root().resolve(a.id())), "half-made");
    }

    /**
     * The container's first process descends from the process the caller started (the client,
     * now its supervisor), not from the server, and has the caller's stdout: the test's pipe.
     */
    @Test
    void theContainerIsTheCallersDescendantWithTheCallersStdio() throws Exception {
        TestBundle a = bundle("echo up; exec sleep 100");
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", brig.root().toString(), "run",
                "--bundle", a.dir().toString(), a.id()).redirectErrorStream(true);
        Process caller = pb.start();
        try {
            assertEquals("up", new java.io.BufferedReader(new java.io.InputStreamReader(caller.getInputStream())).readLine());
            long pid = statePid(a.id());
            List<Long> ancestors = new ArrayList<>();
            for (Optional<ProcessHandle> p = ProcessHandle.of(pid).flatMap(ProcessHandle::parent); p.isPresent(); p = p.get().parent()) {
                ancestors.add(p.get().pid());
            }
            assertEquals(caller.pid(), ancestors.get(0), "the container's parent is the process the caller started: " + ancestors);
            assertFalse(ancestors.contains(serverPid()), "the server is an ancestor of the container");
            String out = Files.readSymbolicLink(Path.of("/proc/" + pid + "/fd/1")).toString();
            assertEquals(Files.readSymbolicLink(Path.of("/proc/" + caller.pid() + "/fd/1")).toString(), out, "not the caller's stdout");
        } finally {
            brig.brig(null, WARM, List.of("kill", a.id(), "KILL"));
            caller.waitFor();
        }
        assertEquals(137, caller.exitValue());
    }

    /** A relative cgroupsPath is below the caller's cgroups (as with a JVM of its own), not the server's /brig.server. */
    @Test
    void aRelativeCgroupsPathLiesBelowTheCallersCgroup() throws Exception {
        TestBundle a = bundle("cat /proc/self/cgroup"), b = bundle("cat /proc/self/cgroup");
        for (TestBundle x : List.of(a, b)) {
            x.linux().addProperty("cgroupsPath", "brigtest-rel/" + x.id());
            // Its own cgroup namespace would show "/": the host's view is what is checked.
            x.edit(c -> {
                var kept = new com.google.gson.JsonArray();
                for (var n : c.getAsJsonObject("linux").getAsJsonArray("namespaces")) {
                    if (!n.getAsJsonObject().get("type").getAsString().equals("cgroup")) kept.add(n);
                }
                c.getAsJsonObject("linux").add("namespaces", kept);
            });
            x.write();
        }
        Brig.Result r = both(a, b, 1, "run", "--bundle", "DIR", "ID").expect(0);
        assertFalse(r.out().contains(Server.CGROUP), "below the server's cgroup:\n" + r.out());
        String mine = Files.readAllLines(Path.of("/proc/self/cgroup")).stream().filter(l -> l.contains(":pids:")).findFirst().orElseThrow();
        String parent = mine.substring(mine.lastIndexOf(':') + 1);
        assertTrue(r.out().contains(":pids:" + (parent.equals("/") ? "" : parent) + "/brigtest-rel/" + a.id() + "\n"), r.out());
    }

    /** The command on {@code a} warm and on {@code b} cold (ID and DIR name them): the same answer, but for the id. */
    private Brig.Result both(TestBundle a, TestBundle b, int calls, String... args) {
        long before = served();
        Brig.Result warm = Brig.run(dir, with(a, args), null, WARM, 60);
        assertEquals(before + calls, served(), "served warm: " + List.of(args));
        Brig.Result cold = Brig.run(dir, with(b, args), null, COLD, 60);
        assertEquals(before + calls, served(), "cold used the server: " + List.of(args));
        assertEquals(new Brig.Result(cold.exit(), cold.out().replace(b.id(), a.id()), cold.err().replace(b.id(), a.id()).replace(b.dir().toString(), a.dir().toString())),
                warm, "warm and cold differ for " + List.of(args));
        return warm;
    }

    private List<String> with(TestBundle x, String... args) {
        List<String> full = new ArrayList<>(List.of("--root", brig.root().toString()));
        for (String s : args) full.add(s.equals("ID") ? x.id() : s.equals("DIR") ? x.dir().toString() : s);
        return full;
    }

    private long statePid(String id) {
        Matcher m = Pattern.compile("\"pid\": (\\d+)").matcher(brig.brig(dir, COLD, List.of("state", id)).expect(0).out());
        assertTrue(m.find());
        return Long.parseLong(m.group(1));
    }
}
