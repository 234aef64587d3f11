package brig.runtime;

import brig.helper.Plan;
import brig.helper.Step;
import brig.process.ProcessPlanner;
import brig.spec.Capability;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Plans `brig exec`: another process in a running container. The helper joins the namespaces
 * of the container's first process (in the order {@link #order} gives), forks so that the program is
 * born in the container's pid namespace, and waits while Brig places it in the container's
 * cgroups; then the container's session keyring, its terminal if it has one, the process's
 * limits, identity, capabilities and the container's seccomp filter (see {@link ProcessPlanner},
 * as for the first process), and execve. Nothing of the container's filesystem is set up
 * again: the mount namespace joined is the container's as it is now.
 */
public final class ExecPlanner {
    private ExecPlanner() {}

    /**
     * What `brig exec`'s flags change in the container's process (runc's): null (or empty)
     * leaves the field as config.json has it.
     *
     * @param args the program and its arguments
     * @param env NAME=VALUE entries that replace a variable of that name or are added
     * @param caps added to the bounding, effective and permitted sets, and to the ambient set
     *     when the process has an inheritable set (see {@link #process})
     * @param terminal whether the process gets a terminal (-t; as runc, whatever config.json says)
     */
    public record Overrides(List<String> args, List<String> env, String cwd, Long uid, Long gid, List<Long> additionalGids,
                            List<Capability> caps, Boolean noNewPrivileges, boolean terminal) {
        public Overrides {
            args = List.copyOf(args);
            env = List.copyOf(env);
            additionalGids = additionalGids == null ? null : List.copyOf(additionalGids);
            caps = List.copyOf(caps);
        }
    }

    /** The process to run: the container's own (config.json's) with the command line's changes. */
    public static Spec.Process process(Spec.Process base, Overrides o) {
        List<String> env = new ArrayList<>(base.env());
        for (String e : o.env()) {
            String name = e.substring(0, e.indexOf('=') + 1);
            env.removeIf(x -> x.startsWith(name));
            env.add(e);
        }
        Spec.User u = base.user();
        Spec.User user = new Spec.User(o.uid() != null ? o.uid() : u.uid(), o.gid() != null ? o.gid() : u.gid(), u.umask(),
                o.additionalGids() != null ? o.additionalGids() : u.additionalGids());
        Spec.Capabilities caps = base.capabilities() != null ? base.capabilities() : ProcessPlanner.NO_CAPABILITIES;
        if (!o.caps().isEmpty()) {
            // runc's sets: never the inheritable one (a --cap that reached it would pass to
            // programs with file capabilities: CVE-2022-29162); the ambient one only when the
            // process has an inheritable set, for the kernel raises no ambient capability that
            // is not inheritable (Brig drops those, see ProcessPlanner.identity).
            boolean ambient = base.capabilities() != null && base.capabilities().inheritable() != null;
            caps = new Spec.Capabilities(plus(caps.bounding(), o.caps()), plus(caps.effective(), o.caps()), caps.inheritable(),
                    plus(caps.permitted(), o.caps()), ambient ? plus(caps.ambient(), o.caps()) : caps.ambient());
        }
        return new Spec.Process(o.terminal(), base.consoleSize(), user, o.args().isEmpty() ? base.args() : o.args(), env,
                o.cwd() != null ? o.cwd() : base.cwd(), caps, base.rlimits(),
                o.noNewPrivileges() != null ? o.noNewPrivileges() : base.noNewPrivileges(), base.oomScoreAdj());
    }

    private static List<Capability> plus(List<Capability> set, List<Capability> more) {
        List<Capability> out = new ArrayList<>(set == null ? List.of() : set);
        for (Capability c : more) if (!out.contains(c)) out.add(c);
        return out;
    }

    /** The order of joining, user namespace aside (see {@link #order}): mount last, nothing after it needs the host's view. */
    static final List<NamespaceType> ORDER = List.of(NamespaceType.USER, NamespaceType.IPC, NamespaceType.UTS,
            NamespaceType.NETWORK, NamespaceType.PID, NamespaceType.CGROUP, NamespaceType.TIME, NamespaceType.MOUNT);

    /**
     * The namespaces of process {@code pid} that are not this process's own (those the
     * container shares with the host need no joining; joining one's own user namespace is an
     * error), in the order they are joined ({@link #order}). What the kernel says, not what
     * config.json said: the namespaces from /proc/PID/ns, and which user namespace owns each
     * (ioctl NS_GET_USERNS).
     */
    public static List<NamespaceType> namespacesOf(int pid) {
        List<NamespaceType> differ = new ArrayList<>();
        for (NamespaceType t : ORDER) {
            try {
                Path theirs = Path.of("/proc/" + pid + "/ns/" + t.procName()), ours = Path.of("/proc/self/ns/" + t.procName());
                if (!Files.readSymbolicLink(theirs).equals(Files.readSymbolicLink(ours))) differ.add(t);
            } catch (IOException e) {
                // a namespace type this kernel lacks, or the process is gone (the helper reports that)
            }
        }
        if (!differ.contains(NamespaceType.USER)) return differ;
        Set<NamespaceType> foreign = EnumSet.noneOf(NamespaceType.class);
        long userns = nsInode(pid, NamespaceType.USER);
        for (NamespaceType t : differ) {
            if (t == NamespaceType.USER || userns == 0) continue;
            long owner = ownerInode(pid, t);
            if (owner != 0 && owner != userns) foreign.add(t);
        }
        return order(differ, foreign);
    }

    /**
     * The join order, as runc's nsexec ends up with it. Without a user namespace of the
     * container's: {@link #ORDER}. With one: first the namespaces that user namespace does not
     * own ({@code foreign}: one the config joined by path that was made under the host's, such
     * as a network namespace an engine prepared), while Brig is still root of the host's user
     * namespace: setns(2) wants CAP_SYS_ADMIN in the namespace's owner, which a process that
     * has joined the container's user namespace no longer has there (EPERM). Then the user
     * namespace, then those it owns (with its capabilities, which is what a rootless Brig has to
     * join them), mount last.
     */
    static List<NamespaceType> order(List<NamespaceType> join, Set<NamespaceType> foreign) {
        if (!join.contains(NamespaceType.USER)) return List.copyOf(join);
        List<NamespaceType> out = new ArrayList<>();
        for (NamespaceType t : ORDER) if (t != NamespaceType.USER && join.contains(t) && foreign.contains(t)) out.add(t);
        out.add(NamespaceType.USER);
        for (NamespaceType t : ORDER) if (t != NamespaceType.USER && join.contains(t) && !foreign.contains(t)) out.add(t);
        return out;
    }

    /** The inode of the user namespace owning {@code pid}'s namespace of type {@code t}, or 0 if unknown. */
    private static long ownerInode(int pid, NamespaceType t) {
        int fd = -1, owner = -1;
        try {
            fd = Libc.open("/proc/" + pid + "/ns/" + t.procName(), Libc.O_RDONLY, 0);
            owner = Libc.ioctl(fd, Libc.NS_GET_USERNS, 0, "NS_GET_USERNS");
            Libc.Stat st = Libc.statx(owner, "", Libc.AT_EMPTY_PATH);
            return st == null ? 0 : st.ino();
        } catch (SyscallException e) {
            return 0; // gone, or a kernel without the ioctl (before 4.9): joined after the user namespace, as before
        } finally {
            Libc.close(owner);
            Libc.close(fd);
        }
    }

    /** The inode of {@code pid}'s namespace of type {@code t}, or 0 if unknown. */
    private static long nsInode(int pid, NamespaceType t) {
        try {
            Libc.Stat st = Libc.statx(Libc.AT_FDCWD, "/proc/" + pid + "/ns/" + t.procName(), 0);
            return st == null ? 0 : st.ino();
        } catch (SyscallException e) {
            return 0;
        }
    }

    /**
     * Brig's work on the host while the forked process waits: the container's cgroups the
     * process does not join itself, and the process's oomScoreAdj if it has one.
     */
    public static List<HostStep> host(Spec.Process p, Cgroups cgroups) {
        List<HostStep> out = new ArrayList<>();
        if (!cgroups.brigWrites().isEmpty()) out.add(new HostStep.JoinContainerCgroups(cgroups.brigWrites(), cgroups.forkInto() != null));
        if (p.oomScoreAdj() != null) out.add(new HostStep.WriteOomScoreAdj(p.oomScoreAdj()));
        return List.copyOf(out);
    }

    /**
     * The container as exec finds it.
     *
     * @param pid its first process; {@code pidStart} that process's recorded start time
     * @param join its namespaces to join, in order ({@link #namespacesOf})
     * @param seccomp linux.seccomp of the config it was created with (runc applies the
     *     container's profile to exec'd processes), or null
     * @param keyring the session keyring it joined at create, which exec'd processes join
     *     too (runc's), or null (--no-new-keyring)
     */
    public record Target(int pid, long pidStart, List<NamespaceType> join, brig.seccomp.Profile seccomp, String keyring) {
        public Target {
            join = List.copyOf(join);
        }
    }

    /**
     * How the exec'd process gets into the container's cgroups (as its state records them).
     * A move by pid through cgroup.procs takes a kernel lock that waits out an RCU grace period
     * after a quiet spell (5-19 ms here, per exec, as engines space them); so the process joins
     * the v1 ones itself (tasks "0", {@link Step.JoinCgroupTasks}), and is forked into the
     * cgroup2 one (CLONE_INTO_CGROUP; a cgroup namespace of the container's it joins after).
     *
     * @param selfJoined the v1 directories, joined by the process
     * @param forkInto the cgroup2 directory it is forked into, or null
     * @param brigWrites what Brig still moves it into: the cgroup2 directory (only should the
     *     fork not create it there, if {@code forkInto})
     */
    public record Cgroups(List<String> selfJoined, List<Path> brigWrites, Path forkInto) {
        public Cgroups {
            selfJoined = List.copyOf(selfJoined);
            brigWrites = List.copyOf(brigWrites);
        }

        /** A directory with cgroup.controllers is cgroup2's; the others are v1 hierarchies'. */
        public static Cgroups of(List<Path> dirs) {
            List<String> self = new ArrayList<>();
            List<Path> brig = new ArrayList<>();
            Path into = null;
            for (Path d : dirs) {
                if (!Files.exists(d.resolve("cgroup.controllers"))) {
                    self.add(d.toString());
                } else {
                    brig.add(d);
                    into = d;
                }
            }
            return new Cgroups(self, brig, brig.size() == 1 ? into : null);
        }
    }

    /**
     * The helper's plan.
     *
     * @param lastCap /proc/sys/kernel/cap_last_cap
     * @param cgroups how the process gets into the container's cgroups (as {@link #host} was told)
     */
    public static Plan plan(Spec.Process p, Target t, int preserveFds, int lastCap, List<HostStep> host, Cgroups cgroups) {
        List<Step> steps = new ArrayList<>();
        // Host paths: opened before the container's mount namespace is joined.
        if (cgroups.forkInto() != null) steps.add(new Step.OpenCgroup(cgroups.forkInto().toString()));
        if (!cgroups.selfJoined().isEmpty()) steps.add(new Step.OpenCgroupTasks(cgroups.selfJoined()));
        // Forked into the cgroup2 directory, the process joins a cgroup namespace of the
        // container's itself, after the fork: the kernel checks CLONE_INTO_CGROUP against the
        // forking process's cgroup namespace, which must hold both cgroups.
        boolean cgroupNsLater = cgroups.forkInto() != null && t.join().contains(NamespaceType.CGROUP);
        steps.add(new Step.JoinNamespacesOf(t.pid(), t.pidStart(), t.join(), cgroupNsLater));
        steps.add(new Step.Fork(cgroups.forkInto() == null ? "" : cgroups.forkInto().toString(), cgroupNsLater));
        if (!cgroups.selfJoined().isEmpty()) steps.add(new Step.JoinCgroupTasks(cgroups.selfJoined()));
        steps.add(new Step.Await(Planner.awaitReason(host)));
        // Still with the host's ids: in a user namespace the container's root (the keyring's
        // owner) has no search right on it by name, others have (Planner.keyringPerm).
        if (t.keyring() != null) steps.add(new Step.JoinContainerKeyring(t.keyring()));
        if (t.join().contains(NamespaceType.USER)) {
            // The host's ids mean nothing in the container's user namespace: take its root's,
            // so that what the process makes (its terminal) is owned as in the container.
            steps.add(new Step.SetGroups(List.of()));
            steps.add(new Step.SetGid(0));
            steps.add(new Step.SetUid(0));
        }
        if (p.terminal()) {
            // From the container's own /dev/ptmx (its devpts), the master passed to Brig; no console bind.
            int rows = p.consoleSize() != null ? p.consoleSize().height() : 0;
            int cols = p.consoleSize() != null ? p.consoleSize().width() : 0;
            steps.add(new Step.OpenTerminal("/dev/ptmx", "", rows, cols));
        }
        steps.addAll(ProcessPlanner.home(p));
        // Limits, identity, the program, fds, and the container's seccomp filter where runc loads it.
        steps.addAll(ProcessPlanner.run(p, t.seccomp(), lastCap, p.env(), preserveFds));
        steps.add(new Step.Exec(p.args(), p.env()));
        return new Plan(steps);
    }
}
