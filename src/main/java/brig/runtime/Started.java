package brig.runtime;

import brig.cgroups.CgroupException;
import brig.helper.Helper;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.util.List;

/** A started container whose first process is a child of this process. */
public final class Started {
    private final Runtime runtime;
    private final ContainerState state;
    private final Helper helper;
    private final int terminal;

    Started(Runtime runtime, ContainerState state, Helper helper, int terminal) {
        this.runtime = runtime;
        this.state = state;
        this.helper = helper;
        this.terminal = terminal;
    }

    public ContainerState state() { return state; }

    public int pid() { return state.pid(); }

    /** The terminal's master side when process.terminal is set, else -1. */
    public int terminalFd() { return terminal; }

    /**
     * Waits for the container's first process, removes the container, and returns its exit
     * status (128+N when killed by signal N).
     */
    public int waitFor() throws SyscallException, CgroupException {
        int status = Libc.waitpid(state.pid(), 0);
        try {
            // Kills what is left (without a pid namespace of its own, forks outlive the first
            // process), removes the cgroups and the state.
            runtime.cleanup(state);
        } finally {
            helper.release();
            Libc.close(terminal);
        }
        return (status & 0x7f) != 0 ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
    }

    /** Kills the container and removes it again. */
    public void abort() throws SyscallException, CgroupException {
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
     * Hands the container to a process that waits for it in this one's place (the helper's
     * supervisor): releases this process's handles and returns what must be done once the
     * container has exited, as the supervisor's arguments (see
     * {@link brig.cgroups.ContainerCgroup#cleanupArgs}, and --unlink and --rmdir for the state).
     */
    public List<String> handOver() {
        helper.release();
        return runtime.cleanupArgs(state);
    }
}
