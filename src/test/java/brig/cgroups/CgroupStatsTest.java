package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Parsing cgroup v2 files, whose controllers these v1 hosts cannot give a container (the v2
 * kernel runs in the VM harness): real-format text as a v2 kernel writes it, and the JSON runc
 * prints for it.
 */
class CgroupStatsTest {

    /** A cgroup directory made of sample files. */
    private static CgroupStats.Source dir(Map<String, String> files) {
        return new CgroupStats.Source() {
            @Override
            public String read(String file) {
                return files.get(file);
            }

            @Override
            public List<String> files() {
                return List.copyOf(new TreeMap<>(files).keySet());
            }
        };
    }

    private static final Map<String, String> V2 = Map.ofEntries(
            Map.entry("cgroup.events", "populated 1\nfrozen 0\n"),
            Map.entry("memory.current", "7340032\n"),
            Map.entry("memory.max", "104857600\n"),
            Map.entry("memory.peak", "9437184\n"),
            Map.entry("memory.swap.current", "0\n"),
            Map.entry("memory.swap.max", "max\n"),
            Map.entry("memory.events", "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n"),
            Map.entry("memory.stat", "anon 4194304\nfile 2097152\nkernel 638976\nkernel_stack 49152\npagetables 57344\n"
                    + "sock 0\nshmem 0\nfile_mapped 1048576\nfile_dirty 0\nfile_writeback 0\nswapcached 0\n"
                    + "inactive_anon 4157440\nactive_anon 36864\ninactive_file 1048576\nactive_file 1048576\n"
                    + "unevictable 0\npgfault 3355\npgmajfault 0\n"),
            Map.entry("cpu.stat", "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\ncore_sched.force_idle_usec 0\n"
                    + "nr_periods 10\nnr_throttled 4\nthrottled_usec 55000\nnr_bursts 0\nburst_usec 0\n"),
            Map.entry("cpu.max", "50000 100000\n"),
            Map.entry("pids.current", "3\n"),
            Map.entry("pids.max", "max\n"),
            Map.entry("io.stat", "8:0 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n"
                    + "254:16 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=8192 dios=2\n"),
            Map.entry("hugetlb.2MB.current", "4194304\n"),
            Map.entry("hugetlb.2MB.max", "max\n"),
            Map.entry("hugetlb.2MB.events", "max 1\n"),
            Map.entry("hugetlb.2MB.rsvd.current", "0\n"),
            Map.entry("hugetlb.1GB.current", "0\n"),
            Map.entry("hugetlb.1GB.events", "max 0\n"),
            Map.entry("cpuset.cpus.effective", "0-2,5\n"),
            Map.entry("cpuset.mems.effective", "0\n"));

    @Test
    void v2FilesReadAsRuncReportsThem() throws Exception {
        CgroupStats s = CgroupStats.read(List.of(dir(V2)), "sample");
        assertEquals(new CgroupStats.MemoryEntry(104857600, 7340032, 9437184, 12), s.memory().usage());
        assertEquals(new CgroupStats.MemoryEntry(-1, 0, 0, 0), s.memory().swap(), "swap.max \"max\" is 2^64-1");
        assertEquals(2097152, s.memory().cache(), "page cache: memory.stat's file");
        assertEquals(4194304, s.memory().raw().get("anon"));
        assertEquals(new CgroupStats.CpuUsage(1234567000L, List.of(), List.of(), List.of(), 234567000L, 1000000000L), s.cpu().usage());
        assertEquals(new CgroupStats.Throttling(10, 4, 55000000L), s.cpu().throttling());
        assertEquals(new CgroupStats.Pids(3, 0), s.pids(), "pids.max \"max\" is no limit: 0");
        assertEquals(List.of(new CgroupStats.BlkioEntry(8, 0, "Read", 1459200), new CgroupStats.BlkioEntry(8, 0, "Write", 314773504),
                new CgroupStats.BlkioEntry(8, 0, "Discard", 0), new CgroupStats.BlkioEntry(254, 16, "Read", 4096),
                new CgroupStats.BlkioEntry(254, 16, "Write", 0), new CgroupStats.BlkioEntry(254, 16, "Discard", 8192)),
                s.blkio().ioServiceBytesRecursive());
        assertEquals(6, s.blkio().ioServicedRecursive().size());
        assertEquals(Map.of("2MB", new CgroupStats.Hugetlb(4194304, 0, 1), "1GB", new CgroupStats.Hugetlb(0, 0, 0)), s.hugetlb(),
                "no rsvd entry");
        assertEquals(List.of(0, 1, 2, 5), s.cpuset().cpus());
    }

    @Test
    void jsonHasRuncsNamesAndUnsignedLimits() throws Exception {
        JsonObject j = CgroupStats.read(List.of(dir(V2)), "sample").toJson();
        String text = Json.compact(j);
        assertEquals(1234567000L, j.getAsJsonObject("cpu").getAsJsonObject("usage").get("total").getAsLong());
        assertEquals(4, j.getAsJsonObject("cpu").getAsJsonObject("throttling").get("throttledPeriods").getAsLong());
        assertTrue(text.contains("\"swap\":{\"limit\":18446744073709551615,\"failcnt\":0}"), text);
        assertTrue(text.contains("\"usage\":{\"limit\":104857600,\"usage\":7340032,\"max\":9437184,\"failcnt\":12}"), text);
        assertTrue(text.contains("\"pids\":{\"current\":3}"), "limit 0 is left out, as runc's omitempty does: " + text);
        assertTrue(text.contains("\"ioServiceBytesRecursive\":[{\"major\":8,\"op\":\"Read\",\"value\":1459200}"),
                "minor 0 and zero values left out: " + text);
        assertTrue(text.contains("\"hugetlb\":{\"1GB\":{\"failcnt\":0},\"2MB\":{\"usage\":4194304,\"failcnt\":1}}"), text);
        assertTrue(text.endsWith("\"intel_rdt\":{}}"), text);
        assertFalse(j.getAsJsonObject("cpu").getAsJsonObject("usage").has("percpu"), "no per-CPU figures on v2");
        String event = Json.compact(CgroupStats.read(List.of(dir(V2)), "sample").toEvent("box1"));
        assertTrue(event.startsWith("{\"type\":\"stats\",\"id\":\"box1\",\"data\":{\"cpu\":"), event);
        assertEquals("{\"type\":\"oom\",\"id\":\"box1\"}", Json.compact(OomWatch.event("box1")));
    }

    @Test
    void v1FilesReadAsRuncReportsThem() throws Exception {
        var memory = dir(Map.of("memory.usage_in_bytes", "17301504\n", "memory.max_usage_in_bytes", "17825792\n",
                "memory.limit_in_bytes", "9223372036854771712\n", "memory.failcnt", "0\n",
                "memory.memsw.usage_in_bytes", "17301504\n", "memory.stat", "cache 0\nrss 16777216\ntotal_cache 4096\ntotal_rss 16777216\n"));
        var cpuacct = dir(Map.of("cpuacct.usage", "812345678\n", "cpuacct.usage_percpu", "412345678 400000000 \n",
                "cpuacct.stat", "user 50\nsystem 31\n"));
        var cpu = dir(Map.of("cpu.cfs_period_us", "100000\n", "cpu.stat", "nr_periods 7\nnr_throttled 2\nthrottled_time 3000000\n"));
        var blkio = dir(Map.of("blkio.throttle.io_service_bytes_recursive", "8:0 Read 4096\n8:0 Write 0\n8:0 Sync 4096\n"
                + "8:0 Async 0\n8:0 Discard 0\n8:0 Total 4096\nTotal 4096\n", "blkio.throttle.io_serviced_recursive", "Total 0\n"));
        var pids = dir(Map.of("pids.current", "2\n", "pids.max", "10\n"));
        CgroupStats s = CgroupStats.read(List.of(memory, cpuacct, cpu, blkio, pids), "sample");
        assertEquals(new CgroupStats.MemoryEntry(9223372036854771712L, 17301504, 17825792, 0), s.memory().usage());
        assertEquals(4096, s.memory().cache());
        assertEquals(new CgroupStats.CpuUsage(812345678, List.of(412345678L, 400000000L), List.of(), List.of(), 310_000_000L, 500_000_000L),
                s.cpu().usage(), "ticks of 10 ms");
        assertEquals(new CgroupStats.Throttling(7, 2, 3000000), s.cpu().throttling());
        assertEquals(6, s.blkio().ioServiceBytesRecursive().size(), "the overall Total line is dropped");
        assertEquals(new CgroupStats.Pids(2, 10), s.pids());
    }

    @Test
    void badNumberNamesTheFile() {
        var bad = dir(Map.of("pids.current", "lots\n"));
        CgroupException e = assertThrows(CgroupException.class, () -> CgroupStats.read(List.of(bad), "sample"));
        assertEquals("cgroup: pids.current: not a number: \"lots\"", e.getMessage());
    }

    @Test
    void v2MemoryEventsAndCgroupEvents() throws Exception {
        assertEquals(new OomWatch.Counters(3, 2), OomWatch.parse(V2.get("memory.events"), Path.of("memory.events"), false));
        assertEquals(new OomWatch.Counters(0, 5), OomWatch.parse("oom_kill_disable 0\nunder_oom 0\noom_kill 5\n",
                Path.of("memory.oom_control"), true));
        assertThrows(CgroupException.class, () -> OomWatch.parse("oom_kill_disable 0\nunder_oom 0\n", Path.of("memory.oom_control"), true));
        assertFalse(Freezer.parseFrozen(V2.get("cgroup.events"), Path.of("x")));
        assertTrue(Freezer.parseFrozen("populated 1\nfrozen 1\n", Path.of("x")));
        assertThrows(CgroupException.class, () -> Freezer.parseFrozen("populated 1\n", Path.of("x")));
    }
}
