package brig.runtime;

import brig.cgroups.CgroupWrite;
import brig.cgroups.ContainerCgroup;
import brig.cgroups.DeviceRules;
import brig.spec.Spec;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One piece of Brig's own work on the host for a start, beside the helper's steps: the
 * cgroups, the exec fifo, the id maps, the placing of the process and its oom_score_adj.
 * {@link Planner#host} orders them, {@link Runtime.Prepared#explain} prints them among the
 * helper's steps, and {@link Runtime#start} executes exactly this list, one step at a time:
 * what `--explain` shows is what runs. "PID" in the texts is the container's first process.
 */
public sealed interface HostStep {

    /** When a step runs: before the helper clones, or after, while the first process waits. */
    enum Phase {
        BEFORE_CLONE("host: "), AFTER_CLONE("host after clone: "),
        /** While the process waits after its mounts, before pivot_root (prestart, createRuntime hooks). */
        AFTER_MOUNTS("host after the mounts: "),
        /** Once the program runs: at the end of run, or in start (poststart hooks). */
        AFTER_EXEC("host after execve: "),
        /** When the container is deleted, after everything of it is gone (poststop hooks). */
        AFTER_DELETE("host after delete: ");

        /** How `--explain` starts the step's line. */
        public final String prefix;

        Phase(String prefix) { this.prefix = prefix; }
    }

    Phase phase();

    /** One line in plain words. */
    String explain();

    /**
     * Makes the container's cgroup directories (or joins empty ones), cpusets filled from their
     * parent as v1 requires. {@code brigParent}: the parent is Brig's default one, shared by
     * its containers and removed by whichever leaves last.
     */
    record MakeCgroups(ContainerCgroup cgroup, boolean brigParent) implements HostStep {
        public Phase phase() { return Phase.BEFORE_CLONE; }
        public String explain() {
            return "make the cgroup directories " + dirs(cgroup)
                    + (cgroup.dirs().stream().anyMatch(d -> d.hierarchy().has("cpuset")) ? " (cpuset.cpus and cpuset.mems from the parent)" : "");
        }
    }

    /** The device rules, on top of deny-all: v1 devices files, or a v2 eBPF program. */
    record SetDevices(ContainerCgroup cgroup, List<Spec.DeviceRule> rules) implements HostStep {
        public SetDevices { rules = List.copyOf(rules); }
        public Phase phase() { return Phase.BEFORE_CLONE; }
        public String explain() {
            ContainerCgroup.Dir v1 = cgroup.dirs().stream().filter(d -> d.hierarchy().has("devices")).findFirst().orElse(null);
            String where = v1 != null ? "devices.deny and devices.allow in " + v1.path()
                    : "an eBPF program attached to " + dirs(cgroup);
            return "limit devices (" + where + "): "
                    + rules.stream().map(r -> (r.allow() ? "allow " : "deny ") + DeviceRules.line(r)).collect(Collectors.joining(", "));
        }
    }

    /** One write of linux.resources (see {@link brig.cgroups.ResourcePlan}). */
    record WriteCgroup(ContainerCgroup cgroup, CgroupWrite write) implements HostStep {
        public Phase phase() { return Phase.BEFORE_CLONE; }
        public String explain() { return write.explain(); }
    }

    /**
     * Reads how many tasks the OOM killer has killed in the cgroup so far ("oom_kill" of v1
     * memory.oom_control or v2 memory.events): those after it are the container's, reported
     * when it ends. Skipped when the file does not exist (v2 without the memory controller).
     */
    record ReadOomKills(Path counter) implements HostStep {
        public Phase phase() { return Phase.BEFORE_CLONE; }
        public String explain() { return "read the oom_kill count in " + counter + " (OOM kills after it are reported at the end)"; }
    }

    /**
     * For create: the fifo `start` opens to let the program run. With a user namespace it is
     * owned by the container's root ({@code uid}, {@code gid} on the host; -1: not changed),
     * who opens it for reading.
     */
    record MakeExecFifo(Path fifo, long uid, long gid) implements HostStep {
        public Phase phase() { return Phase.BEFORE_CLONE; }
        public String explain() {
            return "make the fifo " + fifo + " (mode 0622" + (uid >= 0 ? ", owner " + uid + ":" + gid + ", the container's root" : "")
                    + ") that start opens to let the program run";
        }
    }

    /**
     * NOTIFY_SOCKET: the container's notify directory in its state directory, which the
     * helper bind-mounts at /run/notify; start (or run) binds the socket in it (see {@link Notify}).
     */
    record MakeNotifyDir(Path dir) implements HostStep {
        public Phase phase() { return Phase.BEFORE_CLONE; }
        public String explain() {
            return "make the directory " + dir + " (mode 0755) for the container's notify socket " + Notify.SOCKET
                    + ", seen in the container at " + Notify.IN_CONTAINER;
        }
    }

    /** /proc/PID/uid_map or gid_map of a new user namespace: one write(2), as the kernel needs. */
    record WriteIdMap(String file, List<Spec.IdMapping> maps, String field) implements HostStep {
        public WriteIdMap { maps = List.copyOf(maps); }
        public Phase phase() { return Phase.AFTER_CLONE; }

        /** What is written: one "inside outside size" line per mapping. */
        public String text() {
            StringBuilder sb = new StringBuilder();
            for (Spec.IdMapping m : maps) sb.append(m.containerID()).append(' ').append(m.hostID()).append(' ').append(m.size()).append('\n');
            return sb.toString();
        }

        public String explain() {
            return "write \"" + text().strip().replace("\n", "\\n") + "\" to /proc/PID/" + file + " (" + field + ")";
        }
    }

    /**
     * Moves the process into these cgroup directories (those the clone did not place it in
     * already), before it runs anything of its own.
     *
     * @param dirs the container's directories the process does not join itself (Planner.selfJoined)
     * @param cloneInto whether the helper's clone was planned into the cgroup2 directory
     *     (CLONE_INTO_CGROUP), so that only a refused clone3 leaves that one to Brig
     */
    record JoinCgroups(List<Path> dirs, boolean cloneInto) implements HostStep {
        public JoinCgroups { dirs = List.copyOf(dirs); }
        public Phase phase() { return Phase.AFTER_CLONE; }
        /** Only the cgroup2 directory is Brig's, and only if the clone could not create the process there. */
        public boolean unifiedOnly() { return cloneInto && dirs.size() == 1; }
        public String explain() {
            String list = dirs.stream().map(Path::toString).collect(Collectors.joining(", "));
            if (unifiedOnly()) return "place the process in its cgroup2 directory if the clone could not create it there: write PID to cgroup.procs in " + list;
            String all = "place the process in its cgroups: write PID to cgroup.procs in " + list;
            return cloneInto ? all + " (the cgroup2 one only if the clone could not create it there)" : all;
        }
    }

    /**
     * `brig exec`: moves the process into the container's cgroup directories (as its state
     * records them) while it waits, before it runs anything of its own.
     */
    record JoinContainerCgroups(List<Path> dirs, boolean forkInto) implements HostStep {
        public JoinContainerCgroups { dirs = List.copyOf(dirs); }
        public Phase phase() { return Phase.AFTER_CLONE; }
        public String explain() {
            String list = dirs.stream().map(Path::toString).collect(Collectors.joining(", "));
            return forkInto ? "place the process in the container's cgroup2 directory if the fork could not create it there: "
                    + "write PID to cgroup.procs in " + list
                    : "place the process in the container's cgroups: write PID to cgroup.procs in " + list;
        }
    }

    /** process.oomScoreAdj, set before the program runs. */
    record WriteOomScoreAdj(int value) implements HostStep {
        public Phase phase() { return Phase.AFTER_CLONE; }
        public String explain() { return "write " + value + " to /proc/PID/oom_score_adj (process.oomScoreAdj)"; }
    }

    /**
     * A hook that runs in the runtime's namespaces (prestart, createRuntime, poststart,
     * poststop), with the container's state on stdin; see {@link Hooks}.
     */
    record RunHook(Hooks.Kind kind, int index, Spec.Hook hook) implements HostStep {
        public Phase phase() { return kind.phase; }
        public String label() { return kind.label(index); }
        public String explain() {
            return "run " + label() + ": " + brig.helper.Step.RunHook.describe(hook.path(), hook.argv(), hook.env(),
                    hook.timeout() == null ? 0 : hook.timeout()) + ", the state (status " + kind.status + ") on stdin"
                    + (kind.fatal ? "" : "; a failure is a warning");
        }
    }

    /** For create with hooks at start: the fifo `start` reads the outcome from (see brig.helper.Step.OpenStartReport). */
    record MakeStartReport(Path fifo) implements HostStep {
        public Phase phase() { return Phase.BEFORE_CLONE; }
        public String explain() { return "make the fifo " + fifo + " (mode 0622) that start reads the outcome of the start from"; }
    }

    private static String dirs(ContainerCgroup cgroup) {
        return cgroup.dirs().stream().map(d -> d.path().toString()).collect(Collectors.joining(", "));
    }
}
