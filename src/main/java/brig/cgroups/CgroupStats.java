package brig.cgroups;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A container's resource usage, read from its cgroup files (v1, v2, or both on a hybrid host),
 * in the shape of the "data" object runc's {@code events --stats} prints, so that tools written
 * for runc read Brig's the same way. Counters are unsigned 64-bit in the kernel: a long holding
 * -1 is 2^64-1, runc's "no limit" on v2; {@link #toJson} writes them unsigned.
 *
 * <p>Each controller is read where the container has its files: a v1 file name where there is
 * one (memory.usage_in_bytes, cpuacct.usage, blkio.*, hugetlb.SIZE.usage_in_bytes), else the v2
 * one (memory.current, cpu.stat, io.stat, hugetlb.SIZE.current). pids.current and pids.max are
 * the same on both. A controller the container is not in reads as zeros, as in runc.
 */
public record CgroupStats(Cpu cpu, CpuSet cpuset, Memory memory, Pids pids, Blkio blkio, Map<String, Hugetlb> hugetlb) {

    public CgroupStats {
        hugetlb = Map.copyOf(hugetlb);
    }

    /** Nanoseconds. On v1 kernel and user come from cpuacct.stat in clock ticks (USER_HZ 100). */
    public record CpuUsage(long total, List<Long> percpu, List<Long> percpuKernel, List<Long> percpuUser, long kernel, long user) {
        public CpuUsage {
            percpu = List.copyOf(percpu);
            percpuKernel = List.copyOf(percpuKernel);
            percpuUser = List.copyOf(percpuUser);
        }
    }

    /** CFS quota enforcement: periods, throttled periods, and throttled time in nanoseconds. */
    public record Throttling(long periods, long throttledPeriods, long throttledTime) {}

    public record Cpu(CpuUsage usage, Throttling throttling) {}

    /**
     * @param flags v1's cpuset flag files by runc's names ("cpu_exclusive", ...,
     *     "sched_relax_domain_level", which may be -1), as runc reads them; v2 has none (zeros)
     */
    public record CpuSet(List<Integer> cpus, List<Integer> mems, Map<String, Long> flags) {
        public CpuSet {
            cpus = List.copyOf(cpus);
            mems = List.copyOf(mems);
            flags = Map.copyOf(flags);
        }

        public CpuSet(List<Integer> cpus, List<Integer> mems) {
            this(cpus, mems, Map.of());
        }
    }

    /** Bytes; max is the high-water mark (v1 only), failcnt how often the limit was hit. */
    public record MemoryEntry(long limit, long usage, long max, long failcnt) {}

    /**
     * @param cache page cache bytes
     * @param swap on v1 memory+swap together (memsw), as runc reports it; on v2 swap alone
     * @param raw memory.stat as it is
     */
    public record Memory(long cache, MemoryEntry usage, MemoryEntry swap, MemoryEntry kernel, MemoryEntry kernelTcp,
                         Map<String, Long> raw) {
        public Memory {
            raw = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(raw));
        }
    }

    /** @param limit 0 when there is none ("max"), as runc reports it */
    public record Pids(long current, long limit) {}

    /** One device's count: op is "Read", "Write", "Sync", "Async", "Discard", "Total" or "" (time and sectors). */
    public record BlkioEntry(long major, long minor, String op, long value) {}

    public record Blkio(List<BlkioEntry> ioServiceBytesRecursive, List<BlkioEntry> ioServicedRecursive,
                        List<BlkioEntry> ioQueuedRecursive, List<BlkioEntry> ioServiceTimeRecursive,
                        List<BlkioEntry> ioWaitTimeRecursive, List<BlkioEntry> ioMergedRecursive,
                        List<BlkioEntry> ioTimeRecursive, List<BlkioEntry> sectorsRecursive) {
        public Blkio {
            ioServiceBytesRecursive = List.copyOf(ioServiceBytesRecursive);
            ioServicedRecursive = List.copyOf(ioServicedRecursive);
            ioQueuedRecursive = List.copyOf(ioQueuedRecursive);
            ioServiceTimeRecursive = List.copyOf(ioServiceTimeRecursive);
            ioWaitTimeRecursive = List.copyOf(ioWaitTimeRecursive);
            ioMergedRecursive = List.copyOf(ioMergedRecursive);
            ioTimeRecursive = List.copyOf(ioTimeRecursive);
            sectorsRecursive = List.copyOf(sectorsRecursive);
        }
    }

    /** Bytes of one huge page size; failcnt is v1's failcnt or v2's "max" event count. */
    public record Hugetlb(long usage, long max, long failcnt) {}

    /** The files of one cgroup directory, by name: null for one that is not there. */
    interface Source {
        String read(String file) throws CgroupException;

        List<String> files() throws CgroupException;

        static Source of(Path dir) {
            return new Source() {
                @Override
                public String read(String file) throws CgroupException {
                    try {
                        return Files.readString(dir.resolve(file));
                    } catch (NoSuchFileException e) {
                        return null;
                    } catch (IOException e) {
                        throw new CgroupException("cgroup: read " + dir.resolve(file) + ": " + e.getMessage());
                    }
                }

                @Override
                public List<String> files() throws CgroupException {
                    try (var s = Files.list(dir)) {
                        return s.map(p -> p.getFileName().toString()).sorted().toList();
                    } catch (IOException e) {
                        throw new CgroupException("cgroup: list " + dir + ": " + e.getMessage());
                    }
                }
            };
        }
    }

    /** Reads the container's usage from its cgroup directories (as ContainerState.cgroups records them). */
    public static CgroupStats read(List<Path> containerDirs) throws CgroupException {
        for (Path d : containerDirs) {
            if (!Files.isDirectory(d)) throw new CgroupException("cgroup: read stats: " + d + ": ENOENT: no such file or directory");
        }
        return read(containerDirs.stream().map(Source::of).toList(), containerDirs.toString());
    }

    /** From the directories' files, whatever they are (tests give real-format sample text). */
    static CgroupStats read(List<Source> dirs, String what) throws CgroupException {
        Source mem1 = with(dirs, "memory.usage_in_bytes"), mem2 = with(dirs, "memory.current");
        Memory memory = mem1 != null ? memoryV1(mem1) : mem2 != null ? memoryV2(mem2) : emptyMemory();
        Source acct = with(dirs, "cpuacct.usage"), cpu1 = with(dirs, "cpu.cfs_period_us");
        Source cpu2 = null;
        for (Source s : dirs) if (s.read("cpu.stat") != null && s.read("cpu.stat").contains("usage_usec")) cpu2 = s;
        CpuUsage usage = acct != null ? cpuUsageV1(acct) : cpu2 != null ? cpuUsageV2(cpu2.read("cpu.stat")) : new CpuUsage(0, List.of(), List.of(), List.of(), 0, 0);
        Source throttled = cpu1 != null ? cpu1 : cpu2;
        Throttling throttling = throttled == null ? new Throttling(0, 0, 0) : throttling(throttled.read("cpu.stat"), throttled == cpu2);
        Source pids = with(dirs, "pids.current");
        Pids p = pids == null ? new Pids(0, 0) : new Pids(number(pids.read("pids.current"), "pids.current"), pidsLimit(pids.read("pids.max")));
        Source blkio = null, io = with(dirs, "io.stat");
        for (Source s : dirs) if (s.files().stream().anyMatch(f -> f.startsWith("blkio."))) blkio = s;
        Blkio b = blkio != null ? blkioV1(blkio) : io != null ? blkioV2(io.read("io.stat")) : emptyBlkio();
        Map<String, Hugetlb> huge = new TreeMap<>();
        for (Source s : dirs) {
            for (String f : s.files()) {
                if (f.startsWith("hugetlb.") && f.endsWith(".usage_in_bytes") && !f.contains(".rsvd.")) {
                    String size = f.substring("hugetlb.".length(), f.length() - ".usage_in_bytes".length());
                    huge.put(size, hugetlbV1(s, size));
                } else if (f.startsWith("hugetlb.") && f.endsWith(".current") && !f.contains(".rsvd.") && !huge.containsKey(sizeOf(f))) {
                    huge.put(sizeOf(f), hugetlbV2(s, sizeOf(f)));
                }
            }
        }
        Source cpuset = with(dirs, "cpuset.cpus.effective") != null ? with(dirs, "cpuset.cpus.effective") : with(dirs, "cpuset.cpus");
        CpuSet cs = cpuset == null ? new CpuSet(List.of(), List.of())
                : new CpuSet(ranges(first(cpuset, "cpuset.cpus.effective", "cpuset.cpus")), ranges(first(cpuset, "cpuset.mems.effective", "cpuset.mems")),
                        cpusetFlags(cpuset));
        return new CgroupStats(new Cpu(usage, throttling), cs, memory, p, b, huge);
    }

    private static String sizeOf(String file) {
        return file.substring("hugetlb.".length(), file.length() - ".current".length());
    }

    /** The first directory having this file, or null. */
    private static Source with(List<Source> dirs, String file) throws CgroupException {
        for (Source s : dirs) if (s.read(file) != null) return s;
        return null;
    }

    private static String first(Source s, String... files) throws CgroupException {
        for (String f : files) if (s.read(f) != null) return s.read(f);
        return "";
    }

    // ---- memory ----

    static Memory memoryV1(Source s) throws CgroupException {
        Map<String, Long> raw = keyed(s.read("memory.stat"), "memory.stat");
        return new Memory(raw.getOrDefault("total_cache", raw.getOrDefault("cache", 0L)),
                entryV1(s, "memory."), entryV1(s, "memory.memsw."), entryV1(s, "memory.kmem."), entryV1(s, "memory.kmem.tcp."), raw);
    }

    private static MemoryEntry entryV1(Source s, String prefix) throws CgroupException {
        return new MemoryEntry(optional(s, prefix + "limit_in_bytes"), optional(s, prefix + "usage_in_bytes"),
                optional(s, prefix + "max_usage_in_bytes"), optional(s, prefix + "failcnt"));
    }

    /**
     * v2 has no high-water mark before 5.19 (memory.peak) nor failcnt: the "max" event count
     * (times the limit was hit) stands for failcnt, as in runc.
     */
    static Memory memoryV2(Source s) throws CgroupException {
        Map<String, Long> raw = keyed(s.read("memory.stat"), "memory.stat");
        Map<String, Long> events = keyed(s.read("memory.events"), "memory.events");
        MemoryEntry usage = new MemoryEntry(max(s.read("memory.max"), "memory.max"), optional(s, "memory.current"),
                s.read("memory.peak") == null ? 0 : optional(s, "memory.peak"), events.getOrDefault("max", 0L));
        MemoryEntry swap = new MemoryEntry(max(s.read("memory.swap.max"), "memory.swap.max"), optional(s, "memory.swap.current"),
                s.read("memory.swap.peak") == null ? 0 : optional(s, "memory.swap.peak"), 0);
        MemoryEntry none = new MemoryEntry(0, 0, 0, 0);
        return new Memory(raw.getOrDefault("file", 0L), usage, swap, none, none, raw);
    }

    private static Memory emptyMemory() {
        MemoryEntry none = new MemoryEntry(0, 0, 0, 0);
        return new Memory(0, none, none, none, none, Map.of());
    }

    // ---- cpu ----

    /** USER_HZ: the unit of cpuacct.stat, 100 on every Linux architecture that has one. */
    private static final long NANOS_PER_TICK = 1_000_000_000L / 100;

    static CpuUsage cpuUsageV1(Source s) throws CgroupException {
        Map<String, Long> stat = keyed(s.read("cpuacct.stat"), "cpuacct.stat");
        return new CpuUsage(number(s.read("cpuacct.usage"), "cpuacct.usage"), list(s.read("cpuacct.usage_percpu")),
                list(s.read("cpuacct.usage_percpu_sys")), list(s.read("cpuacct.usage_percpu_user")),
                stat.getOrDefault("system", 0L) * NANOS_PER_TICK, stat.getOrDefault("user", 0L) * NANOS_PER_TICK);
    }

    /** v2's cpu.stat counts microseconds and has no per-CPU figures. */
    static CpuUsage cpuUsageV2(String cpuStat) throws CgroupException {
        Map<String, Long> stat = keyed(cpuStat, "cpu.stat");
        return new CpuUsage(stat.getOrDefault("usage_usec", 0L) * 1000, List.of(), List.of(), List.of(),
                stat.getOrDefault("system_usec", 0L) * 1000, stat.getOrDefault("user_usec", 0L) * 1000);
    }

    static Throttling throttling(String cpuStat, boolean v2) throws CgroupException {
        Map<String, Long> stat = keyed(cpuStat, "cpu.stat");
        long time = v2 ? stat.getOrDefault("throttled_usec", 0L) * 1000 : stat.getOrDefault("throttled_time", 0L);
        return new Throttling(stat.getOrDefault("nr_periods", 0L), stat.getOrDefault("nr_throttled", 0L), time);
    }

    // ---- pids, hugetlb ----

    static long pidsLimit(String max) throws CgroupException {
        if (max == null || max.strip().equals("max")) return 0;
        return number(max, "pids.max");
    }

    private static Hugetlb hugetlbV1(Source s, String size) throws CgroupException {
        String p = "hugetlb." + size + ".";
        return new Hugetlb(optional(s, p + "usage_in_bytes"), optional(s, p + "max_usage_in_bytes"), optional(s, p + "failcnt"));
    }

    /** v2 has no high-water mark for huge pages; the "max" event count is the failcnt. */
    static Hugetlb hugetlbV2(Source s, String size) throws CgroupException {
        String p = "hugetlb." + size + ".";
        String events = s.read(p + "events");
        return new Hugetlb(optional(s, p + "current"), 0, events == null ? 0 : keyed(events, p + "events").getOrDefault("max", 0L));
    }

    // ---- block I/O ----

    /**
     * v1 keeps per-device counts in the CFQ/BFQ files when such a scheduler is in use and in
     * the throttle files always; the first of them that has any is taken, as runc does.
     */
    static Blkio blkioV1(Source s) throws CgroupException {
        for (String sched : List.of("blkio.", "blkio.bfq.")) {
            List<BlkioEntry> bytes = blkioFile(s.read(sched + "io_service_bytes_recursive"));
            if (bytes.isEmpty()) continue;
            return new Blkio(bytes, blkioFile(s.read(sched + "io_serviced_recursive")),
                    blkioFile(s.read(sched + "io_queued_recursive")), blkioFile(s.read(sched + "io_service_time_recursive")),
                    blkioFile(s.read(sched + "io_wait_time_recursive")), blkioFile(s.read(sched + "io_merged_recursive")),
                    blkioFile(s.read(sched + "time_recursive")), blkioFile(s.read(sched + "sectors_recursive")));
        }
        return new Blkio(blkioFile(s.read("blkio.throttle.io_service_bytes_recursive")),
                blkioFile(s.read("blkio.throttle.io_serviced_recursive")), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
    }

    /** Lines "8:0 Read 4096" (or "8:0 4096" for time and sectors); the overall "Total N" line is dropped. */
    static List<BlkioEntry> blkioFile(String text) throws CgroupException {
        List<BlkioEntry> out = new ArrayList<>();
        if (text == null) return out;
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 2 || !f[0].contains(":")) continue;
            String[] dev = f[0].split(":");
            String op = f.length >= 3 ? f[1] : "";
            out.add(new BlkioEntry(number(dev[0], "blkio device"), number(dev[1], "blkio device"), op, number(f[f.length - 1], "blkio")));
        }
        return out;
    }

    /** io.stat lines "8:0 rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N", as runc maps them. */
    static Blkio blkioV2(String ioStat) throws CgroupException {
        List<BlkioEntry> bytes = new ArrayList<>(), ios = new ArrayList<>();
        for (String line : ioStat.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 2 || !f[0].contains(":")) continue;
            String[] dev = f[0].split(":");
            long major = number(dev[0], "io.stat"), minor = number(dev[1], "io.stat");
            for (int k = 1; k < f.length; k++) {
                int eq = f[k].indexOf('=');
                if (eq < 0) continue;
                String key = f[k].substring(0, eq);
                long v = number(f[k].substring(eq + 1), "io.stat " + key);
                switch (key) {
                    case "rbytes" -> bytes.add(new BlkioEntry(major, minor, "Read", v));
                    case "wbytes" -> bytes.add(new BlkioEntry(major, minor, "Write", v));
                    case "dbytes" -> bytes.add(new BlkioEntry(major, minor, "Discard", v));
                    case "rios" -> ios.add(new BlkioEntry(major, minor, "Read", v));
                    case "wios" -> ios.add(new BlkioEntry(major, minor, "Write", v));
                    case "dios" -> ios.add(new BlkioEntry(major, minor, "Discard", v));
                    default -> { } // cost.*, the io.latency keys: not in runc's shape
                }
            }
        }
        return new Blkio(bytes, ios, List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
    }

    private static Blkio emptyBlkio() {
        return new Blkio(List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
    }

    // ---- parsing ----

    /** A file of "key value" lines (memory.stat, cpu.stat, memory.events); null or absent is empty. */
    static Map<String, Long> keyed(String text, String file) throws CgroupException {
        Map<String, Long> out = new LinkedHashMap<>();
        if (text == null) return out;
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length != 2) continue;
            // cpuacct.stat's keys are "user" and "system"; some kernels capitalise them.
            out.put(f[0].toLowerCase(java.util.Locale.ROOT), number(f[1], file + " " + f[0]));
        }
        return out;
    }

    private static long optional(Source s, String file) throws CgroupException {
        String text = s.read(file);
        return text == null ? 0 : number(text, file);
    }

    /** A v2 limit: "max" is no limit, reported as 2^64-1 like runc does. */
    static long max(String text, String file) throws CgroupException {
        if (text == null) return 0;
        return text.strip().equals("max") ? -1L : number(text, file);
    }

    /** An unsigned 64-bit decimal (v1 limits reach 2^63-4096; counters may wrap past 2^63). */
    static long number(String text, String file) throws CgroupException {
        try {
            return Long.parseUnsignedLong(text.strip());
        } catch (NumberFormatException e) {
            throw new CgroupException("cgroup: " + file + ": not a number: \"" + text.strip() + "\"");
        }
    }

    private static List<Long> list(String text) throws CgroupException {
        List<Long> out = new ArrayList<>();
        if (text == null) return out;
        for (String f : text.trim().split("\\s+")) if (!f.isEmpty()) out.add(number(f, "cpuacct.usage_percpu"));
        return out;
    }

    /** runc's names of v1's cpuset flag files (cpuset.NAME), in the order runc prints them. */
    private static final List<String> CPUSET_FLAGS = List.of("cpu_exclusive", "mem_hardwall", "mem_exclusive", "memory_migrate",
            "memory_spread_page", "memory_spread_slab", "memory_pressure", "sched_load_balance", "sched_relax_domain_level");

    /** v1's cpuset flags that are there (signed: sched_relax_domain_level is -1 by default). */
    static Map<String, Long> cpusetFlags(Source s) throws CgroupException {
        Map<String, Long> out = new LinkedHashMap<>();
        for (String f : CPUSET_FLAGS) {
            String text = s.read("cpuset." + f);
            if (text == null) continue;
            try {
                out.put(f, Long.parseLong(text.strip()));
            } catch (NumberFormatException e) {
                throw new CgroupException("cgroup: cpuset." + f + ": not a number: \"" + text.strip() + "\"");
            }
        }
        return out;
    }

    /** A cpuset list, "0-3,8". */
    static List<Integer> ranges(String text) throws CgroupException {
        List<Integer> out = new ArrayList<>();
        for (String part : text.strip().split(",")) {
            if (part.isEmpty()) continue;
            String[] r = part.split("-");
            int from = (int) number(r[0], "cpuset"), to = r.length > 1 ? (int) number(r[1], "cpuset") : from;
            for (int k = from; k <= to; k++) out.add(k);
        }
        return out;
    }

    // ---- JSON ----

    /**
     * The "data" object of runc's {@code events --stats}: runc's field names, and its habit of
     * leaving out zero counters and empty lists (Go's omitempty) where runc does.
     */
    public JsonObject toJson() {
        JsonObject o = new JsonObject();
        JsonObject cpuJson = new JsonObject(), u = new JsonObject(), t = new JsonObject();
        CpuUsage cu = cpu.usage();
        put(u, "total", cu.total());
        putList(u, "percpu", cu.percpu());
        putList(u, "percpu_kernel", cu.percpuKernel());
        putList(u, "percpu_user", cu.percpuUser());
        u.add("kernel", u64(cu.kernel()));
        u.add("user", u64(cu.user()));
        put(t, "periods", cpu.throttling().periods());
        put(t, "throttledPeriods", cpu.throttling().throttledPeriods());
        put(t, "throttledTime", cpu.throttling().throttledTime());
        cpuJson.add("usage", u);
        cpuJson.add("throttling", t);
        o.add("cpu", cpuJson);

        JsonObject cs = new JsonObject();
        putList(cs, "cpus", cpuset.cpus().stream().map(Integer::longValue).toList());
        cs.addProperty("cpu_exclusive", cpuset.flags().getOrDefault("cpu_exclusive", 0L));
        putList(cs, "mems", cpuset.mems().stream().map(Integer::longValue).toList());
        for (String k : CPUSET_FLAGS.subList(1, CPUSET_FLAGS.size())) cs.addProperty(k, cpuset.flags().getOrDefault(k, 0L));
        o.add("cpuset", cs);

        JsonObject m = new JsonObject();
        put(m, "cache", memory.cache());
        m.add("usage", entry(memory.usage()));
        m.add("swap", entry(memory.swap()));
        m.add("kernel", entry(memory.kernel()));
        m.add("kernelTCP", entry(memory.kernelTcp()));
        if (!memory.raw().isEmpty()) {
            JsonObject raw = new JsonObject();
            memory.raw().forEach((k, v) -> raw.add(k, u64(v)));
            m.add("raw", raw);
        }
        o.add("memory", m);

        JsonObject p = new JsonObject();
        put(p, "current", pids.current());
        put(p, "limit", pids.limit());
        o.add("pids", p);

        JsonObject b = new JsonObject();
        blkioList(b, "ioServiceBytesRecursive", blkio.ioServiceBytesRecursive());
        blkioList(b, "ioServicedRecursive", blkio.ioServicedRecursive());
        blkioList(b, "ioQueueRecursive", blkio.ioQueuedRecursive());
        blkioList(b, "ioServiceTimeRecursive", blkio.ioServiceTimeRecursive());
        blkioList(b, "ioWaitTimeRecursive", blkio.ioWaitTimeRecursive());
        blkioList(b, "ioMergedRecursive", blkio.ioMergedRecursive());
        blkioList(b, "ioTimeRecursive", blkio.ioTimeRecursive());
        blkioList(b, "sectorsRecursive", blkio.sectorsRecursive());
        o.add("blkio", b);

        JsonObject h = new JsonObject();
        new TreeMap<>(hugetlb).forEach((size, v) -> {
            JsonObject e = new JsonObject();
            put(e, "usage", v.usage());
            put(e, "max", v.max());
            e.add("failcnt", u64(v.failcnt()));
            h.add(size, e);
        });
        o.add("hugetlb", h);
        o.add("intel_rdt", new JsonObject());
        // runc's Go nil: no network statistics (a writer that drops nulls leaves it out).
        o.add("network_interfaces", com.google.gson.JsonNull.INSTANCE);
        return o;
    }

    /** The whole line runc's {@code events --stats} prints: {"type":"stats","id":ID,"data":{...}}. */
    public JsonObject toEvent(String id) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "stats");
        o.addProperty("id", id);
        o.add("data", toJson());
        return o;
    }

    private static JsonObject entry(MemoryEntry e) {
        JsonObject o = new JsonObject();
        o.add("limit", u64(e.limit()));
        put(o, "usage", e.usage());
        put(o, "max", e.max());
        o.add("failcnt", u64(e.failcnt()));
        return o;
    }

    private static void blkioList(JsonObject o, String key, List<BlkioEntry> entries) {
        if (entries.isEmpty()) return;
        JsonArray a = new JsonArray();
        for (BlkioEntry e : entries) {
            JsonObject j = new JsonObject();
            put(j, "major", e.major());
            put(j, "minor", e.minor());
            if (!e.op().isEmpty()) j.addProperty("op", e.op());
            put(j, "value", e.value());
            a.add(j);
        }
        o.add(key, a);
    }

    /** A field runc leaves out when zero. */
    private static void put(JsonObject o, String key, long v) {
        if (v != 0) o.add(key, u64(v));
    }

    private static void putList(JsonObject o, String key, List<Long> values) {
        if (values.isEmpty()) return;
        JsonArray a = new JsonArray();
        values.forEach(v -> a.add(u64(v)));
        o.add(key, a);
    }

    private static JsonElement u64(long v) {
        return new com.google.gson.JsonPrimitive(v >= 0 ? (Number) v : new BigInteger(Long.toUnsignedString(v)));
    }
}
