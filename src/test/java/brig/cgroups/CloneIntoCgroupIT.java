package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Helper;
import brig.runtime.Planner;
import brig.runtime.Runtime;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container's first process is created in its cgroup2 directory (on this hybrid host, in
 * the unified tree) with clone3(CLONE_INTO_CGROUP); where the kernel refuses clone3, Brig moves
 * it there itself while it waits. Its v1 cgroups it joins itself either way. The same for a
 * process `exec` starts: forked into the container's cgroup2 directory.
 */
@ExtendWith(NoLeaks.class)
class CloneIntoCgroupIT {
    @TempDir Path dir;

    private static String line(String procCgroup, String controllers) {
        return procCgroup.lines().filter(l -> l.split(":", 3)[1].equals(controllers)).findFirst().orElseThrow();
    }

    @Test
    void theFirstProcessIsInItsCgroup2DirectoryBeforeBrigMovesIt() throws Exception {
        // The library, step by step: the process waits at the plan's Await step until go(),
        // so what /proc says before that is what the clone and the process did, not Brig's writes.
        TestBundle b = TestBundle.busybox(dir).args("/bin/true");
        b.write();
        Runtime rt = new Runtime(b.stateRoot(), Brig.dist().resolve("libexec/brig-helper"));
        Runtime.Prepared p = rt.prepare(b.id(), new Runtime.Options(b.dir(), false, 0), Planner.Mode.RUN);
        Path unified = p.cgroup().unified();
        assertEquals(Path.of("/sys/fs/cgroup/unified/brig", b.id()), unified);
        List<Path> made = p.cgroup().create(List.of());
        Helper h = null;
        int pid = -1;
        try {
            // The device rules, as Brig sets them before the clone: the process makes its
            // device nodes before its wait, in its devices cgroup.
            for (brig.runtime.HostStep s : p.host()) if (s instanceof brig.runtime.HostStep.SetDevices d) d.cgroup().applyDevices(d.rules());
            h = Helper.start(Brig.dist().resolve("libexec/brig-helper"), p.plan(), 0);
            pid = h.awaitPid();
            String cgroups = Files.readString(Path.of("/proc/" + pid + "/cgroup"));
            assertEquals(unified, h.clonedInto(), "the kernel took CLONE_INTO_CGROUP: " + cgroups);
            assertEquals("0::/brig/" + b.id(), line(cgroups, ""), cgroups);
            // v1 the process joins itself right after the clone (Step.JoinCgroupTasks), before
            // its wait: no write of Brig's is needed.
            String memory = line(cgroups, "memory");
            for (int k = 0; k < 200 && !memory.endsWith(":memory:/brig/" + b.id()); k++) {
                Thread.sleep(10);
                memory = line(Files.readString(Path.of("/proc/" + pid + "/cgroup")), "memory");
            }
            assertTrue(memory.endsWith(":memory:/brig/" + b.id()), memory + "\n" + h.failedMeanwhile());
        } finally {
            if (pid > 0) {
                Libc.kill(pid, Libc.SIGKILL);
                Libc.waitpid(pid, 0);
            }
            if (h != null) h.release();
            p.cgroup().destroy(made);
        }
    }

    @Test
    void anExecdProcessIsForkedIntoTheContainersCgroup2Directory() throws Exception {
        execForkedInto(TestBundle.busybox(dir.resolve("host-ns")));
    }

    @Test
    void intoAContainerWithACgroupNamespaceOfItsOwnAnExecdProcessIsForkedToo() throws Exception {
        // It joins the container's cgroup namespace after the fork (Step.Fork).
        execForkedInto(TestBundle.busybox(dir.resolve("own-ns")).add("linux.namespaces", "{\"type\":\"cgroup\"}"));
    }

    private void execForkedInto(TestBundle b) throws Exception {
        // Its stdio let go of at once: the test reads the run's output to its end.
        b.sh("exec sleep 1000 </dev/null >/dev/null 2>&1");
        b.run("-d").expect(0);
        Helper h = null;
        int pid = -1;
        try {
            Runtime rt = new Runtime(b.stateRoot(), Brig.dist().resolve("libexec/brig-helper"));
            var p = rt.prepareExec(b.id(), null, new brig.runtime.ExecPlanner.Overrides(List.of("/bin/true"), List.of(), null, null,
                    null, null, List.of(), false, false), false, 0);
            h = Helper.start(Brig.dist().resolve("libexec/brig-helper"), p.plan(), 0);
            pid = h.awaitPid();
            // Before any write of Brig's: where the fork put it.
            String cgroups = Files.readString(Path.of("/proc/" + pid + "/cgroup"));
            assertEquals(Path.of("/sys/fs/cgroup/unified/brig", b.id()), h.clonedInto(), cgroups);
            assertEquals("0::/brig/" + b.id(), line(cgroups, ""), cgroups);
        } finally {
            if (pid > 0) {
                Libc.kill(pid, Libc.SIGKILL);
                Libc.waitpid(pid, 0);
            }
            if (h != null) h.release();
            Brig.run(dir, List.of("--root", b.stateRoot().toString(), "delete", "-f", b.id()), null, Map.of(), 30);
        }
    }

    @Test
    void explainShowsTheCloneIntoTheCgroupAndTheFirstCommandRunsThere() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/bin/cat", "/proc/self/cgroup");
        String plan = b.run("--explain").expect(0).out();
        Path unified = Path.of("/sys/fs/cgroup/unified/brig", b.id());
        List<String> steps = plan.lines().filter(l -> !l.startsWith("host: ")).map(String::strip).toList();
        assertEquals("1. open the container's cgroup2 directory " + unified + " for the clone", steps.get(0), plan);
        assertTrue(steps.get(1).startsWith("2. open the tasks files of the container's v1 cgroups "), plan);
        assertTrue(steps.get(2).startsWith("3. clone the container's first process in new ")
                && steps.get(2).contains(", directly into cgroup " + unified + " (clone3 with CLONE_INTO_CGROUP; "), plan);
        // The v1 ones it joins itself, at once; its mounts done before the wait (no user or
        // cgroup namespace, no hooks), before its limits and identity.
        assertTrue(steps.get(3).startsWith("4. join the v1 cgroups itself: write 0 to tasks in "), plan);
        assertTrue(steps.stream().anyMatch(l -> l.matches("\\d+\\. wait while brig places the process in its cgroup if the clone could not")), plan);
        Brig.Result r = b.run().expect(0);
        assertTrue(r.out().lines().anyMatch(l -> l.equals("0::/brig/" + b.id())), r.out());
        assertTrue(r.out().lines().allMatch(l -> l.endsWith(":/brig/" + b.id())), r.out());
    }

    @Test
    void whereClone3IsRefusedBrigMovesTheProcessItself() throws Exception {
        // As under a container engine's default seccomp profile (or on Linux < 5.3): clone3
        // fails with ENOSYS for brig, its JVM (glibc falls back to clone) and its helper.
        Path refuse = Path.of("target/test-refuse-clone3").toAbsolutePath();
        Path src = Path.of("src/test/c/refuse-clone3.c").toAbsolutePath();
        Map<String, String> env = Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        Brig.Result cc = Brig.exec(null, List.of("cc", "-std=gnu11", "-O1", "-Wall", "-static", "-o", refuse.toString(), src.toString()),
                null, env, 120);
        assertEquals(0, cc.exit(), cc.err());
        TestBundle b = TestBundle.busybox(dir).args("/bin/cat", "/proc/self/cgroup");
        b.write();
        Brig.Result r = Brig.exec(null, List.of(refuse.toString(), "38", Brig.launcher().toString(), "--root", b.stateRoot().toString(),
                "run", "--bundle", b.dir().toString(), b.id()), null, Map.of(), 60);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.equals("0::/brig/" + b.id())), "moved into its cgroup2 directory: " + r.out());
        assertTrue(r.out().lines().allMatch(l -> l.endsWith(":/brig/" + b.id())), r.out());
    }
}
