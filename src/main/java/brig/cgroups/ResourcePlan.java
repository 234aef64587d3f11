package brig.cgroups;

import brig.spec.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * linux.resources as a value: every cgroup file Brig writes and what it writes there, in order,
 * with what it ignores. Each controller goes to where it lives on this host: a v1 hierarchy
 * ({@link V1Resources}) or the unified tree ({@link V2Resources}); on hybrid hosts some are in
 * each. `--explain` prints it, {@link ContainerCgroup#apply} executes it, and `update` can make
 * one for a live cgroup.
 *
 * @param writes absolute files, in the order they are written
 * @param ignored fields read but not applied, each with the reason ("linux.resources.memory.kernel: ...")
 */
public record ResourcePlan(List<CgroupWrite> writes, List<String> ignored) {
    public ResourcePlan {
        writes = List.copyOf(writes);
        ignored = List.copyOf(ignored);
    }

    public static final ResourcePlan NONE = new ResourcePlan(List.of(), List.of());

    /**
     * What the host offers, read once: the controllers the unified tree can hold (its root's
     * cgroup.controllers), whether a file exists, and the controllers a unified directory
     * enables for its children (cgroup.subtree_control). A value, so tests describe a host.
     */
    public record Host(Set<String> unifiedControllers, Predicate<Path> exists, Function<Path, Set<String>> subtreeControl) {
        public static Host live(List<Hierarchy> hierarchies) {
            Set<String> unified = hierarchies.stream().filter(Hierarchy::unified).findFirst()
                    .map(h -> words(h.mountPoint().resolve("cgroup.controllers"))).orElse(Set.of());
            return new Host(unified, Files::exists, dir -> words(dir.resolve("cgroup.subtree_control")));
        }

        private static Set<String> words(Path file) {
            try {
                return new LinkedHashSet<>(Arrays.asList(Files.readString(file).trim().split("\\s+")));
            } catch (IOException e) {
                return Set.of();
            }
        }
    }

    /** A controller by its v1 name and its v2 name (null: v2 has none). */
    private record Controller(String v1, String v2) {}

    /** cpuset first: the others may be checked against it; all before the process joins. */
    private static final List<Controller> CONTROLLERS = List.of(new Controller("cpuset", "cpuset"),
            new Controller("memory", "memory"), new Controller("cpu", "cpu"), new Controller("pids", "pids"),
            new Controller("blkio", "io"), new Controller("hugetlb", "hugetlb"), new Controller("net_cls", null),
            new Controller("net_prio", null), new Controller("rdma", "rdma"));

    private static final Set<String> OPTIONAL_V1_FILES = Set.of("blkio.weight", "blkio.leaf_weight", "blkio.weight_device",
            "blkio.leaf_weight_device", "memory.memsw.limit_in_bytes", "memory.kmem.tcp.limit_in_bytes", "cpu.cfs_burst_us", "cpu.idle", "cpu.rt_period_us",
            "cpu.rt_runtime_us");

    /** Controller files of the unified tree a config may not write through "unified". */
    private static final Set<String> CGROUP_FILES = Set.of("cgroup.max.depth", "cgroup.max.descendants");

    /** For a new cgroup (memory unlimited until now). */
    public static ResourcePlan of(Spec.Resources r, ContainerCgroup cgroup, Host host) throws CgroupException {
        return of(r, cgroup, host, CgroupLimits.NEW);
    }

    /**
     * @param currentLimit the v1 memory.limit_in_bytes the cgroup has now (-1: unlimited, as a
     *     new one), its memsw taken to be the same (the tightest it can be); the rest as new
     */
    public static ResourcePlan of(Spec.Resources r, ContainerCgroup cgroup, Host host, long currentLimit) throws CgroupException {
        return of(r, cgroup, host, CgroupLimits.withMemory(currentLimit));
    }

    /**
     * `update`: a partial linux.resources (only what is given changes) for a live cgroup,
     * ordered against the limits it has now (read them with {@link CgroupLimits#read}). Device
     * rules are not changed by an update, as runc's.
     */
    public static ResourcePlan update(Spec.Resources r, ContainerCgroup cgroup, Host host, CgroupLimits now) throws CgroupException {
        ResourcePlan p = of(r, cgroup, host, now);
        if (r.devices().isEmpty()) return p;
        List<String> ignored = new ArrayList<>(p.ignored());
        ignored.add("linux.resources.devices: an update does not change device rules (as runc's)");
        return new ResourcePlan(p.writes(), ignored);
    }

    /**
     * @param now the limits the cgroup has now ({@link CgroupLimits#NEW} for a new one): the
     *     order of writes the kernel checks against each other depends on them
     */
    public static ResourcePlan of(Spec.Resources r, ContainerCgroup cgroup, Host host, CgroupLimits now) throws CgroupException {
        List<CgroupWrite> out = new ArrayList<>();
        ContainerCgroup.Dir unified = cgroup.dirs().stream().filter(d -> d.hierarchy().unified()).findFirst().orElse(null);
        Set<String> enable = new LinkedHashSet<>();
        List<CgroupWrite> v2 = new ArrayList<>();
        boolean memoryV1 = false;
        for (Controller c : CONTROLLERS) {
            ContainerCgroup.Dir v1 = cgroup.dirs().stream().filter(d -> d.hierarchy().has(c.v1())).findFirst().orElse(null);
            if (v1 != null && c.v1().equals("memory")) memoryV1 = true;
            boolean inUnified = v1 == null && unified != null && c.v2() != null && host.unifiedControllers().contains(c.v2());
            // The v1 writes also tell whether anything is asked of a controller mounted nowhere.
            List<CgroupWrite> asked = inUnified ? V2Resources.writes(r, c.v2(), now)
                    : V1Resources.writes(r, c.v1(), v1 != null ? now : CgroupLimits.NEW);
            if (asked.isEmpty()) continue;
            if (v1 != null) {
                for (CgroupWrite w : asked) {
                    // Files that depend on the kernel's build or I/O scheduler: the root cgroup has
                    // them exactly when every cgroup does (blkio.weight only with CFQ/BFQ, memsw
                    // only with swap accounting). Others (pids.max) the root never has.
                    if (OPTIONAL_V1_FILES.contains(w.file().toString())
                            && !host.exists().test(v1.hierarchy().mountPoint().resolve(w.file()))) {
                        throw new CgroupException(w.why() + ": this host's " + c.v1() + " controller has no " + w.file() + " file");
                    }
                    out.add(w.in(v1.path()));
                }
            } else if (inUnified) {
                for (CgroupWrite w : asked) v2.add(w.in(unified.path()));
                enable.add(c.v2());
            } else {
                throw new CgroupException(asked.get(0).why() + ": the " + c.v1() + " controller is not mounted on this host");
            }
        }
        for (var e : r.unified().entrySet()) {
            String field = "linux.resources.unified." + e.getKey();
            if (unified == null) throw new CgroupException(field + ": this host has no cgroup v2 (unified) hierarchy");
            String controller = e.getKey().substring(0, e.getKey().indexOf('.'));
            if (controller.equals("cgroup")) {
                if (!CGROUP_FILES.contains(e.getKey())) throw new CgroupException(field + ": not a file a container may set");
            } else if (!host.unifiedControllers().contains(controller)) {
                throw new CgroupException(field + ": the " + controller + " controller is not enabled in the unified (cgroup v2) tree on this host");
            } else {
                enable.add(controller);
            }
            v2.add(new CgroupWrite(controller, unified.path().resolve(e.getKey()), e.getValue(), field));
        }
        // A v2 controller's files appear in a directory once its parent enables it for its
        // children: from the tree's root down to the container's parent.
        if (!enable.isEmpty()) {
            Path root = unified.hierarchy().mountPoint(), p = root;
            for (Path part : root.relativize(unified.path())) {
                Set<String> on = host.subtreeControl().apply(p);
                for (String c : enable) {
                    if (!on.contains(c)) {
                        out.add(new CgroupWrite(c, p.resolve("cgroup.subtree_control"), "+" + c, "the " + c + " controller for "
                                + p.resolve(part).getFileName()));
                    }
                }
                p = p.resolve(part);
            }
        }
        out.addAll(v2);
        List<String> ignored = new ArrayList<>();
        if (r.memory() != null && r.memory().kernel() != null) {
            ignored.add("linux.resources.memory.kernel: kernel memory limits are deprecated by the kernel (as runc, Brig ignores them)");
        }
        if (r.memory() != null && r.memory().kernelTCP() != null && !memoryV1) {
            ignored.add("linux.resources.memory.kernelTCP: cgroup v2 has no TCP buffer limit (as runc, Brig ignores it)");
        }
        return new ResourcePlan(out, ignored);
    }

    /** One line per write, then the ignored fields. */
    public List<String> explain() {
        List<String> out = new ArrayList<>();
        for (CgroupWrite w : writes) out.add(w.explain());
        for (String i : ignored) out.add("ignored: " + i);
        return out;
    }
}
