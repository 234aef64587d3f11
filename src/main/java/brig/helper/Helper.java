package brig.helper;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A running native helper and the control socket to it. The helper runs from a sealed
 * in-memory copy of its binary (CVE-2019-5736). The conversation:
 * <ol>
 * <li>Brig sends the plan; the helper runs its host steps up to {@link Step.Clone}, then reports
 *     the new process's pid ({@link #awaitPid}) and whether it was born in its cgroup2
 *     directory ({@link #clonedInto}), and exits, leaving the container's first process as
 *     Brig's own child.</li>
 * <li>That process waits ({@link Step.Await}) until Brig has written id maps and cgroups and
 *     calls {@link #go}; then it runs the rest of the plan, reporting terminals, readiness or a
 *     failed step ({@link #next}). The socket closes when it calls execve.</li>
 * </ol>
 */
public final class Helper implements AutoCloseable {
    private static final int FR_PLAN = 1, FR_PID = 2, FR_GO = 3, FR_ERROR = 4, FR_PTY = 5, FR_READY = 6, FR_LISTENER = 10;

    private final Plan plan;
    private int sock;
    private final int helperPid;
    private int childPid = -1;
    private boolean intoCgroup;

    private Helper(Plan plan, int sock, int helperPid) {
        this.plan = plan;
        this.sock = sock;
        this.helperPid = helperPid;
    }

    /**
     * Who starts the helper process. Brig's own JVM does on the cold path ({@link #of}); a
     * resident server has the caller's process do it (brig.server), so that the container is
     * the caller's descendant and gets the caller's fds 0-2.
     */
    public interface Launcher {
        /**
         * Starts {@code brig-helper init SOCK FIRST [KEEP]} from a sealed copy of the helper
         * (CVE-2019-5736): fds 0-2 pass on, and of 3..first-1 those in {@code keep} (all of
         * them when null); SOCK, the helper's end of its control socket, lies at or above
         * {@code first}.
         */
        Spawned spawn(int first, Set<Integer> keep) throws SyscallException;

        /** This process's end of the control socket (owned by the caller) and the helper's pid. */
        record Spawned(int sock, int pid) {}

        /** The helper binary at {@code path}, copied and started by this process. */
        static Launcher of(Path path) {
            return (first, keep) -> {
                int binary = Libc.sealedCopy("brig-helper", path.toString());
                int[] pair = null;
                try {
                    pair = Libc.socketpair();
                    // The helper's end must lie above the fds passed on to the container, and be
                    // inherited: it is the only fd of brig's that is not close-on-exec.
                    int childFd = pair[1];
                    if (childFd < first) {
                        childFd = Libc.fcntl(pair[1], Libc.F_DUPFD_CLOEXEC, first);
                        Libc.close(pair[1]);
                        pair[1] = childFd;
                    }
                    Libc.setCloseOnExec(childFd, false);
                    int pid = Libc.spawn("/proc/self/fd/" + binary, initArgv(childFd, first, keep), List.of());
                    return new Spawned(pair[0], pid);
                } catch (SyscallException e) {
                    if (pair != null) Libc.close(pair[0]);
                    throw e;
                } finally {
                    if (pair != null) Libc.close(pair[1]);
                    Libc.close(binary);
                }
            };
        }

        /** The helper's command line: its control socket, the first fd not passed on, the fds passed on below it. */
        static List<String> initArgv(int sock, int first, Set<Integer> keep) {
            List<String> argv = new ArrayList<>(List.of("brig-helper", "init", String.valueOf(sock), String.valueOf(first)));
            if (keep != null) argv.add(keepList(first, keep));
            return argv;
        }

        /** "3,5": those of {@code keep} in 3..first-1, ascending. */
        static String keepList(int first, Set<Integer> keep) {
            StringBuilder out = new StringBuilder();
            for (int fd : new TreeSet<>(keep)) {
                if (fd >= 3 && fd < first) out.append(out.isEmpty() ? "" : ",").append(fd);
            }
            return out.toString();
        }
    }

    /**
     * Starts the helper with the plan. File descriptors 0, 1 and 2 and {@code 3 .. 3+keepFds-1}
     * are passed on as they are, and the control socket; the helper closes any other fd (Brig's
     * own are close-on-exec, but those Brig inherited are not).
     */
    public static Helper start(Path helperBinary, Plan plan, int keepFds) throws SyscallException {
        return start(Launcher.of(helperBinary), plan, keepFds, null);
    }

    /**
     * As {@link #start(Path, Plan, int)}, but of {@code 3 .. 3+keepFds-1} only those in
     * {@code passedFds} are passed on (the fds this process's caller really gave it); the
     * helper closes the others first: they are this process's own, a JVM's jar or modules
     * file, say. Null passes them all.
     */
    public static Helper start(Launcher launcher, Plan plan, int keepFds, Set<Integer> passedFds) throws SyscallException {
        Launcher.Spawned s = launcher.spawn(3 + keepFds, passedFds);
        Helper h = new Helper(plan, s.sock(), s.pid());
        try {
            h.send(FR_PLAN, plan.encode());
        } catch (SyscallException e) {
            h.close();
            throw e;
        }
        return h;
    }

    public Plan plan() { return plan; }

    /** The pid of the container's first process, once the host steps are done. */
    public int awaitPid() throws HelperException, SyscallException {
        // The new process's own messages (its terminal, before its wait) may come first: the
        // helper sends the pid as its clone returns, but on a busy machine the new process once
        // reached its terminal before that. They are kept, in order, for next().
        List<Frame> early = new ArrayList<>();
        try {
            while (true) {
                Frame f = receive();
                if (f == null) throw new HelperException("brig-helper exited before starting the container" + exitNote());
                if (f.type == FR_ERROR) throw error(f);
                if (f.type == FR_PTY) {
                    early.add(f);
                    continue;
                }
                // The pid, and 1 if the process was created in the Clone (or Fork) step's cgroup.
                if (f.type != FR_PID || f.payload.length != 8) throw new HelperException("brig-helper: unexpected message " + f.type);
                ByteBuffer b = ByteBuffer.wrap(f.payload).order(ByteOrder.nativeOrder());
                childPid = b.getInt();
                intoCgroup = b.getInt() == 1;
                for (int k = early.size() - 1; k >= 0; k--) ahead.addFirst(early.get(k));
                early.clear();
                return childPid;
            }
        } finally {
            for (Frame f : early) Libc.close(f.fd); // not handed on: a failure
            reapHelper();
        }
    }

    /** Why the helper ended; nothing when it is not this process's child (the caller's process started it). */
    private String exitNote() {
        try {
            int status = Libc.waitpid(helperPid, 0);
            if ((status & 0x7f) != 0) return " (killed by signal " + (status & 0x7f) + ")";
            return " (exit status " + ((status >> 8) & 0xff) + ")";
        } catch (SyscallException e) {
            return "";
        }
    }

    private void reapHelper() {
        try {
            Libc.waitpid(helperPid, 0);
        } catch (SyscallException ignored) {
            // already reaped by exitNote
        }
    }

    /**
     * After {@link #awaitPid}: the cgroup2 directory the process was created in
     * (CLONE_INTO_CGROUP), or null when the plan named none or the kernel refused it; then Brig
     * must move the process there itself.
     */
    public Path clonedInto() {
        if (!intoCgroup) return null;
        Step.Clone clone = plan.find(Step.Clone.class);
        if (clone != null) return clone.cgroup().isEmpty() ? null : Path.of(clone.cgroup());
        Step.Fork fork = plan.find(Step.Fork.class); // exec's
        return fork != null && !fork.cgroup().isEmpty() ? Path.of(fork.cgroup()) : null;
    }

    /** Lets the container's first process go on with the plan. */
    public void go() throws SyscallException {
        go(new byte[0]);
    }

    /** {@link #go()}, with what the plan's later steps need from Brig (the hooks' states, see Step.RunHook). */
    public void go(byte[] payload) throws SyscallException {
        send(FR_GO, payload);
    }

    /** What the helper reports after {@link #go}. */
    public sealed interface Event {
        /** The terminal's master side; the caller owns the fd. */
        record Terminal(int masterFd) implements Event {}

        /**
         * The seccomp notify listener of the filter just loaded ({@link Step.Seccomp} with a
         * listener); the caller owns the fd. An {@link Step.Await} follows: the agent gets it first.
         */
        record SeccompListener(int fd) implements Event {}

        /** Everything up to a {@link Step.Ready} step is done. */
        record Ready() implements Event {}

        /** The socket closed: the process called execve (or died). */
        record Executed() implements Event {}
    }

    public Event next() throws HelperException, SyscallException {
        Frame f = receive();
        if (f == null) return new Event.Executed();
        return switch (f.type) {
            case FR_PTY -> {
                if (f.fd < 0) throw new HelperException("brig-helper: terminal message without a descriptor");
                yield new Event.Terminal(f.fd);
            }
            case FR_LISTENER -> {
                if (f.fd < 0) throw new HelperException("brig-helper: seccomp listener message without a descriptor");
                yield new Event.SeccompListener(f.fd);
            }
            case FR_READY -> new Event.Ready();
            case FR_ERROR -> throw error(f);
            default -> throw new HelperException("brig-helper: unexpected message " + f.type);
        };
    }

    private HelperException error(Frame f) {
        ByteBuffer b = ByteBuffer.wrap(f.payload).order(ByteOrder.nativeOrder());
        int index = b.getInt(), errno = b.getInt();
        String rest = new String(f.payload, 8, f.payload.length - 8, StandardCharsets.UTF_8);
        String[] parts = rest.split("\0", -1);
        String syscall = parts.length > 0 ? parts[0] : "?", path = parts.length > 1 ? parts[1] : "";
        Step step = index >= 0 && index < plan.steps().size() ? plan.steps().get(index) : null;
        return new HelperException(step, syscall, path, errno);
    }

    private record Frame(int type, byte[] payload, int fd) {}

    private void send(int type, byte[] payload) throws SyscallException {
        ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.nativeOrder());
        b.putInt(type).putInt(payload.length).put(payload);
        Libc.writeFully(sock, b.array());
    }

    /** Frames read ahead by {@link #failedMeanwhile}, in order. */
    private final java.util.ArrayDeque<Frame> ahead = new java.util.ArrayDeque<>();
    private boolean endAhead;

    /**
     * The helper's failure, if it has reported one already (without waiting): a process whose
     * plan runs its mount steps before its wait for Brig ({@link Step.Await}) may have failed
     * while Brig did the host steps, which then fail too (its pid is gone). Its own error
     * says what went wrong; frames before it are kept for {@link #next}.
     */
    public HelperException failedMeanwhile() throws SyscallException {
        while (!endAhead && Libc.pollIn(new int[] {sock}, 0)[0]) {
            Frame f = read();
            if (f == null) {
                endAhead = true;
            } else if (f.type == FR_ERROR) {
                return error(f);
            } else {
                ahead.add(f);
            }
        }
        return null;
    }

    /** One frame, or null at the end of the stream. */
    private Frame receive() throws SyscallException {
        if (!ahead.isEmpty()) return ahead.poll();
        return endAhead ? null : read();
    }

    private Frame read() throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(8);
            int got = 0, fd = -1;
            while (got < 8) {
                Libc.Received r = Libc.recvmsg(sock, hdr.asSlice(got), 8 - got);
                if (r.fd() >= 0) fd = r.fd();
                if (r.count() == 0) {
                    Libc.close(fd);
                    return null;
                }
                got += r.count();
            }
            int type = hdr.get(ValueLayout.JAVA_INT_UNALIGNED, 0), len = hdr.get(ValueLayout.JAVA_INT_UNALIGNED, 4);
            MemorySegment body = a.allocate(Math.max(1, len));
            for (int off = 0; off < len; ) {
                int n = Libc.read(sock, body.asSlice(off), len - off);
                if (n == 0) return null;
                off += n;
            }
            return new Frame(type, body.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), fd);
        }
    }

    /** Closes the control socket (the helper side sees end of file). */
    @Override
    public void close() {
        Libc.close(sock);
        sock = -1;
    }

    /** Closes the socket (the helper's binary was closed once it ran). */
    public void release() {
        close();
    }

}
