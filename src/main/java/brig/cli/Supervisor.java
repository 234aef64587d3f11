package brig.cli;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * The helper process the launcher runs the JVM under ("brig-helper launch"): it owns the pid
 * the caller knows and its signals, and holds them until told where they go. Most commands
 * have them forwarded to this JVM at once. `brig run` leaves them held while it starts the
 * container, then names the container: the supervisor delivers the held signals, relays the
 * rest, copies the terminal, cleans up after the container and exits with its status. The
 * JVM exits as soon as it has said so.
 */
final class Supervisor {
    /**
     * The messages (SV_* in brig-helper.c), numbered apart from brig.server.Protocol's frames:
     * a resident server sends them on the client's connection among its own.
     */
    static final int FORWARD = 21, CONTAINER = 22, STARTING = 23, FORGET = 24, REMOVE = 25;
    /**
     * NOTIFY: the host's NOTIFY_SOCKET address, NUL, a message; the supervisor sends the message
     * there from its own process, then BARRIER=1, and answers NOTIFIED: u32 0 or -errno
     * (brig.runtime.Notify). The one message it answers: on the cold path on the JVM's fd.
     */
    static final int NOTIFY = 26, NOTIFIED = 27;

    /** How the messages reach the supervisor: a u32 type, u32 length, payload frame, and at most one fd. */
    @FunctionalInterface
    interface Channel {
        void send(int type, byte[] payload, int fd) throws SyscallException;
    }

    private static Supervisor found;

    private final Channel channel;
    private final Set<Integer> passedFds;
    private final brig.runtime.Notify.Relay notifier;

    private Supervisor(Channel channel, Set<Integer> passedFds, brig.runtime.Notify.Relay notifier) {
        this.channel = channel;
        this.passedFds = passedFds;
        this.notifier = notifier;
    }

    /**
     * The supervisor of a caller served by a resident server: the caller's own process (the
     * client, which execs the supervisor), reached over the call's connection.
     *
     * @param env the caller's environment, whose BRIG_FDS the client set before it sent it
     */
    static Supervisor served(Channel channel, brig.runtime.Notify.Relay notifier, java.util.Map<String, String> env) {
        return new Supervisor(channel, parseFds(env.get("BRIG_FDS")), notifier);
    }

    /**
     * The supervisor this JVM runs under, or null when started some other way (plain java).
     * One per process: {@code env} is this process's environment.
     */
    static synchronized Supervisor find(java.util.Map<String, String> env) {
        if (found != null) return found;
        String v = env.get("BRIG_SUPERVISOR");
        if (v == null) return null;
        try {
            int fd = Integer.parseInt(v);
            // Inherited (the only fd the supervisor lets through): close-on-exec from now on,
            // so no helper or container can hold it and talk to the supervisor.
            Libc.setCloseOnExec(fd, true);
            Channel channel = (type, payload, pass) -> {
                ByteBuffer b = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.nativeOrder());
                b.putInt(type).putInt(payload.length).put(payload);
                if (pass >= 0) {
                    Libc.sendFd(fd, b.array(), pass);
                } else {
                    Libc.writeFully(fd, b.array());
                }
            };
            found = new Supervisor(channel, parseFds(env.get("BRIG_FDS")), new brig.runtime.Notify.Relay() {
                @Override
                public void send(String address, byte[] message) throws SyscallException {
                    channel.send(NOTIFY, brig.runtime.Notify.payload(address, message), -1);
                    brig.runtime.Notify.answer(address, readAnswer(fd));
                }

                /** The supervisor's socket: it hangs up when the supervisor, the caller's process, is gone. */
                @Override
                public int caller() {
                    return fd;
                }
            });
            return found;
        } catch (NumberFormatException | SyscallException e) {
            return null;
        }
    }

    private static Set<Integer> parseFds(String list) {
        Set<Integer> out = new TreeSet<>();
        if (list == null || list.isEmpty()) return out;
        for (String s : list.split(",")) {
            try {
                out.add(Integer.parseInt(s.trim()));
            } catch (NumberFormatException e) {
                // not an fd: passes nothing on
            }
        }
        return out;
    }

    /**
     * The fds from 3 up that brig's caller really passed, as the supervisor found them before
     * it opened anything: only these may reach a container (--preserve-fds).
     */
    Set<Integer> passedFds() {
        return passedFds;
    }

    /** The supervisor's answer on the cold path's fd: NOTIFIED's u32, or -EPIPE when none came. */
    private static int readAnswer(int fd) throws SyscallException {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment buf = a.allocate(12, 4);
            for (long off = 0; off < 12;) {
                int n = Libc.read(fd, buf.asSlice(off), 12 - off);
                if (n <= 0) return -brig.syscalls.Errno.EPIPE;
                off += n;
            }
            boolean ok = buf.get(java.lang.foreign.ValueLayout.JAVA_INT, 0) == NOTIFIED && buf.get(java.lang.foreign.ValueLayout.JAVA_INT, 4) == 4;
            return ok ? buf.get(java.lang.foreign.ValueLayout.JAVA_INT, 8) : -brig.syscalls.Errno.EPIPE;
        }
    }

    /**
     * What passes a container's READY on to the host's NOTIFY_SOCKET: this supervisor, the
     * process the caller started (systemd's NotifyAccess=main takes only its main pid's).
     */
    brig.runtime.Notify.Relay notifier() {
        return notifier;
    }

    /** Signals for brig itself: the supervisor forwards them to this JVM from now on. */
    void forwardSignals() throws SyscallException {
        send(FORWARD, new byte[0], -1);
    }

    /**
     * For commands that start a container: the supervisor keeps holding the caller's signals
     * (for the container), and this JVM ignores those a terminal or a user sends it directly:
     * dying half-way through a start would leave a half-made container.
     */
    static void ignoreDirectSignals() {
        for (String name : List.of("TERM", "INT", "HUP")) Signal.handle(new Signal(name), SignalHandler.SIG_IGN);
    }

    /** Hands the started container over; {@code terminal} is its terminal's master, or -1. */
    void container(int pid, int terminal, List<String> cleanup) throws SyscallException {
        container(pid, terminal, cleanup, null);
    }

    /**
     * As {@link #container(int, int, List)}, with how the supervisor removes the container
     * itself once it has exited (SV_REMOVE, sent first: the supervisor takes it only before the
     * container). With none ({@code teardown} null, or one only Java's delete may do), and
     * whenever a step fails, it runs the delete it was told in {@link #starting}.
     */
    void container(int pid, int terminal, List<String> cleanup, brig.runtime.Teardown teardown) throws SyscallException {
        if (teardown != null && teardown.bySupervisor()) send(REMOVE, teardown.payload(), -1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(pid).array());
        for (String s : cleanup) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        send(CONTAINER, out.toByteArray(), terminal);
    }

    /**
     * A start is about to make a container: should this JVM die before {@link #container} or
     * {@link #forget}, the supervisor kills its children and runs brig.cli.Main with
     * {@code undo} (delete --force --start TOKEN ID, which removes only what that start made).
     */
    void starting(List<String> undo) throws SyscallException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String s : undo) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        send(STARTING, out.toByteArray(), -1);
    }

    /** The start failed and this JVM removed what it had made: nothing left to undo. */
    void forget() {
        try {
            send(FORGET, new byte[0], -1);
        } catch (SyscallException e) {
            // the supervisor is gone: nothing to tell
        }
    }

    private void send(int type, byte[] payload, int passFd) throws SyscallException {
        channel.send(type, payload, passFd);
    }
}
