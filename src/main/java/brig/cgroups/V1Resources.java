package brig.cgroups;

import brig.spec.Spec;
import java.util.ArrayList;
import java.util.List;

/**
 * linux.resources as cgroup v1 writes, one controller at a time, in the order they must be made.
 * Pure: no file is read or written here, so tests check the list without root.
 */
public final class V1Resources {
    private V1Resources() {}

    private static final String M = "linux.resources.memory.", C = "linux.resources.cpu.", B = "linux.resources.blockIO.";

    /**
     * @param controller a v1 controller name
     * @param now the cgroup's limits now ({@link CgroupLimits#NEW} for a new cgroup): pairs of
     *     files the kernel checks against each other are written in the order it accepts
     */
    public static List<CgroupWrite> writes(Spec.Resources r, String controller, CgroupLimits now) throws CgroupException {
        List<CgroupWrite> out = new ArrayList<>();
        switch (controller) {
            case "memory" -> memory(r.memory(), now, out);
            case "cpu" -> cpu(r.cpu(), now, out);
            // The cpuset directories were filled from their parent when made (ContainerCgroup.create).
            case "cpuset" -> cpuset(r, out);
            case "pids" -> pids(r, out);
            case "blkio" -> blkio(r.blockIO(), out);
            case "hugetlb" -> hugetlb(r, "limit_in_bytes", out);
            case "net_cls" -> {
                if (r.network() != null && r.network().classID() != null) {
                    out.add(new CgroupWrite("net_cls", "net_cls.classid", r.network().classID().toString(), "linux.resources.network.classID"));
                }
            }
            case "net_prio" -> {
                if (r.network() != null) {
                    for (int k = 0; k < r.network().priorities().size(); k++) {
                        Spec.InterfacePriority p = r.network().priorities().get(k);
                        out.add(new CgroupWrite("net_prio", "net_prio.ifpriomap", p.name() + " " + p.priority(),
                                "linux.resources.network.priorities[" + k + "]"));
                    }
                }
            }
            case "rdma" -> rdma(r, out);
            default -> throw new IllegalArgumentException(controller);
        }
        return out;
    }

    /**
     * memory.memsw.limit_in_bytes (memory plus swap) may never be below memory.limit_in_bytes,
     * neither after a write nor between two (EINVAL). The limit goes first when the memsw the
     * cgroup has now allows it, else memsw goes first (then the new memsw is above the limit
     * the cgroup has now, as the new memsw is not below the new limit). A new cgroup has both
     * unlimited, so its limit goes first; a live one raised moves memsw first, lowered last.
     */
    private static void memory(Spec.Memory m, CgroupLimits now, List<CgroupWrite> out) throws CgroupException {
        if (m == null) return;
        Long limit = m.limit(), swap = m.swap();
        // runc: an unlimited memory with swap left out makes swap unlimited too.
        if (limit != null && limit == -1 && swap == null) swap = -1L;
        long newLimit = limit == null ? now.memory() : unlimited(limit);
        if (limit != null && swap == null && newLimit > now.memorySwap()) {
            throw new CgroupException(M + "limit: " + limit + " is above the memory plus swap limit the cgroup has ("
                    + now.memorySwap() + ", memory.memsw.limit_in_bytes): give the swap limit too");
        }
        if (swap != null && unlimited(swap) < newLimit) {
            throw new CgroupException(M + "swap: memory plus swap (" + swap + ") must not be below the memory limit ("
                    + (newLimit == CgroupLimits.UNLIMITED ? "unlimited" : newLimit) + (limit == null ? ", the cgroup's now" : "") + ")");
        }
        CgroupWrite l = limit == null ? null : new CgroupWrite("memory", "memory.limit_in_bytes", limit.toString(), M + "limit");
        CgroupWrite s = swap == null ? null : new CgroupWrite("memory", "memory.memsw.limit_in_bytes", swap.toString(), M + "swap");
        if (l != null && s != null && newLimit > now.memorySwap()) {
            out.add(s);
            out.add(l);
        } else {
            if (l != null) out.add(l);
            if (s != null) out.add(s);
        }
        if (m.reservation() != null) out.add(new CgroupWrite("memory", "memory.soft_limit_in_bytes", m.reservation().toString(), M + "reservation"));
        if (m.swappiness() != null) out.add(new CgroupWrite("memory", "memory.swappiness", m.swappiness().toString(), M + "swappiness"));
        if (m.disableOOMKiller()) out.add(new CgroupWrite("memory", "memory.oom_control", "1", M + "disableOOMKiller"));
        // runtime-spec: NOT RECOMMENDED for configs, but defined; v1 kernels still apply it
        // (measured on 6.18: 104857600 written, 104857600 read back; memory.kmem.limit_in_bytes,
        // "kernel", accepts a write and keeps unlimited, so that one stays ignored).
        if (m.kernelTCP() != null) out.add(new CgroupWrite("memory", "memory.kmem.tcp.limit_in_bytes", m.kernelTCP().toString(), M + "kernelTCP"));
    }

    /** -1 (the spec's unlimited) as the largest value, for comparisons. */
    private static long unlimited(long v) {
        return v < 0 ? CgroupLimits.UNLIMITED : v;
    }

    /**
     * The kernel checks the CFS quota against its period (and, with a parent's limit, the
     * quota/period ratio against the parent's), and the RT runtime against its period: between
     * the two writes the cgroup has the new value of one and the old of the other. A growing
     * period goes first (old quota over a longer period: a smaller ratio, the old runtime fits);
     * a shrinking one last (the new quota over the old, longer period; the new runtime is below
     * the new period, so below the old). runc retries after EINVAL instead.
     */
    private static void cpu(Spec.Cpu c, CgroupLimits now, List<CgroupWrite> out) {
        if (c == null) return;
        if (c.shares() != null) out.add(new CgroupWrite("cpu", "cpu.shares", c.shares().toString(), C + "shares"));
        CgroupWrite period = c.period() == null ? null : new CgroupWrite("cpu", "cpu.cfs_period_us", c.period().toString(), C + "period");
        CgroupWrite quota = c.quota() == null ? null : new CgroupWrite("cpu", "cpu.cfs_quota_us", c.quota().toString(), C + "quota");
        pair(period, c.period() != null && c.period() >= now.cpuPeriod(), quota, out);
        if (c.burst() != null) out.add(new CgroupWrite("cpu", "cpu.cfs_burst_us", c.burst().toString(), C + "burst"));
        CgroupWrite rtPeriod = c.realtimePeriod() == null ? null
                : new CgroupWrite("cpu", "cpu.rt_period_us", c.realtimePeriod().toString(), C + "realtimePeriod");
        CgroupWrite rtRuntime = c.realtimeRuntime() == null ? null
                : new CgroupWrite("cpu", "cpu.rt_runtime_us", c.realtimeRuntime().toString(), C + "realtimeRuntime");
        pair(rtPeriod, c.realtimePeriod() != null && c.realtimePeriod() >= now.rtPeriod(), rtRuntime, out);
        if (c.idle() != null) out.add(new CgroupWrite("cpu", "cpu.idle", c.idle().toString(), C + "idle"));
    }

    /** A period and what is checked against it (either may be null), the period first if so asked. */
    private static void pair(CgroupWrite period, boolean periodFirst, CgroupWrite limited, List<CgroupWrite> out) {
        if (period != null && periodFirst) out.add(period);
        if (limited != null) out.add(limited);
        if (period != null && !periodFirst) out.add(period);
    }

    private static void blkio(Spec.BlockIO b, List<CgroupWrite> out) {
        if (b == null) return;
        if (b.weight() != null) out.add(new CgroupWrite("blkio", "blkio.weight", b.weight().toString(), B + "weight"));
        if (b.leafWeight() != null) out.add(new CgroupWrite("blkio", "blkio.leaf_weight", b.leafWeight().toString(), B + "leafWeight"));
        for (int k = 0; k < b.weightDevice().size(); k++) {
            Spec.WeightDevice d = b.weightDevice().get(k);
            String dev = d.major() + ":" + d.minor() + " ";
            if (d.weight() != null) out.add(new CgroupWrite("blkio", "blkio.weight_device", dev + d.weight(), B + "weightDevice[" + k + "]"));
            if (d.leafWeight() != null) out.add(new CgroupWrite("blkio", "blkio.leaf_weight_device", dev + d.leafWeight(), B + "weightDevice[" + k + "]"));
        }
        throttle(b.throttleReadBpsDevice(), "blkio.throttle.read_bps_device", "throttleReadBpsDevice", out);
        throttle(b.throttleWriteBpsDevice(), "blkio.throttle.write_bps_device", "throttleWriteBpsDevice", out);
        throttle(b.throttleReadIOPSDevice(), "blkio.throttle.read_iops_device", "throttleReadIOPSDevice", out);
        throttle(b.throttleWriteIOPSDevice(), "blkio.throttle.write_iops_device", "throttleWriteIOPSDevice", out);
    }

    private static void throttle(List<Spec.ThrottleDevice> ds, String file, String field, List<CgroupWrite> out) {
        for (int k = 0; k < ds.size(); k++) {
            Spec.ThrottleDevice d = ds.get(k);
            out.add(new CgroupWrite("blkio", file, d.major() + ":" + d.minor() + " " + Long.toUnsignedString(d.rate()),
                    B + field + "[" + k + "]"));
        }
    }

    /** rdma.max: "DEVICE hca_handle=N hca_object=M", the same on v1 and v2. */
    /** cpuset.cpus and cpuset.mems: the same files on v1 and v2. */
    static void cpuset(Spec.Resources r, List<CgroupWrite> out) {
        if (r.cpu() != null && r.cpu().cpus() != null) out.add(new CgroupWrite("cpuset", "cpuset.cpus", r.cpu().cpus(), C + "cpus"));
        if (r.cpu() != null && r.cpu().mems() != null) out.add(new CgroupWrite("cpuset", "cpuset.mems", r.cpu().mems(), C + "mems"));
    }

    /** pids.max: the same file on v1 and v2. */
    static void pids(Spec.Resources r, List<CgroupWrite> out) {
        if (r.pidsLimit() != null) out.add(new CgroupWrite("pids", "pids.max", r.pidsLimit() < 0 ? "max" : r.pidsLimit().toString(), "linux.resources.pids.limit"));
    }

    /** hugetlb.SIZE.SUFFIX: "limit_in_bytes" on v1, "max" on v2. */
    static void hugetlb(Spec.Resources r, String suffix, List<CgroupWrite> out) {
        for (int k = 0; k < r.hugepageLimits().size(); k++) {
            Spec.HugepageLimit h = r.hugepageLimits().get(k);
            out.add(new CgroupWrite("hugetlb", "hugetlb." + h.pageSize() + "." + suffix, Long.toUnsignedString(h.limit()),
                    "linux.resources.hugepageLimits[" + k + "]"));
        }
    }

    static void rdma(Spec.Resources r, List<CgroupWrite> out) {
        for (var e : r.rdma().entrySet()) {
            StringBuilder v = new StringBuilder(e.getKey());
            if (e.getValue().hcaHandles() != null) v.append(" hca_handle=").append(e.getValue().hcaHandles());
            if (e.getValue().hcaObjects() != null) v.append(" hca_object=").append(e.getValue().hcaObjects());
            out.add(new CgroupWrite("rdma", "rdma.max", v.toString(), "linux.resources.rdma." + e.getKey()));
        }
    }
}
