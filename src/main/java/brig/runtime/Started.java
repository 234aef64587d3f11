package brig.runtime;

import brig.cgroups.CgroupException;
import brig.cgroups.OomWatch;
import brig.helper.Helper;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.nio.file.Path;
import java.util.List;

/** A started container whose first process is a child of this process. */
public final class Started {
    private final Runtime runtime;
    private final ContainerState state;
    private final Helper helper;
    private final int terminal;
    private final Path oomCounter;
    private final long oomBaseline;
    private final String oomMessage;
    private long oomKills;
    private final long[] dirId;

    Started(Runtime runtime, ContainerState state, Helper helper, int terminal, Path oomCounter, long oomBaseline,
            String oomMessage, long[] dirId) {
        this.dirId = dirId;
        this.runtime = runtime;
        this.state = state;
        this.helper = helper;
        this.terminal = terminal;
        this.oomCounter = oomCounter;
        this.oomBaseline = oomBaseline;
        this.oomMessage = oomMessage;
    }

    public ContainerState state() { return state; }

    public int pid() { return state.pid(); }

    /** The terminal's master side when process.terminal is set, else -1. */
    public int terminalFd() { return terminal; }

    /**
     * Waits for the container's first process, removes the container, and returns its exit
     * status (128+N when killed by signal N). Whether the OOM killer struck: {@link #oomReport}.
     */
    public int waitFor() throws SyscallException, CgroupException, BrigException {
        return waitFor(false);
    }

    /**
     * As {@link #waitFor()}; with {@code keep} (`run --keep`) the container stays, stopped,
     * with its state and cgroups, until `delete` removes it.
     */
    public int waitFor(boolean keep) throws SyscallException, CgroupException, BrigException {
        int status = Libc.waitpid(state.pid(), 0);
        try {
            // Before the clean-up: the count goes with the cgroup.
            if (oomCounter != null) oomKills = Math.max(0, OomWatch.kills(oomCounter) - oomBaseline);
            // As `brig delete --force` would, and only if it is still this start's: kills what
            // is left (without a pid namespace of its own, forks outlive the first process),
            // removes the cgroups and the state.
            if (!keep) runtime.delete(state.id(), true, state.start());
        } finally {
            helper.release();
            Libc.close(terminal);
        }
        return (status & 0x7f) != 0 ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
    }

    /**
     * After {@link #waitFor}: how many of the container's processes the OOM killer killed
     * (0 also when its cgroup has no memory controller to count them).
     */
    public long oomKills() { return oomKills; }

    /** After {@link #waitFor}: the line to tell the user when the OOM killer struck, else null. */
    public String oomReport() { return oomKills > 0 ? oomMessage : null; }

    /** Kills the container and removes it again. */
    public void abort() throws SyscallException, CgroupException, BrigException {
        Libc.kill(state.pid(), Libc.SIGKILL);
        waitFor();
    }

    /**
     * Lets the container go on without this object (a created container): releases this
     * process's handles to it; the process itself stays as it is.
     */
    void detach() {
        helper.release();
        Libc.close(terminal);
    }

    /**
     * How the process this one hands the container to removes it once it has exited (see
     * {@link Teardown}), for the state directory this start claimed.
     */
    public Teardown teardown() {
        return runtime.teardown(state, dirId);
    }

    /**
     * Hands the container to a process that waits for it in this one's place (the launcher's
     * supervisor): releases this process's handles and returns what it reports once the
     * container has exited, as its arguments (--oom-message and --oom-kills-above, which print
     * the OOM report). It then removes the container with the delete it was told at the start
     * (delete --force --start TOKEN ID).
     */
    public List<String> handOver() {
        return handOver(false);
    }

    /**
     * As {@link #handOver()}; with {@code keep} (`run --keep`) only the OOM report is left to
     * do: the stopped container stays for `delete`, which owns its teardown.
     */
    public List<String> handOver(boolean keep) {
        helper.release();
        return Runtime.reportArgs(oomCounter, oomBaseline, oomMessage);
    }
}
