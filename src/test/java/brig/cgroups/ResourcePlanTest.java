package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import brig.json.Json;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** linux.resources as cgroup writes on described hosts, without root: the exact files and values, in order. */
class ResourcePlanTest {

    private static final Path FS = Path.of("/sys/fs/cgroup");

    /** These machines: v1 hierarchies, hugetlb in the unified tree, no net_cls/net_prio, no blkio weights. */
    private static final List<Hierarchy> HYBRID = List.of(new Hierarchy("cpu", FS.resolve("cpu"), "/"),
            new Hierarchy("cpuset", FS.resolve("cpuset"), "/"), new Hierarchy("memory", FS.resolve("memory"), "/"),
            new Hierarchy("pids", FS.resolve("pids"), "/"), new Hierarchy("blkio", FS.resolve("blkio"), "/"),
            new Hierarchy("", FS.resolve("unified"), "/"));
    private static final ResourcePlan.Host HYBRID_HOST = new ResourcePlan.Host(Set.of("hugetlb"),
            p -> !p.getFileName().toString().equals("blkio.weight"), dir -> Set.of());

    private static final List<Hierarchy> V2 = List.of(new Hierarchy("", FS, "/"));
    private static final ResourcePlan.Host V2_HOST = new ResourcePlan.Host(
            Set.of("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma"), p -> true,
            dir -> dir.equals(FS) ? Set.of("memory", "pids") : Set.of());

    private static Spec.Resources resources(String json) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("linux").add("resources", Json.parseQuietly(json));
        return SpecReader.parse(c).linux().resources();
    }

    private static List<String> plan(List<Hierarchy> hs, ResourcePlan.Host host, String json, long current) throws Exception {
        ContainerCgroup cg = ContainerCgroup.resolve(hs, "/brig/x");
        return ResourcePlan.of(resources(json), cg, host, current).explain();
    }

    private static String error(List<Hierarchy> hs, ResourcePlan.Host host, String json) {
        return assertThrows(CgroupException.class, () -> plan(hs, host, json, -1)).getMessage();
    }

    @Test
    void theLabsLimitsOnV1() throws Exception {
        assertEquals(List.of(
                "write 0 to /sys/fs/cgroup/cpuset/brig/x/cpuset.cpus (linux.resources.cpu.cpus)",
                "write 104857600 to /sys/fs/cgroup/memory/brig/x/memory.limit_in_bytes (linux.resources.memory.limit)",
                "write 0 to /sys/fs/cgroup/memory/brig/x/memory.swappiness (linux.resources.memory.swappiness)",
                "write 128 to /sys/fs/cgroup/cpu/brig/x/cpu.shares (linux.resources.cpu.shares)",
                "write 100000 to /sys/fs/cgroup/cpu/brig/x/cpu.cfs_period_us (linux.resources.cpu.period)",
                "write 50000 to /sys/fs/cgroup/cpu/brig/x/cpu.cfs_quota_us (linux.resources.cpu.quota)",
                "write 10 to /sys/fs/cgroup/pids/brig/x/pids.max (linux.resources.pids.limit)",
                "write 1:0 1048576 to /sys/fs/cgroup/blkio/brig/x/blkio.throttle.read_bps_device (linux.resources.blockIO.throttleReadBpsDevice[0])"),
                plan(HYBRID, HYBRID_HOST, """
                        {"memory":{"limit":104857600,"swappiness":0},"cpu":{"shares":128,"quota":50000,"period":100000,"cpus":"0"},
                         "pids":{"limit":10},"blockIO":{"throttleReadBpsDevice":[{"major":1,"minor":0,"rate":1048576}]}}""", -1));
    }

    @Test
    void v1MemswMovesSoThatItIsNeverBelowTheLimit() throws Exception {
        String json = "{\"memory\":{\"limit\":104857600,\"swap\":209715200}}";
        List<String> lower = List.of(
                "write 104857600 to /sys/fs/cgroup/memory/brig/x/memory.limit_in_bytes (linux.resources.memory.limit)",
                "write 209715200 to /sys/fs/cgroup/memory/brig/x/memory.memsw.limit_in_bytes (linux.resources.memory.swap)");
        assertEquals(lower, plan(HYBRID, HYBRID_HOST, json, -1), "a new cgroup is unlimited: the limit goes down first");
        assertEquals(lower, plan(HYBRID, HYBRID_HOST, json, 209715200), "a live cgroup lowered");
        assertEquals(List.of(lower.get(1), lower.get(0)), plan(HYBRID, HYBRID_HOST, json, 52428800), "a live cgroup raised");
        assertEquals(List.of(
                "write -1 to /sys/fs/cgroup/memory/brig/x/memory.memsw.limit_in_bytes (linux.resources.memory.swap)",
                "write -1 to /sys/fs/cgroup/memory/brig/x/memory.limit_in_bytes (linux.resources.memory.limit)"),
                plan(HYBRID, HYBRID_HOST, "{\"memory\":{\"limit\":-1}}", 52428800), "unlimited memory makes swap unlimited, as runc");
    }

    @Test
    void hugepagesGoToTheUnifiedTreeOnThisHybridHost() throws Exception {
        assertEquals(List.of(
                "write +hugetlb to /sys/fs/cgroup/unified/cgroup.subtree_control (the hugetlb controller for brig)",
                "write +hugetlb to /sys/fs/cgroup/unified/brig/cgroup.subtree_control (the hugetlb controller for x)",
                "write 4194304 to /sys/fs/cgroup/unified/brig/x/hugetlb.2MB.max (linux.resources.hugepageLimits[0])"),
                plan(HYBRID, HYBRID_HOST, "{\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}]}", -1));
    }

    @Test
    void refusedOnThisHybridHostNamingTheField() {
        assertEquals("linux.resources.network.classID: the net_cls controller is not mounted on this host",
                error(HYBRID, HYBRID_HOST, "{\"network\":{\"classID\":1048577}}"));
        assertEquals("linux.resources.network.priorities[0]: the net_prio controller is not mounted on this host",
                error(HYBRID, HYBRID_HOST, "{\"network\":{\"priorities\":[{\"name\":\"eth0\",\"priority\":1}]}}"));
        assertEquals("linux.resources.rdma.mlx5_0: the rdma controller is not mounted on this host",
                error(HYBRID, HYBRID_HOST, "{\"rdma\":{\"mlx5_0\":{\"hcaHandles\":1}}}"));
        assertEquals("linux.resources.blockIO.weight: this host's blkio controller has no blkio.weight file",
                error(HYBRID, HYBRID_HOST, "{\"blockIO\":{\"weight\":500}}"));
        assertEquals("linux.resources.unified.memory.high: the memory controller is not enabled in the unified (cgroup v2) tree on this host",
                error(HYBRID, HYBRID_HOST, "{\"unified\":{\"memory.high\":\"1000000\"}}"));
        assertEquals("linux.resources.unified.cgroup.procs: not a file a container may set",
                error(V2, V2_HOST, "{\"unified\":{\"cgroup.procs\":\"1\"}}"));
    }

    @Test
    void runcsConfigOnPureV2() throws Exception {
        assertEquals(List.of(
                "write +cpu to /sys/fs/cgroup/cgroup.subtree_control (the cpu controller for brig)",
                "write +io to /sys/fs/cgroup/cgroup.subtree_control (the io controller for brig)",
                "write +memory to /sys/fs/cgroup/brig/cgroup.subtree_control (the memory controller for x)",
                "write +cpu to /sys/fs/cgroup/brig/cgroup.subtree_control (the cpu controller for x)",
                "write +pids to /sys/fs/cgroup/brig/cgroup.subtree_control (the pids controller for x)",
                "write +io to /sys/fs/cgroup/brig/cgroup.subtree_control (the io controller for x)",
                "write 104857600 to /sys/fs/cgroup/brig/x/memory.swap.max (linux.resources.memory.swap)",
                "write 104857600 to /sys/fs/cgroup/brig/x/memory.max (linux.resources.memory.limit)",
                "write 39 to /sys/fs/cgroup/brig/x/cpu.weight (linux.resources.cpu.shares)",
                "write 50000 100000 to /sys/fs/cgroup/brig/x/cpu.max (linux.resources.cpu.quota)",
                "write 10 to /sys/fs/cgroup/brig/x/pids.max (linux.resources.pids.limit)",
                "write default 5000 to /sys/fs/cgroup/brig/x/io.weight (linux.resources.blockIO.weight)",
                "write 8:0 wiops=100 to /sys/fs/cgroup/brig/x/io.max (linux.resources.blockIO.throttleWriteIOPSDevice[0])",
                "write 50000000 to /sys/fs/cgroup/brig/x/memory.high (linux.resources.unified.memory.high)",
                "ignored: linux.resources.memory.kernel: kernel memory limits are deprecated by the kernel (as runc, Brig ignores them)"),
                plan(V2, V2_HOST, """
                        {"memory":{"limit":104857600,"swap":209715200,"kernel":1000000},"cpu":{"shares":1024,"quota":50000,"period":100000},
                         "pids":{"limit":10},"blockIO":{"weight":505,"throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":100}]},
                         "unified":{"memory.high":"50000000"}}""", -1));
        assertEquals(List.of("write max to /sys/fs/cgroup/brig/x/memory.swap.max (linux.resources.memory.swap)",
                        "write max to /sys/fs/cgroup/brig/x/memory.max (linux.resources.memory.limit)",
                        "write max to /sys/fs/cgroup/brig/x/cpu.max (linux.resources.cpu.quota)",
                        "write max to /sys/fs/cgroup/brig/x/pids.max (linux.resources.pids.limit)"),
                plan(V2, V2_HOST, "{\"memory\":{\"limit\":-1,\"swap\":-1},\"cpu\":{\"quota\":-1},\"pids\":{\"limit\":-1}}", -1)
                        .stream().filter(l -> !l.contains("subtree_control")).toList());
    }

    @Test
    void v2RefusesWhatItCannotExpress() {
        assertEquals("linux.resources.memory.swappiness: cgroup v2 has no swappiness (the memory controller is in the unified "
                + "tree on this host); leave it out or set -1", error(V2, V2_HOST, "{\"memory\":{\"limit\":1000000,\"swappiness\":0}}"));
        assertEquals("linux.resources.cpu.realtimeRuntime: cgroup v2 has no realtime CPU limits (the cpu controller is in the "
                + "unified tree on this host)", error(V2, V2_HOST, "{\"cpu\":{\"realtimeRuntime\":1000}}"));
        assertEquals("linux.resources.network.classID: the net_cls controller is not mounted on this host",
                error(V2, V2_HOST, "{\"network\":{\"classID\":1}}"));
    }

    @Test
    void cpuWeightAsRuncCrunAndTheKubeletComputeIt() {
        assertEquals(1, V2Resources.weight(2));
        assertEquals(39, V2Resources.weight(1024));
        assertEquals(5, V2Resources.weight(128));
        assertEquals(10000, V2Resources.weight(262144));
    }
}
