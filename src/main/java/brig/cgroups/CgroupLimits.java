package brig.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The limits a cgroup has now, read from its files: what an update of a live cgroup is ordered
 * against. On v1 memory.memsw.limit_in_bytes may never be below memory.limit_in_bytes, the CFS
 * quota is checked against the period and the RT runtime against its period, so the order of
 * two writes depends on where the values are now. Unlimited reads as {@link #UNLIMITED}, so
 * that comparisons need no special case.
 *
 * @param memory memory.limit_in_bytes (v1) or memory.max (v2), bytes
 * @param memorySwap v1: memory.memsw.limit_in_bytes (memory plus swap); v2: memory.swap.max
 *     (swap alone); UNLIMITED where the host has no such file
 * @param cpuQuota the CFS quota in µs, -1 for none
 * @param cpuPeriod the CFS period in µs
 * @param rtRuntime the realtime runtime in µs (v1 only; 0 where absent)
 * @param rtPeriod the realtime period in µs (v1 only)
 * @param pids pids.max, UNLIMITED for "max"
 */
public record CgroupLimits(long memory, long memorySwap, long cpuQuota, long cpuPeriod, long rtRuntime, long rtPeriod, long pids) {

    public static final long UNLIMITED = Long.MAX_VALUE;

    /** A cgroup just made: what the kernel gives a new one. */
    public static final CgroupLimits NEW = new CgroupLimits(UNLIMITED, UNLIMITED, -1, 100_000, 0, 1_000_000, UNLIMITED);

    /** A new cgroup but for its memory limit (-1: unlimited), its memsw taken to be the same: the tightest it could be. */
    static CgroupLimits withMemory(long memory) {
        long m = memory < 0 ? UNLIMITED : memory;
        return new CgroupLimits(m, m, NEW.cpuQuota, NEW.cpuPeriod, NEW.rtRuntime, NEW.rtPeriod, NEW.pids);
    }

    /**
     * Reads the container's current limits, each controller from the hierarchy it lives in on
     * this host (a v1 one, else the unified tree). A file the host lacks keeps the value a new
     * cgroup has; a file that cannot be read is an error naming it.
     */
    public static CgroupLimits read(ContainerCgroup cgroup) throws CgroupException {
        Path memory = dir(cgroup, "memory"), cpu = dir(cgroup, "cpu"), pids = dir(cgroup, "pids");
        long mem = NEW.memory, swap = NEW.memorySwap, quota = NEW.cpuQuota, period = NEW.cpuPeriod, rtRuntime = NEW.rtRuntime,
                rtPeriod = NEW.rtPeriod, pidsMax = NEW.pids;
        if (memory != null && !v2(cgroup, memory)) {
            mem = number(memory.resolve("memory.limit_in_bytes"), mem);
            swap = number(memory.resolve("memory.memsw.limit_in_bytes"), swap);
        } else if (memory != null) {
            mem = number(memory.resolve("memory.max"), mem);
            swap = number(memory.resolve("memory.swap.max"), swap);
        }
        if (cpu != null && !v2(cgroup, cpu)) {
            quota = number(cpu.resolve("cpu.cfs_quota_us"), quota);
            period = number(cpu.resolve("cpu.cfs_period_us"), period);
            rtRuntime = number(cpu.resolve("cpu.rt_runtime_us"), rtRuntime);
            rtPeriod = number(cpu.resolve("cpu.rt_period_us"), rtPeriod);
        } else if (cpu != null) {
            // "QUOTA PERIOD", QUOTA "max" when there is none.
            String max = text(cpu.resolve("cpu.max"));
            if (max != null) {
                String[] f = max.trim().split("\\s+");
                quota = f[0].equals("max") ? -1 : parse(cpu.resolve("cpu.max"), f[0]);
                if (f.length > 1) period = parse(cpu.resolve("cpu.max"), f[1]);
            }
        }
        if (pids != null) pidsMax = number(pids.resolve("pids.max"), pidsMax);
        return new CgroupLimits(mem, swap, quota, period, rtRuntime, rtPeriod, pidsMax);
    }

    /** The container's directory holding a controller: its v1 hierarchy's, else the unified one if it has it there. */
    private static Path dir(ContainerCgroup cgroup, String controller) {
        for (ContainerCgroup.Dir d : cgroup.dirs()) if (d.hierarchy().has(controller)) return d.path();
        for (ContainerCgroup.Dir d : cgroup.dirs()) {
            if (d.hierarchy().unified() && Files.exists(d.path().resolve(controller + ".max"))) return d.path();
        }
        return null;
    }

    private static boolean v2(ContainerCgroup cgroup, Path dir) {
        return cgroup.dirs().stream().anyMatch(d -> d.path().equals(dir) && d.hierarchy().unified());
    }

    private static long number(Path file, long absent) throws CgroupException {
        String t = text(file);
        return t == null ? absent : parse(file, t.trim());
    }

    private static long parse(Path file, String v) throws CgroupException {
        if (v.equals("max")) return UNLIMITED;
        try {
            long n = Long.parseLong(v);
            // v1 reports "unlimited" as the largest page-aligned count, 9223372036854771712.
            return n >= Long.MAX_VALUE / 2 ? UNLIMITED : n;
        } catch (NumberFormatException e) {
            throw new CgroupException("cgroup: " + file + ": expected a number or max, got \"" + v + "\"");
        }
    }

    private static String text(Path file) throws CgroupException {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new CgroupException("cgroup: read " + file + ": " + e.getMessage());
        }
    }
}
