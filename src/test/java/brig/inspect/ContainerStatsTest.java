package brig.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import brig.cgroups.CgroupStats;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** docker stats' figures from cgroup numbers (no root: the arithmetic and the formats alone). */
class ContainerStatsTest {
    static CgroupStats.Memory memory(long usage, Map<String, Long> raw) {
        CgroupStats.MemoryEntry none = new CgroupStats.MemoryEntry(0, 0, 0, 0);
        return new CgroupStats.Memory(0, new CgroupStats.MemoryEntry(0, usage, 0, 0), none, none, none, raw);
    }

    @Test
    void memoryInUseLeavesOutInactiveFileCacheAsDockerDoes() {
        assertEquals(1000, ContainerStats.memUsage(memory(5000, Map.of("total_inactive_file", 4000L))), "v1");
        assertEquals(3000, ContainerStats.memUsage(memory(5000, Map.of("inactive_file", 2000L))), "v2");
        assertEquals(5000, ContainerStats.memUsage(memory(5000, Map.of())));
        assertEquals(5000, ContainerStats.memUsage(memory(5000, Map.of("inactive_file", 6000L))), "never below zero");
    }

    @Test
    void cpuPercentIsCpuTimeOverWallTime() {
        ContainerStats.Sample a = new ContainerStats.Sample("c", 0, 0, 0, 0, 0, 0, 1);
        ContainerStats.Sample b = new ContainerStats.Sample("c", 1_000_000_000L, 1_500_000_000L, 0, 0, 0, 0, 1);
        assertEquals(150.0, ContainerStats.cpuPercent(a, b), 1e-9, "one and a half CPUs busy");
        assertEquals(0.0, ContainerStats.cpuPercent(b, b));
    }

    @Test
    void sizesAsDockerPrintsThem() {
        assertEquals("64MiB", ContainerStats.binary(64L << 20));
        assertEquals("824KiB", ContainerStats.binary(824 * 1024));
        assertEquals("1.328MiB", ContainerStats.binary(1392508));
        assertEquals("0B", ContainerStats.binary(0));
        assertEquals("0B", ContainerStats.decimal(0));
        assertEquals("4.1kB", ContainerStats.decimal(4100));
        assertEquals("12.35MB", ContainerStats.decimal(12_345_678));
        ContainerStats.Sample s = new ContainerStats.Sample("web", 0, 0, 1 << 20, 4 << 20, 4100, 0, 3);
        assertEquals(String.format("%-24s %-8s %-22s %-8s %-20s %d", "web", "0.00%", "1MiB / 4MiB", "25.00%", "4.1kB / 0B", 3),
                ContainerStats.row(null, s));
    }
}
