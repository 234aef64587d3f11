package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.cgroups.ContainerCgroup;
import brig.cgroups.Hierarchy;
import brig.cgroups.ResourcePlan;
import brig.helper.Plan;
import brig.json.Json;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Brig's host work as a value: the exact steps, their order and phase, and how `--explain` shows them, without root. */
class HostStepTest {
    private static final Path FS = Path.of("/sys/fs/cgroup");

    /** A hybrid host like these machines: v1 controllers (cpu with cpuacct), devices, and the unified tree. */
    private static final List<Hierarchy> HYBRID = List.of(new Hierarchy("cpu,cpuacct", FS.resolve("cpu,cpuacct"), "/"),
            new Hierarchy("memory", FS.resolve("memory"), "/"), new Hierarchy("pids", FS.resolve("pids"), "/"),
            new Hierarchy("devices", FS.resolve("devices"), "/"), new Hierarchy("", FS.resolve("unified"), "/"));
    private static final ResourcePlan.Host HOST = new ResourcePlan.Host(Set.of("hugetlb"), p -> true, dir -> Set.of());

    private static Runtime.Prepared prepared(Consumer<JsonObject> edit, Planner.Mode mode) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("process").addProperty("terminal", false);
        edit.accept(c);
        Spec spec = SpecReader.parse(c);
        ContainerCgroup cg = ContainerCgroup.resolve(HYBRID, "/brig/x");
        ResourcePlan resources = ResourcePlan.of(spec.linux().resources(), cg, HOST);
        Path fifo = mode == Planner.Mode.CREATE ? Path.of("/run/brig/x/exec.fifo") : null;
        List<HostStep> host = Planner.host(spec, cg, resources, true, fifo);
        Plan plan = Planner.plan(spec, new Planner.Context(Path.of("/b"), Path.of("/b/rootfs"), mode, false, 0, fifo,
                cg, 40), host);
        return new Runtime.Prepared("x", Path.of("/b"), spec, Path.of("/b/rootfs"), cg, resources, host, plan, mode);
    }

    /** The lab's container: a user namespace, an oom_score_adj, memory and pids limits. */
    private static void lab(JsonObject c) {
        JsonObject l = c.getAsJsonObject("linux");
        l.getAsJsonArray("namespaces").add(Json.parseQuietly("{\"type\":\"user\"}"));
        l.add("uidMappings", Json.parseQuietly("[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"));
        l.add("gidMappings", Json.parseQuietly("[{\"containerID\":0,\"hostID\":200000,\"size\":1000},"
                + "{\"containerID\":1000,\"hostID\":300000,\"size\":1}]"));
        l.add("resources", Json.parseQuietly("{\"memory\":{\"limit\":104857600,\"swappiness\":0,\"kernel\":1000},\"pids\":{\"limit\":10}}"));
        c.getAsJsonObject("process").addProperty("oomScoreAdj", 500);
    }

    private static List<String> lines(List<HostStep> steps) {
        return steps.stream().map(s -> s.phase() + ": " + s.explain()).toList();
    }

    @Test
    void theLabsContainerHostStepsInOrder() throws Exception {
        String dirs = "/sys/fs/cgroup/cpu,cpuacct/brig/x, /sys/fs/cgroup/memory/brig/x, /sys/fs/cgroup/pids/brig/x, "
                + "/sys/fs/cgroup/devices/brig/x, /sys/fs/cgroup/unified/brig/x";
        assertEquals(List.of(
                "BEFORE_CLONE: make the cgroup directories " + dirs,
                "BEFORE_CLONE: limit devices (devices.deny and devices.allow in /sys/fs/cgroup/devices/brig/x): deny a *:* rwm, "
                        + "allow c *:* m, allow b *:* m, allow c 1:3 rwm, allow c 1:5 rwm, allow c 1:7 rwm, allow c 1:8 rwm, allow c 1:9 rwm, allow c 5:0 rwm, "
                        + "allow c 5:1 rwm, allow c 5:2 rwm, allow c 136:* rwm",
                "BEFORE_CLONE: write 104857600 to /sys/fs/cgroup/memory/brig/x/memory.limit_in_bytes (linux.resources.memory.limit)",
                "BEFORE_CLONE: write 0 to /sys/fs/cgroup/memory/brig/x/memory.swappiness (linux.resources.memory.swappiness)",
                "BEFORE_CLONE: write 10 to /sys/fs/cgroup/pids/brig/x/pids.max (linux.resources.pids.limit)",
                "BEFORE_CLONE: read the oom_kill count in /sys/fs/cgroup/memory/brig/x/memory.oom_control (OOM kills after it are reported at the end)",
                "AFTER_CLONE: write \"0 100000 65536\" to /proc/PID/uid_map (linux.uidMappings)",
                "AFTER_CLONE: write \"0 200000 1000\\n1000 300000 1\" to /proc/PID/gid_map (linux.gidMappings)",
                // The v1 ones it joins itself (Step.JoinCgroupTasks).
                "AFTER_CLONE: place the process in its cgroup2 directory if the clone could not create it there: "
                        + "write PID to cgroup.procs in /sys/fs/cgroup/unified/brig/x",
                "AFTER_CLONE: write 500 to /proc/PID/oom_score_adj (process.oomScoreAdj)"),
                lines(prepared(HostStepTest::lab, Planner.Mode.RUN).host()));
    }

    @Test
    void idMapsAreWrittenAsTheKernelWantsThem() throws Exception {
        HostStep.WriteIdMap gid = prepared(HostStepTest::lab, Planner.Mode.RUN).host().stream()
                .filter(s -> s instanceof HostStep.WriteIdMap m && m.file().equals("gid_map")).map(HostStep.WriteIdMap.class::cast)
                .findFirst().orElseThrow();
        assertEquals("0 200000 1000\n1000 300000 1\n", gid.text());
    }

    @Test
    void aPlainContainerHasNoIdMapsNorOomScoreAdjAndCreateMakesTheFifo() throws Exception {
        List<HostStep> host = prepared(c -> {}, Planner.Mode.CREATE).host();
        assertEquals(List.of(HostStep.MakeCgroups.class, HostStep.SetDevices.class, HostStep.ReadOomKills.class,
                HostStep.MakeExecFifo.class, HostStep.JoinCgroups.class), host.stream().map(Object::getClass).toList());
        assertEquals("make the fifo /run/brig/x/exec.fifo (mode 0622) that start opens to let the program run", host.get(3).explain());
    }

    @Test
    void explainShowsTheHostStepsWhereTheyHappen() throws Exception {
        Runtime.Prepared p = prepared(HostStepTest::lab, Planner.Mode.RUN);
        List<String> lines = p.explain().lines().toList();
        // Before the clone: the cgroup work, then what linux.resources ignores; the helper's
        // steps numbered as its plan; the work after the clone right after the wait for it.
        assertTrue(lines.get(0).startsWith("host: make the cgroup directories "), p.explain());
        assertEquals("host: read the oom_kill count in /sys/fs/cgroup/memory/brig/x/memory.oom_control (OOM kills after it are reported at the end)",
                lines.get(5));
        assertEquals("host: ignored: linux.resources.memory.kernel: kernel memory limits are deprecated by the kernel "
                + "(as runc, Brig ignores them)", lines.get(6));
        assertTrue(lines.get(7).startsWith(" 1. open the container's cgroup2 directory"), p.explain());
        assertTrue(lines.get(8).startsWith(" 2. open the tasks files of the container's v1 cgroups"), p.explain());
        assertTrue(lines.get(9).matches(" *3\\. clone the container's first process in new .*user.*"), p.explain());
        assertTrue(lines.get(10).startsWith(" 4. join the v1 cgroups itself: write 0 to tasks in "), p.explain());
        assertEquals(" 5. wait while brig writes the uid and gid maps, places the process in its cgroup if the clone could not, sets its oom_score_adj",
                lines.get(11));
        assertEquals("host after clone: write \"0 100000 65536\" to /proc/PID/uid_map (linux.uidMappings)", lines.get(12));
        assertTrue(lines.get(14).startsWith("host after clone: place the process in its cgroup2 directory if the clone could not"), p.explain());
        assertEquals("host after clone: write 500 to /proc/PID/oom_score_adj (process.oomScoreAdj)", lines.get(15));
        assertTrue(lines.get(16).startsWith(" 6. "), p.explain());
        // Every step of both, once.
        assertEquals(p.host().size() + p.resources().ignored().size() + p.plan().steps().size(), lines.size());
    }

    @Test
    void theWaitAfterTheCloneNamesOnlyWhatBrigDoesThen() throws Exception {
        Runtime.Prepared p = prepared(c -> {}, Planner.Mode.RUN);
        assertEquals("wait while brig places the process in its cgroup if the clone could not", p.plan().find(brig.helper.Step.Await.class).explain());
    }

    @Test
    void theOomReportNamesTheContainerAndItsLimit() throws Exception {
        assertEquals("container x: out of memory: the OOM killer killed a process (memory limit 100 MiB)",
                Runtime.oomMessage(prepared(HostStepTest::lab, Planner.Mode.RUN)));
        assertEquals("container x: out of memory: the OOM killer killed a process", Runtime.oomMessage(prepared(c -> {}, Planner.Mode.RUN)));
        assertEquals(List.of("512 KiB", "3 GiB", "1000 bytes", "1536 KiB"),
                List.of(Runtime.size(524288), Runtime.size(3L << 30), Runtime.size(1000), Runtime.size(1536 * 1024)));
    }
}
