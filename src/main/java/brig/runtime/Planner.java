package brig.runtime;

import brig.cgroups.CgroupWrite;
import brig.cgroups.ContainerCgroup;
import brig.cgroups.DeviceRules;
import brig.cgroups.OomWatch;
import brig.cgroups.ResourcePlan;
import brig.helper.Plan;
import brig.helper.Step;
import brig.process.ProcessPlanner;
import brig.rootfs.RootfsException;
import brig.rootfs.RootfsPlanner;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a validated spec into the helper's plan and Brig's host steps ({@link #host}). The
 * order of the kernel work is decided here:
 * <ol>
 * <li>open the container's cgroup2 directory, before a joined mount namespace changes what
 *     host paths mean;</li>
 * <li>join namespaces given by path, the user namespace last (joining a host namespace from
 *     inside a new user namespace would fail);</li>
 * <li>clone the first process into the new namespaces (a joined pid namespace takes effect in
 *     the clone) and straight into its cgroup2 directory (CLONE_INTO_CGROUP), and wait while
 *     Brig writes id maps and its other cgroups;</li>
 * <li>unshare the cgroup namespace, now that the process sits in all its cgroups: the
 *     namespace's root is where the process is, in every hierarchy, and the "cgroup" mounts
 *     below are made in it;</li>
 * <li>hostname, lo up in a new network namespace (as runc), filesystem (see
 *     {@link RootfsPlanner}), terminal, pivot_root, sysctls, masked and read-only paths;</li>
 * <li>HOME from the container's /etc/passwd when the environment lacks it; /dev/null as stdin
 *     when Brig's annotation asks (see {@link brig.process.Stdin}); limits, identity
 *     and capabilities (see {@link ProcessPlanner}), the program lookup, fds,
 *     and for create the wait for start; then execve.</li>
 * </ol>
 */
public final class Planner {
    private Planner() {}

    public enum Mode { RUN, CREATE }

    /**
     * @param rootfs absolute rootfs path on the host
     * @param execFifo for {@link Mode#CREATE}: the fifo `start` writes to
     * @param cgroup the container's cgroup: where the first process is created, and for
     *     "cgroup" mounts
     * @param lastCap /proc/sys/kernel/cap_last_cap
     * @param listenFds socket-activation fds (from 3 up, before the preserved ones), announced
     *     to the program as LISTEN_FDS and LISTEN_PID=1
     * @param keyring the name of a fresh session keyring to join ("_ses.ID", runc's), or null
     *     to keep the caller's (--no-new-keyring)
     * @param notifyDir the container's notify directory on the host when the caller set
     *     NOTIFY_SOCKET (see {@link Notify}), else null
     */
    public record Context(Path bundle, Path rootfs, Mode mode, boolean noPivot, int preserveFds, Path execFifo,
                          ContainerCgroup cgroup, int lastCap, int listenFds, String keyring, Path notifyDir) {
        /** No listen fds, the caller's session keyring kept. */
        public Context(Path bundle, Path rootfs, Mode mode, boolean noPivot, int preserveFds, Path execFifo,
                       ContainerCgroup cgroup, int lastCap) {
            this(bundle, rootfs, mode, noPivot, preserveFds, execFifo, cgroup, lastCap, 0, null);
        }

        /** No notify socket. */
        public Context(Path bundle, Path rootfs, Mode mode, boolean noPivot, int preserveFds, Path execFifo,
                       ContainerCgroup cgroup, int lastCap, int listenFds, String keyring) {
            this(bundle, rootfs, mode, noPivot, preserveFds, execFifo, cgroup, lastCap, listenFds, keyring, null);
        }
    }

    /**
     * The cgroup2 directory the first process is created in, or "": the container's, unless the
     * config joins a cgroup namespace by path (the kernel checks the clone against the caller's
     * cgroup namespace, which may not contain it; Brig's own write is checked against the
     * host's).
     */
    static String cloneInto(Spec spec, ContainerCgroup cgroup) {
        Path unified = cgroup.unified();
        return unified == null || joinsCgroupNs(spec) ? "" : unified.toString();
    }

    private static boolean joinsCgroupNs(Spec spec) {
        return spec.linux().has(NamespaceType.CGROUP) && !spec.linux().creates(NamespaceType.CGROUP);
    }

    /**
     * The v1 cgroup directories the first process joins itself, right after the clone
     * ({@link Step.JoinCgroupTasks}; Brig's write of its pid to cgroup.procs waited 5-19 ms
     * for the kernel's lock, once per run): all of the container's, unless the config joins
     * a cgroup namespace by path (as for {@link #cloneInto}, Brig's write stays).
     */
    static List<String> selfJoined(Spec spec, ContainerCgroup cgroup) {
        if (joinsCgroupNs(spec)) return List.of();
        List<String> out = new ArrayList<>();
        for (ContainerCgroup.Dir d : cgroup.dirs()) if (!d.hierarchy().unified()) out.add(d.path().toString());
        return out;
    }

    /**
     * Brig's own work on the host, in the order {@link Runtime#start} does it: before the
     * clone the cgroup (directories, device rules, then linux.resources, so the limits hold
     * from the first instruction), the OOM baseline and the exec fifo; after it, while the
     * process waits, the id maps (the process needs them before it changes identity), its
     * cgroups and its oom_score_adj.
     *
     * @param resources the cgroup writes, in their order
     * @param brigParent whether the cgroup's parent is Brig's default one
     * @param execFifo for {@link Mode#CREATE}, else null
     */
    public static List<HostStep> host(Spec spec, ContainerCgroup cgroup, ResourcePlan resources, boolean brigParent, Path execFifo) {
        Spec.Linux l = spec.linux();
        List<HostStep> out = new ArrayList<>();
        out.add(new HostStep.MakeCgroups(cgroup, brigParent));
        out.add(new HostStep.SetDevices(cgroup, DeviceRules.effective(l.resources().devices(), l.devices())));
        for (CgroupWrite w : resources.writes()) out.add(new HostStep.WriteCgroup(cgroup, w));
        Path oom = OomWatch.killCounter(cgroup);
        if (oom != null) out.add(new HostStep.ReadOomKills(oom));
        if (execFifo != null) {
            boolean userns = l.creates(NamespaceType.USER);
            out.add(new HostStep.MakeExecFifo(execFifo, userns ? rootId(l.uidMappings()) : -1, userns ? rootId(l.gidMappings()) : -1));
        }
        if (l.creates(NamespaceType.USER)) {
            out.add(new HostStep.WriteIdMap("uid_map", l.uidMappings(), "linux.uidMappings"));
            out.add(new HostStep.WriteIdMap("gid_map", l.gidMappings(), "linux.gidMappings"));
        }
        List<String> self = selfJoined(spec, cgroup);
        List<Path> left = new ArrayList<>();
        for (ContainerCgroup.Dir d : cgroup.dirs()) if (!self.contains(d.path().toString())) left.add(d.path());
        if (!left.isEmpty()) out.add(new HostStep.JoinCgroups(left, !cloneInto(spec, cgroup).isEmpty()));
        if (spec.process() != null && spec.process().oomScoreAdj() != null) out.add(new HostStep.WriteOomScoreAdj(spec.process().oomScoreAdj()));
        out.addAll(Hooks.hostSteps(spec.hooks(), execFifo));
        return List.copyOf(out);
    }

    /** The host id that id 0 of the container maps to, or -1 if unmapped. */
    static long rootId(List<Spec.IdMapping> maps) {
        for (Spec.IdMapping m : maps) if (m.containerID() == 0 && m.size() > 0) return m.hostID();
        return -1;
    }

    /** What Brig does while the first process waits (the host steps after the clone), for `--explain`. */
    static String awaitReason(List<HostStep> host) {
        List<String> what = new ArrayList<>();
        if (host.stream().anyMatch(s -> s instanceof HostStep.WriteIdMap)) what.add("writes the uid and gid maps");
        for (HostStep s : host) {
            if (!(s instanceof HostStep.JoinCgroups j)) continue;
            if (!j.cloneInto()) what.add("places the process in its cgroups");
            else if (j.dirs().size() > 1) what.add("places the process in its v1 cgroups (and its cgroup2 one if the clone could not)");
            else what.add("places the process in its cgroup if the clone could not");
        }
        for (HostStep s : host) {
            if (s instanceof HostStep.JoinContainerCgroups j) {
                what.add(j.forkInto() ? "places the process in the container's cgroup2 directory if the fork could not"
                        : "places the process in the container's cgroups");
            }
        }
        if (host.stream().anyMatch(s -> s instanceof HostStep.WriteOomScoreAdj)) what.add("sets its oom_score_adj");
        return what.isEmpty() ? "gives the go-ahead" : String.join(", ", what);
    }

    /**
     * The helper's plan.
     *
     * @param host Brig's host steps ({@link #host}): the wait after the clone names those it waits for
     */
    public static Plan plan(Spec spec, Context c, List<HostStep> host) throws RootfsException {
        Spec.Process p = spec.process();
        Spec.Linux l = spec.linux();
        List<Step> steps = new ArrayList<>();

        String into = cloneInto(spec, c.cgroup());
        if (!into.isEmpty()) steps.add(new Step.OpenCgroup(into));
        List<String> self = selfJoined(spec, c.cgroup());
        if (!self.isEmpty()) steps.add(new Step.OpenCgroupTasks(self));
        // The user namespace last (two passes, not a Comparator: its lambda is spun at run time).
        for (boolean user : new boolean[] {false, true}) {
            for (Spec.Namespace n : l.namespaces()) {
                if (n.path() != null && (n.type() == NamespaceType.USER) == user) steps.add(new Step.JoinNamespace(n.type(), n.path()));
            }
        }
        List<NamespaceType> create = l.namespaces().stream()
                .filter(n -> n.path() == null && n.type() != NamespaceType.CGROUP).map(Spec.Namespace::type).toList();
        steps.add(new Step.Clone(create, into));
        if (!self.isEmpty()) steps.add(new Step.JoinCgroupTasks(self));
        // The process waits for Brig's steps after the clone (v1 cgroups, state) as late as it
        // may: with no user namespace (ids come from the maps), no cgroup namespace (its root
        // is the cgroup at unshare) and no hooks (they see the cgroups, the mounts run in two
        // halves), it does its mounts meanwhile and waits before its device nodes (below), or
        // else before it takes the program's identity, limits and filter. Measured: the round trip and Brig's steps took ~0.3 ms
        // of a 7 ms warm run, during which the process sat idle.
        Step.Await await = new Step.Await(awaitReason(host));
        boolean late = !l.has(NamespaceType.USER) && !l.creates(NamespaceType.CGROUP)
                && host.stream().noneMatch(s -> s.phase() == HostStep.Phase.AFTER_MOUNTS)
                && Hooks.beforePivot(spec.hooks()).isEmpty() && Hooks.beforeExec(spec.hooks()).isEmpty();
        if (!late) steps.add(await);
        if (l.has(NamespaceType.USER)) {
            // The process still has the host's ids, which mean nothing in its user namespace:
            // take the namespace's root ids, now that the maps exist.
            steps.add(new Step.SetGroups(List.of()));
            steps.add(new Step.SetGid(0));
            steps.add(new Step.SetUid(0));
        }
        if (l.creates(NamespaceType.CGROUP)) steps.add(new Step.Unshare(List.of(NamespaceType.CGROUP)));
        if (c.keyring() != null) steps.add(new Step.JoinKeyring(c.keyring(), keyringPerm(l.has(NamespaceType.USER))));
        if (!spec.hostname().isEmpty()) steps.add(new Step.SetHostname(spec.hostname()));
        if (!spec.domainname().isEmpty()) steps.add(new Step.SetDomainname(spec.domainname()));
        // A new network namespace has lo down; runc and crun bring it up (measured: lo's flags
        // 0x9 under runc 1.1.5 and crun 1.8.1), and so does Brig, while the process still has
        // CAP_NET_ADMIN there. A namespace joined by path is someone else's: left as it is.
        if (l.creates(NamespaceType.NETWORK)) steps.add(new Step.LoopbackUp());

        boolean userns = l.has(NamespaceType.USER);
        RootfsPlanner rootfs = new RootfsPlanner(spec, new RootfsPlanner.Context(c.rootfs(), c.bundle(), userns,
                l.creates(NamespaceType.NETWORK), c.cgroup()));
        steps.addAll(rootfs.prepare());
        // Device nodes are made inside the devices cgroup, as runc makes them: one its rules
        // deny fails at mknod (EPERM), not later at open. The mounts before them overlap.
        // A process that joined its v1 cgroups itself is in it already.
        boolean brigJoins = false;
        for (HostStep s : host) if (s instanceof HostStep.JoinCgroups j && !j.unifiedOnly()) brigJoins = true;
        if (late && brigJoins) {
            for (int k = 0; k < steps.size(); k++) {
                if (steps.get(k) instanceof Step.MakeNode) {
                    steps.add(k, await);
                    late = false;
                    break;
                }
            }
        }
        // NOTIFY_SOCKET: runc's bind mount after the config's mounts (and the program's variable, below).
        if (c.notifyDir() != null) steps.addAll(Notify.mountSteps(c.notifyDir()));
        if (p != null && p.terminal()) {
            int rows = p.consoleSize() != null ? p.consoleSize().height() : 0;
            int cols = p.consoleSize() != null ? p.consoleSize().width() : 0;
            steps.add(new Step.OpenTerminal("/dev/ptmx", "/dev/console", rows, cols));
        }
        if (c.mode() == Mode.CREATE) steps.add(new Step.OpenExecFifo(c.execFifo().toString()));
        if (c.mode() == Mode.CREATE && Hooks.startWaits(spec.hooks())) {
            steps.add(new Step.OpenStartReport(Hooks.reportFifo(c.execFifo()).toString()));
        }
        steps.addAll(Hooks.beforePivot(spec.hooks()));
        steps.add(rootfs.enter(c.noPivot()));
        // Before read-only paths: /proc/sys is usually one of them.
        l.sysctl().forEach((k, v) -> steps.add(new Step.Sysctl(k, v)));
        steps.addAll(rootfs.finish());
        if (!spec.hasProcess()) {
            // A config without "process" (create only): the process waits for a start that
            // refuses it (Runtime.startCreated) and is killed by kill or delete. It takes no
            // identity, limits or program; should anything else write the exec fifo, the helper
            // ends at the plan's end with an error, running nothing.
            if (c.mode() != Mode.CREATE) throw new IllegalArgumentException("a container without a process can only be created");
            if (late) steps.add(await);
            steps.add(new Step.Ready());
            steps.add(new Step.WaitStart());
            return new Plan(steps);
        }
        // After every mount, as root: the /etc/passwd the container will see.
        steps.addAll(ProcessPlanner.home(p));
        // The container's /dev/null as stdin when Brig's annotation asks (docker without -i);
        // before the identity changes and seccomp, which could refuse the open.
        steps.addAll(brig.process.Stdin.steps(spec));

        if (late) steps.add(await);
        // Limits, identity, the program, fds and seccomp where runc loads it; before the start wait.
        List<String> env = listenEnv(c.notifyDir() != null ? Notify.env(p.env()) : p.env(), c.listenFds());
        steps.addAll(ProcessPlanner.run(p, l.seccomp(), c.lastCap(), env, c.listenFds() + c.preserveFds()));
        if (c.mode() == Mode.CREATE) {
            steps.add(new Step.Ready());
            steps.add(new Step.WaitStart());
        }
        steps.addAll(Hooks.beforeExec(spec.hooks()));
        steps.add(new Step.Exec(p.args(), env));
        return new Plan(steps);
    }

    /**
     * The program's environment with socket activation announced as runc does: LISTEN_FDS=N
     * and LISTEN_PID=1 (the program is pid 1 of its pid namespace), replacing any the config
     * set. Without listen fds, the config's environment as it is.
     */
    static List<String> listenEnv(List<String> env, int listenFds) {
        if (listenFds <= 0) return env;
        List<String> out = new ArrayList<>();
        for (String e : env) if (!e.startsWith("LISTEN_FDS=") && !e.startsWith("LISTEN_PID=")) out.add(e);
        out.add("LISTEN_FDS=" + listenFds);
        out.add("LISTEN_PID=1");
        return out;
    }

    /**
     * The session keyring's permissions: the kernel's for a keyring made by
     * KEYCTL_JOIN_SESSION_KEYRING (possessor all; user view, read, link) plus search, as runc
     * adds it: for the user without a user namespace, for others with one (the container's
     * ids are not the keyring owner's as the host sees it).
     */
    static int keyringPerm(boolean userns) {
        int kernelDefault = 0x3f000000 | 0x00010000 | 0x00020000 | 0x00100000;
        return kernelDefault | (userns ? 0x08 : 0x00080000);
    }
}
