package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import brig.json.Json;
import brig.spec.Spec;
import brig.spec.SpecReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `update`'s writes for a live cgroup, without root: a partial linux.resources ordered against
 * the limits the cgroup has now, on this kind of hybrid host and on a pure v2 one.
 */
class UpdatePlanTest {

    private static final Path FS = Path.of("/sys/fs/cgroup");
    private static final long M = 1 << 20;

    private static final List<Hierarchy> HYBRID = List.of(new Hierarchy("cpu,cpuacct", FS.resolve("cpu,cpuacct"), "/"),
            new Hierarchy("cpuset", FS.resolve("cpuset"), "/"), new Hierarchy("memory", FS.resolve("memory"), "/"),
            new Hierarchy("pids", FS.resolve("pids"), "/"), new Hierarchy("", FS.resolve("unified"), "/"));
    private static final ResourcePlan.Host HYBRID_HOST = new ResourcePlan.Host(Set.of("hugetlb"), p -> true, dir -> Set.of());

    private static final List<Hierarchy> V2 = List.of(new Hierarchy("", FS, "/"));
    /** A live container: every controller already enabled down to it. */
    private static final ResourcePlan.Host V2_HOST = new ResourcePlan.Host(Set.of("cpuset", "cpu", "io", "memory", "pids"), p -> true,
            dir -> Set.of("cpuset", "cpu", "io", "memory", "pids"));

    private static CgroupLimits now(long memory, long memsw, long quota, long period) {
        return new CgroupLimits(memory, memsw, quota, period, 0, 1_000_000, CgroupLimits.UNLIMITED);
    }

    private static List<String> plan(List<Hierarchy> hs, ResourcePlan.Host host, String json, CgroupLimits now) throws Exception {
        Spec.Resources r = SpecReader.resources(Json.parse(json).getAsJsonObject(), "linux.resources");
        return ResourcePlan.update(r, ContainerCgroup.resolve(hs, "/brig/x"), host, now).explain();
    }

    private static String v1(String file, long value, String field) {
        String dir = file.startsWith("memory") ? "memory" : file.startsWith("cpuset") ? "cpuset" : file.startsWith("pids") ? "pids" : "cpu,cpuacct";
        return "write " + value + " to /sys/fs/cgroup/" + dir + "/brig/x/" + file + " (linux.resources." + field + ")";
    }

    @Test
    void v1MemoryAndSwapRaisedMoveMemswFirst() throws Exception {
        // 100M with no swap (memsw = limit) to 400M with none: the limit first would be above memsw (EINVAL).
        assertEquals(List.of(v1("memory.memsw.limit_in_bytes", 400 * M, "memory.swap"), v1("memory.limit_in_bytes", 400 * M, "memory.limit")),
                plan(HYBRID, HYBRID_HOST, "{\"memory\":{\"limit\":419430400,\"swap\":419430400}}", now(100 * M, 100 * M, -1, 100000)));
    }

    @Test
    void v1MemoryAndSwapLoweredMoveMemswLast() throws Exception {
        // memsw first would be below the limit the cgroup has (EINVAL).
        assertEquals(List.of(v1("memory.limit_in_bytes", 100 * M, "memory.limit"), v1("memory.memsw.limit_in_bytes", 100 * M, "memory.swap")),
                plan(HYBRID, HYBRID_HOST, "{\"memory\":{\"limit\":104857600,\"swap\":104857600}}", now(400 * M, 400 * M, -1, 100000)));
        // Lowered within the memsw it has: the limit can go first.
        assertEquals(List.of(v1("memory.limit_in_bytes", 150 * M, "memory.limit"), v1("memory.memsw.limit_in_bytes", 500 * M, "memory.swap")),
                plan(HYBRID, HYBRID_HOST, "{\"memory\":{\"limit\":157286400,\"swap\":524288000}}", now(200 * M, 300 * M, -1, 100000)));
        // Unlimited: memsw first, as the limit would be above any memsw.
        assertEquals(List.of("write -1 to /sys/fs/cgroup/memory/brig/x/memory.memsw.limit_in_bytes (linux.resources.memory.swap)",
                        "write -1 to /sys/fs/cgroup/memory/brig/x/memory.limit_in_bytes (linux.resources.memory.limit)"),
                plan(HYBRID, HYBRID_HOST, "{\"memory\":{\"limit\":-1}}", now(100 * M, 100 * M, -1, 100000)));
    }

    @Test
    void v1AValueGivenAloneIsCheckedAgainstTheCgroupsOther() throws Exception {
        assertEquals(List.of(v1("memory.limit_in_bytes", 300 * M, "memory.limit")),
                plan(HYBRID, HYBRID_HOST, "{\"memory\":{\"limit\":314572800}}", now(100 * M, CgroupLimits.UNLIMITED, -1, 100000)));
        assertEquals(List.of(v1("memory.memsw.limit_in_bytes", 300 * M, "memory.swap")),
                plan(HYBRID, HYBRID_HOST, "{\"memory\":{\"swap\":314572800}}", now(100 * M, 100 * M, -1, 100000)));
        assertEquals("linux.resources.memory.limit: 314572800 is above the memory plus swap limit the cgroup has (104857600, "
                + "memory.memsw.limit_in_bytes): give the swap limit too", assertThrows(CgroupException.class, () -> plan(HYBRID,
                HYBRID_HOST, "{\"memory\":{\"limit\":314572800}}", now(100 * M, 100 * M, -1, 100000))).getMessage());
        assertEquals("linux.resources.memory.swap: memory plus swap (52428800) must not be below the memory limit (104857600, the "
                + "cgroup's now)", assertThrows(CgroupException.class, () -> plan(HYBRID, HYBRID_HOST,
                "{\"memory\":{\"swap\":52428800}}", now(100 * M, 100 * M, -1, 100000))).getMessage());
    }

    @Test
    void v1CfsAndRtPeriodsGoFirstWhenGrowingLastWhenShrinking() throws Exception {
        CgroupLimits now = now(CgroupLimits.UNLIMITED, CgroupLimits.UNLIMITED, 50000, 100000);
        assertEquals(List.of(v1("cpu.cfs_quota_us", 25000, "cpu.quota"), v1("cpu.cfs_period_us", 50000, "cpu.period")),
                plan(HYBRID, HYBRID_HOST, "{\"cpu\":{\"quota\":25000,\"period\":50000}}", now));
        assertEquals(List.of(v1("cpu.cfs_period_us", 200000, "cpu.period"), v1("cpu.cfs_quota_us", 400000, "cpu.quota")),
                plan(HYBRID, HYBRID_HOST, "{\"cpu\":{\"quota\":400000,\"period\":200000}}", now));
        assertEquals(List.of(v1("cpu.cfs_quota_us", -1, "cpu.quota")), plan(HYBRID, HYBRID_HOST, "{\"cpu\":{\"quota\":-1}}", now));
        assertEquals(List.of(v1("cpu.rt_runtime_us", 10000, "cpu.realtimeRuntime"), v1("cpu.rt_period_us", 500000, "cpu.realtimePeriod")),
                plan(HYBRID, HYBRID_HOST, "{\"cpu\":{\"realtimeRuntime\":10000,\"realtimePeriod\":500000}}", now));
    }

    @Test
    void v1PidsCpusetAndSharesAsGiven() throws Exception {
        assertEquals(List.of("write 0 to /sys/fs/cgroup/cpuset/brig/x/cpuset.cpus (linux.resources.cpu.cpus)",
                        "write 0 to /sys/fs/cgroup/cpuset/brig/x/cpuset.mems (linux.resources.cpu.mems)",
                        v1("cpu.shares", 512, "cpu.shares"), "write max to /sys/fs/cgroup/pids/brig/x/pids.max (linux.resources.pids.limit)"),
                plan(HYBRID, HYBRID_HOST, "{\"cpu\":{\"cpus\":\"0\",\"mems\":\"0\",\"shares\":512},\"pids\":{\"limit\":-1}}",
                        CgroupLimits.NEW));
        assertEquals(List.of(v1("pids.max", 5, "pids.limit"), "ignored: linux.resources.devices: an update does not change device "
                + "rules (as runc's)"), plan(HYBRID, HYBRID_HOST, "{\"pids\":{\"limit\":5},\"devices\":[{\"allow\":true}]}", CgroupLimits.NEW));
    }

    @Test
    void v2CombinesAValueGivenAloneWithTheCgroupsOther() throws Exception {
        CgroupLimits now = now(100 * M, 0, 50000, 100000);
        assertEquals(List.of("write 104857600 to /sys/fs/cgroup/brig/x/memory.swap.max (linux.resources.memory.swap)"),
                plan(V2, V2_HOST, "{\"memory\":{\"swap\":209715200}}", now), "swap alone: memory plus swap, less the limit it has");
        assertEquals(List.of("write 0 to /sys/fs/cgroup/brig/x/memory.swap.max (linux.resources.memory.swap)",
                        "write 314572800 to /sys/fs/cgroup/brig/x/memory.max (linux.resources.memory.limit)"),
                plan(V2, V2_HOST, "{\"memory\":{\"limit\":314572800,\"swap\":314572800}}", now));
        assertEquals(List.of("write 50000 200000 to /sys/fs/cgroup/brig/x/cpu.max (linux.resources.cpu.period)"),
                plan(V2, V2_HOST, "{\"cpu\":{\"period\":200000}}", now), "the period alone keeps the quota");
        assertEquals(List.of("write 25000 to /sys/fs/cgroup/brig/x/cpu.max (linux.resources.cpu.quota)",
                        "write 3 to /sys/fs/cgroup/brig/x/pids.max (linux.resources.pids.limit)"),
                plan(V2, V2_HOST, "{\"cpu\":{\"quota\":25000},\"pids\":{\"limit\":3}}", now), "the quota alone keeps the period");
        assertEquals("linux.resources.memory.swap: a swap limit needs a memory limit, and the cgroup has none",
                assertThrows(CgroupException.class, () -> plan(V2, V2_HOST, "{\"memory\":{\"swap\":209715200}}", CgroupLimits.NEW)).getMessage());
    }

    @Test
    void currentLimitsAreReadFromTheControllersFiles(@TempDir Path root) throws Exception {
        // A v1 layout and a v2 one in files of the kernel's formats.
        Path mem = root.resolve("memory/brig/x"), cpu = root.resolve("cpu/brig/x"), pids = root.resolve("pids/brig/x");
        for (Path p : List.of(mem, cpu, pids)) Files.createDirectories(p);
        Files.writeString(mem.resolve("memory.limit_in_bytes"), "104857600\n");
        Files.writeString(mem.resolve("memory.memsw.limit_in_bytes"), "9223372036854771712\n");
        Files.writeString(cpu.resolve("cpu.cfs_quota_us"), "-1\n");
        Files.writeString(cpu.resolve("cpu.cfs_period_us"), "50000\n");
        Files.writeString(pids.resolve("pids.max"), "max\n");
        List<Hierarchy> v1 = List.of(new Hierarchy("memory", root.resolve("memory"), "/"), new Hierarchy("cpu", root.resolve("cpu"), "/"),
                new Hierarchy("pids", root.resolve("pids"), "/"));
        assertEquals(new CgroupLimits(100 * M, CgroupLimits.UNLIMITED, -1, 50000, 0, 1_000_000, CgroupLimits.UNLIMITED),
                CgroupLimits.read(ContainerCgroup.ofDirs(v1, List.of(mem, cpu, pids))));
        Path v2 = root.resolve("v2/brig/x");
        Files.createDirectories(v2);
        Files.writeString(v2.resolve("memory.max"), "max\n");
        Files.writeString(v2.resolve("memory.swap.max"), "0\n");
        Files.writeString(v2.resolve("cpu.max"), "25000 100000\n");
        Files.writeString(v2.resolve("pids.max"), "12\n");
        assertEquals(new CgroupLimits(CgroupLimits.UNLIMITED, 0, 25000, 100000, 0, 1_000_000, 12),
                CgroupLimits.read(ContainerCgroup.ofDirs(List.of(new Hierarchy("", root.resolve("v2"), "/")), List.of(v2))));
    }
}
