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
     * @param currentLimit the cgroup's memory.limit_in_bytes now, -1 when unlimited (a new cgroup)
     */
    public static List<CgroupWrite> writes(Spec.Resources r, String controller, long currentLimit) throws CgroupException {
        List<CgroupWrite> out = new ArrayList<>();
        switch (controller) {
            case "memory" -> memory(r.memory(), currentLimit, out);
            case "cpu" -> cpu(r.cpu(), out);
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
     * memory.memsw.limit_in_bytes (memory plus swap) may never be below memory.limit_in_bytes:
     * when the limit goes up, memsw goes up first; when it goes down, memsw follows it. A new
     * cgroup is unlimited, so its limit goes down.
     */
    private static void memory(Spec.Memory m, long currentLimit, List<CgroupWrite> out) {
        if (m == null) return;
        Long limit = m.limit(), swap = m.swap();
        // runc: an unlimited memory with swap left out makes swap unlimited too.
        if (limit != null && limit == -1 && swap == null) swap = -1L;
        CgroupWrite l = limit == null ? null : new CgroupWrite("memory", "memory.limit_in_bytes", limit.toString(), M + "limit");
        CgroupWrite s = swap == null ? null : new CgroupWrite("memory", "memory.memsw.limit_in_bytes", swap.toString(), M + "swap");
        boolean raising = limit != null && (limit == -1 || (currentLimit != -1 && limit > currentLimit));
        if (raising) {
            if (s != null) out.add(s);
            out.add(l);
        } else {
            if (l != null) out.add(l);
            if (s != null) out.add(s);
        }
        if (m.reservation() != null) out.add(new CgroupWrite("memory", "memory.soft_limit_in_bytes", m.reservation().toString(), M + "reservation"));
        if (m.swappiness() != null) out.add(new CgroupWrite("memory", "memory.swappiness", m.swappiness().toString(), M + "swappiness"));
        if (m.disableOOMKiller()) out.add(new CgroupWrite("memory", "memory.oom_control", "1", M + "disableOOMKiller"));
    }

    private static void cpu(Spec.Cpu c, List<CgroupWrite> out) {
        if (c == null) return;
        if (c.shares() != null) out.add(new CgroupWrite("cpu", "cpu.shares", c.shares().toString(), C + "shares"));
        // The period first: the quota is checked against it.
        if (c.period() != null) out.add(new CgroupWrite("cpu", "cpu.cfs_period_us", c.period().toString(), C + "period"));
        if (c.quota() != null) out.add(new CgroupWrite("cpu", "cpu.cfs_quota_us", c.quota().toString(), C + "quota"));
        if (c.burst() != null) out.add(new CgroupWrite("cpu", "cpu.cfs_burst_us", c.burst().toString(), C + "burst"));
        if (c.realtimePeriod() != null) out.add(new CgroupWrite("cpu", "cpu.rt_period_us", c.realtimePeriod().toString(), C + "realtimePeriod"));
        if (c.realtimeRuntime() != null) out.add(new CgroupWrite("cpu", "cpu.rt_runtime_us", c.realtimeRuntime().toString(), C + "realtimeRuntime"));
        if (c.idle() != null) out.add(new CgroupWrite("cpu", "cpu.idle", c.idle().toString(), C + "idle"));
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
