package brig.runtime;

import brig.helper.Plan;
import brig.helper.Step;
import brig.process.ProcessPlanner;
import brig.spec.Capability;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Plans `brig exec`: another process in a running container. The helper joins the namespaces
 * of the container's first process (its user namespace first, when it has one of its own:
 * joined from the host's, the others could then be refused), forks so that the program is
 * born in the container's pid namespace, and waits while Brig places it in the container's
 * cgroups; then its terminal if it has one, the process's limits, identity and capabilities (see {@link ProcessPlanner},
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
     * @param caps added to the bounding, effective and permitted sets
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
            caps = new Spec.Capabilities(plus(caps.bounding(), o.caps()), plus(caps.effective(), o.caps()), caps.inheritable(),
                    plus(caps.permitted(), o.caps()), caps.ambient());
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

    /** The order of joining: user first, mount last (nothing after it needs the host's view). */
    static final List<NamespaceType> ORDER = List.of(NamespaceType.USER, NamespaceType.IPC, NamespaceType.UTS,
            NamespaceType.NETWORK, NamespaceType.PID, NamespaceType.CGROUP, NamespaceType.TIME, NamespaceType.MOUNT);

    /**
     * The namespaces of process {@code pid} that are not this process's own (those the
     * container shares with the host need no joining; joining one's own user namespace is an
     * error), in the order they are joined. What the kernel says, not what config.json said.
     */
    public static List<NamespaceType> namespacesOf(int pid) {
        List<NamespaceType> out = new ArrayList<>();
        for (NamespaceType t : ORDER) {
            try {
                Path theirs = Path.of("/proc/" + pid + "/ns/" + t.procName()), ours = Path.of("/proc/self/ns/" + t.procName());
                if (!Files.readSymbolicLink(theirs).equals(Files.readSymbolicLink(ours))) out.add(t);
            } catch (IOException e) {
                // a namespace type this kernel lacks, or the process is gone (the helper reports that)
            }
        }
        return out;
    }

    /**
     * Brig's work on the host while the forked process waits: the container's cgroups (as its
     * state records them), and the process's oomScoreAdj if it has one.
     */
    public static List<HostStep> host(Spec.Process p, List<Path> cgroups) {
        List<HostStep> out = new ArrayList<>();
        out.add(new HostStep.JoinContainerCgroups(cgroups));
        if (p.oomScoreAdj() != null) out.add(new HostStep.WriteOomScoreAdj(p.oomScoreAdj()));
        return List.copyOf(out);
    }

    /**
     * The helper's plan.
     *
     * @param pid the container's first process; {@code pidStart} its recorded start time
     * @param join its namespaces to join, in order ({@link #namespacesOf})
     * @param lastCap /proc/sys/kernel/cap_last_cap
     */
    public static Plan plan(Spec.Process p, int pid, long pidStart, List<NamespaceType> join, int preserveFds, int lastCap,
                            List<HostStep> host) {
        List<Step> steps = new ArrayList<>();
        steps.add(new Step.JoinNamespacesOf(pid, pidStart, join));
        steps.add(new Step.Fork());
        steps.add(new Step.Await(Planner.awaitReason(host)));
        if (join.contains(NamespaceType.USER)) {
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
        steps.addAll(ProcessPlanner.setup(p));
        steps.addAll(ProcessPlanner.identity(p, lastCap, true));
        String program = p.args().get(0);
        steps.add(new Step.FindExecutable(program, ProcessPlanner.candidates(program, p.env())));
        steps.add(new Step.CloseFds(3 + preserveFds));
        steps.add(new Step.Exec(p.args(), p.env()));
        return new Plan(steps);
    }
}
