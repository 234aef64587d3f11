package brig.inspect;

import brig.cgroups.CgroupException;
import brig.cgroups.CgroupLimits;
import brig.cgroups.CgroupStats;
import brig.runtime.ContainerState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One row of `docker stats` for a running container, from its cgroup files (the usage of
 * {@link CgroupStats}, the limits of {@link brig.cgroups.CgroupLimits}, as `container inspect`
 * reads them): CPU % between two samples, memory in use (without the inactive page cache, as
 * docker counts it) against its limit (the host's memory when it has none), block I/O and pids.
 * No NET I/O: a network namespace's counters are not a cgroup's.
 */
public final class ContainerStats {
    private ContainerStats() {}

    /** What one reading gives; cpuNanos and atNanos make the CPU % of two readings. */
    public record Sample(String name, long atNanos, long cpuNanos, long memUsage, long memLimit, long blkRead, long blkWrite, long pids) {}

    /** Reads the container's cgroup files now. */
    public static Sample sample(ContainerState s) throws CgroupException {
        List<Path> dirs = s.cgroups().stream().filter(Files::isDirectory).toList();
        if (dirs.isEmpty()) throw new CgroupException("cgroup: container " + s.id() + " has no cgroup (it is not running)");
        long at = System.nanoTime();
        CgroupStats st = CgroupStats.read(dirs);
        CgroupLimits limits = CgroupLimits.read(ContainerInspect.cgroup(dirs));
        long read = 0, write = 0;
        for (CgroupStats.BlkioEntry e : st.blkio().ioServiceBytesRecursive()) {
            if (e.op().equalsIgnoreCase("read")) read += e.value();
            if (e.op().equalsIgnoreCase("write")) write += e.value();
        }
        long limit = limits.memory() == CgroupLimits.UNLIMITED ? hostMemory() : Math.min(limits.memory(), hostMemory());
        return new Sample(s.id(), at, st.cpu().usage().total(), memUsage(st.memory()), limit, read, write, st.pids().current());
    }

    /**
     * Docker's memory in use: the usage less the inactive file cache (v1's total_inactive_file,
     * v2's inactive_file), which the kernel reclaims first.
     */
    static long memUsage(CgroupStats.Memory m) {
        long usage = m.usage().usage();
        Long inactive = m.raw().containsKey("total_inactive_file") ? m.raw().get("total_inactive_file") : m.raw().get("inactive_file");
        return inactive != null && inactive < usage ? usage - inactive : usage;
    }

    /** CPU % as docker prints it: the container's CPU time over the wall time between the samples (100% = one CPU). */
    public static double cpuPercent(Sample before, Sample now) {
        long wall = now.atNanos() - before.atNanos(), cpu = now.cpuNanos() - before.cpuNanos();
        return wall <= 0 || cpu < 0 ? 0 : 100.0 * cpu / wall;
    }

    public static final String HEADER = String.format("%-24s %-8s %-22s %-8s %-20s %s", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "BLOCK I/O", "PIDS");

    /** The row of {@code now}, with the CPU % since {@code before} (null: none yet, 0.00%). */
    public static String row(Sample before, Sample now) {
        double mem = now.memLimit() > 0 ? 100.0 * now.memUsage() / now.memLimit() : 0;
        return String.format(Locale.ROOT, "%-24s %-8s %-22s %-8s %-20s %d", now.name(),
                String.format(Locale.ROOT, "%.2f%%", before == null ? 0 : cpuPercent(before, now)),
                binary(now.memUsage()) + " / " + binary(now.memLimit()), String.format(Locale.ROOT, "%.2f%%", mem),
                decimal(now.blkRead()) + " / " + decimal(now.blkWrite()), now.pids());
    }

    /** docker's (go-units BytesSize) binary sizes: 1.328MiB, 64MiB. */
    static String binary(long bytes) {
        return size(bytes, 1024, new String[] {"B", "KiB", "MiB", "GiB", "TiB", "PiB"});
    }

    /** docker's (go-units HumanSize) decimal sizes for I/O: 0B, 4.1kB, 12.3MB. */
    static String decimal(long bytes) {
        return size(bytes, 1000, new String[] {"B", "kB", "MB", "GB", "TB", "PB"});
    }

    private static String size(long bytes, int base, String[] units) {
        double v = bytes;
        int k = 0;
        while (v >= base && k < units.length - 1) {
            v /= base;
            k++;
        }
        // %.4g without the exponent form and without trailing zeros, as Go's %.4g prints.
        String s = new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
        return s + units[k];
    }

    /** MemTotal of /proc/meminfo in bytes: docker's limit of a container that has none. */
    static long hostMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            // fall through
        }
        return Long.MAX_VALUE;
    }
}
