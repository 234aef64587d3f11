package brig.cgroups;

import brig.spec.Spec;
import java.util.ArrayList;
import java.util.List;

/**
 * linux.resources as cgroup v2 writes, one controller at a time. Pure, like {@link V1Resources};
 * what v2 cannot express is refused here, naming the field.
 */
public final class V2Resources {
    private V2Resources() {}

    private static final String M = "linux.resources.memory.", C = "linux.resources.cpu.", B = "linux.resources.blockIO.";

    /** @param controller a v2 controller name ("io", not "blkio") */
    public static List<CgroupWrite> writes(Spec.Resources r, String controller) throws CgroupException {
        List<CgroupWrite> out = new ArrayList<>();
        switch (controller) {
            case "memory" -> memory(r.memory(), out);
            case "cpu" -> cpu(r.cpu(), out);
            case "cpuset" -> V1Resources.cpuset(r, out);
            case "pids" -> V1Resources.pids(r, out);
            case "io" -> io(r.blockIO(), out);
            case "hugetlb" -> V1Resources.hugetlb(r, "max", out);
            case "rdma" -> V1Resources.rdma(r, out);
            default -> throw new IllegalArgumentException(controller);
        }
        return out;
    }

    private static void memory(Spec.Memory m, List<CgroupWrite> out) throws CgroupException {
        if (m == null) return;
        if (m.swappiness() != null) {
            throw new CgroupException(M + "swappiness: cgroup v2 has no swappiness (the memory controller is in the unified "
                    + "tree on this host); leave it out or set -1");
        }
        if (m.disableOOMKiller()) {
            throw new CgroupException(M + "disableOOMKiller: cgroup v2 cannot disable the OOM killer (the memory controller is "
                    + "in the unified tree on this host)");
        }
        if (m.reservation() != null) out.add(new CgroupWrite("memory", "memory.low", max(m.reservation()), M + "reservation"));
        // memory.swap.max is swap alone, the spec's swap is memory plus swap.
        if (m.swap() != null) {
            String swap = m.swap() == -1 ? "max" : Long.toString(m.swap() - m.limit());
            out.add(new CgroupWrite("memory", "memory.swap.max", swap, M + "swap"));
        }
        if (m.limit() != null) out.add(new CgroupWrite("memory", "memory.max", max(m.limit()), M + "limit"));
    }

    private static String max(long v) {
        return v == -1 ? "max" : Long.toString(v);
    }

    /** cpu.weight from v1 shares, as runc, crun and the kubelet map [2, 262144] onto [1, 10000]. */
    static long weight(long shares) {
        return 1 + ((shares - 2) * 9999) / 262142;
    }

    private static void cpu(Spec.Cpu c, List<CgroupWrite> out) throws CgroupException {
        if (c == null) return;
        if (c.realtimeRuntime() != null || c.realtimePeriod() != null) {
            throw new CgroupException(C + (c.realtimeRuntime() != null ? "realtimeRuntime" : "realtimePeriod")
                    + ": cgroup v2 has no realtime CPU limits (the cpu controller is in the unified tree on this host)");
        }
        if (c.shares() != null) out.add(new CgroupWrite("cpu", "cpu.weight", Long.toString(weight(Math.max(c.shares(), 2))), C + "shares"));
        if (c.quota() != null || c.period() != null) {
            // "QUOTA PERIOD"; the quota alone keeps the period the cgroup has.
            String v = c.quota() != null && c.quota() > 0 ? c.quota().toString() : "max";
            if (c.period() != null) v += " " + c.period();
            out.add(new CgroupWrite("cpu", "cpu.max", v, C + (c.quota() != null ? "quota" : "period")));
        }
        if (c.burst() != null) out.add(new CgroupWrite("cpu", "cpu.max.burst", c.burst().toString(), C + "burst"));
        if (c.idle() != null) out.add(new CgroupWrite("cpu", "cpu.idle", c.idle().toString(), C + "idle"));
    }

    /** io.weight from a blkio weight: [10, 1000] onto [1, 10000], as runc converts it. */
    static long ioWeight(long blkio) {
        return 1 + (blkio - 10) * 9999 / 990;
    }

    private static void io(Spec.BlockIO b, List<CgroupWrite> out) throws CgroupException {
        if (b == null) return;
        if (b.leafWeight() != null || b.weightDevice().stream().anyMatch(d -> d.leafWeight() != null)) {
            throw new CgroupException(B + (b.leafWeight() != null ? "leafWeight" : "weightDevice")
                    + ": cgroup v2 has no leaf weights (the io controller is in the unified tree on this host)");
        }
        if (b.weight() != null) out.add(new CgroupWrite("io", "io.weight", "default " + ioWeight(b.weight()), B + "weight"));
        for (int k = 0; k < b.weightDevice().size(); k++) {
            Spec.WeightDevice d = b.weightDevice().get(k);
            if (d.weight() != null) {
                out.add(new CgroupWrite("io", "io.weight", d.major() + ":" + d.minor() + " " + ioWeight(d.weight()), B + "weightDevice[" + k + "]"));
            }
        }
        throttle(b.throttleReadBpsDevice(), "rbps", "throttleReadBpsDevice", out);
        throttle(b.throttleWriteBpsDevice(), "wbps", "throttleWriteBpsDevice", out);
        throttle(b.throttleReadIOPSDevice(), "riops", "throttleReadIOPSDevice", out);
        throttle(b.throttleWriteIOPSDevice(), "wiops", "throttleWriteIOPSDevice", out);
    }

    private static void throttle(List<Spec.ThrottleDevice> ds, String key, String field, List<CgroupWrite> out) {
        for (int k = 0; k < ds.size(); k++) {
            Spec.ThrottleDevice d = ds.get(k);
            out.add(new CgroupWrite("io", "io.max", d.major() + ":" + d.minor() + " " + key + "=" + Long.toUnsignedString(d.rate()),
                    B + field + "[" + k + "]"));
        }
    }
}
