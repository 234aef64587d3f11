package brig.runtime;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * sd_notify for containers (NOTIFY_SOCKET), as runc does it. When the runtime's environment has
 * NOTIFY_SOCKET at create or run, the container gets a socket of its own: the directory
 * {@code notify/} in its state directory is bind-mounted read-only (nosuid, noexec, nodev) at
 * {@code /run/notify}, and its program's NOTIFY_SOCKET is {@code /run/notify/notify.sock}.
 * `start` (or `run`) with NOTIFY_SOCKET binds that socket before the program may run, waits
 * (no time limit, as runc) until the program sends a datagram with a READY= line or its first
 * process is gone, and then the caller's own process sends the READY line and MAINPID (the
 * container's first process; for a foreground `run` the caller's process, which stays) to the
 * host socket NOTIFY_SOCKET names, followed by BARRIER=1 (systemd must read the message
 * before its sender exits). The caller's process, not this one: systemd takes a notification
 * from the service's main pid (NotifyAccess=main) and resolves the path in the caller's mounts
 * (see {@link Relay}). As in runc, the host socket is the one in the environment of the
 * command that waits (start, run), and other messages (STATUS=...) are not passed on.
 */
public final class Notify implements AutoCloseable {
    /** In the state directory: the directory the container sees at {@link #IN_CONTAINER_DIR}, and the socket in it. */
    public static final String DIR = "notify", SOCKET = "notify.sock";
    public static final String IN_CONTAINER_DIR = "/run/notify", IN_CONTAINER = IN_CONTAINER_DIR + "/" + SOCKET;

    /**
     * Sends a message to the host's NOTIFY_SOCKET from the caller's own process, then BARRIER=1,
     * and returns once the receiver has read it (at most 30 s). Throws the send's failure.
     *
     * @param address an absolute path, or "@name" for an abstract socket
     */
    public interface Relay {
        void send(String address, byte[] message) throws SyscallException;

        /**
         * An fd that turns readable or hangs up once the caller's process is gone (its
         * connection to brig), which ends the wait; -1: none.
         */
        default int caller() {
            return -1;
        }
    }

    /** NOTIFY's payload for the caller's process (brig-helper's notify_host): the address, NUL, the message. */
    public static byte[] payload(String address, byte[] message) {
        byte[] a = address.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[a.length + 1 + message.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(message, 0, out, a.length + 1, message.length);
        return out;
    }

    /** NOTIFIED's answer: 0, or -errno of the send ("sendto ADDRESS: ..."). */
    public static void answer(String address, int answer) throws SyscallException {
        if (answer != 0) throw new SyscallException("sendto", address, answer < 0 ? -answer : brig.syscalls.Errno.EPIPE);
    }

    private final Path socket;
    private int fd;

    private Notify(Path socket, int fd) {
        this.socket = socket;
        this.fd = fd;
    }

    /**
     * The caller's NOTIFY_SOCKET as the address to send to: an absolute path, a relative one
     * resolved against the caller's working directory (runc's, whose process resolves it), or
     * an abstract socket "@name". Null when unset or empty (runc's: no notify). Forms sd_notify
     * knows but Brig does not (vsock:) are refused by name.
     */
    public static String address(String value, Path cwd) throws BrigException {
        if (value == null || value.isEmpty()) return null;
        if (value.startsWith("vsock:") || value.startsWith("vsock-")) {
            throw new BrigException("NOTIFY_SOCKET=" + value + ": a vsock address is not supported (an AF_UNIX path or @name only)");
        }
        if (value.startsWith("@")) {
            if (value.length() == 1) throw new BrigException("NOTIFY_SOCKET=@: an abstract socket needs a name");
            return value;
        }
        return cwd.resolve(value).normalize().toString();
    }

    /** The container's notify directory in its state directory. */
    public static Path dir(Path stateDir) {
        return stateDir.resolve(DIR);
    }

    /**
     * runc's bind mount of the notify directory at /run/notify (read-only, nosuid, noexec,
     * nodev), after the config's own mounts (a tmpfs on /run comes first). Planned as steps, not
     * as a config mount: the directory is made by the start (a {@link HostStep.MakeNotifyDir}).
     */
    static List<brig.helper.Step> mountSteps(Path dir) {
        long flags = brig.helper.MountFlags.MS_BIND | brig.helper.MountFlags.MS_RDONLY | brig.helper.MountFlags.MS_NOSUID
                | brig.helper.MountFlags.MS_NOEXEC | brig.helper.MountFlags.MS_NODEV;
        return List.of(new brig.helper.Step.MakeDirs(IN_CONTAINER_DIR, 0755),
                new brig.helper.Step.Mount(dir.toString(), IN_CONTAINER_DIR, "", flags, "", brig.helper.Step.SRC_HOST));
    }

    /** The program's environment with NOTIFY_SOCKET={@link #IN_CONTAINER} (replacing one the config set). */
    static List<String> env(List<String> env) {
        List<String> out = new ArrayList<>();
        for (String e : env) if (!e.startsWith("NOTIFY_SOCKET=")) out.add(e);
        out.add("NOTIFY_SOCKET=" + IN_CONTAINER);
        return out;
    }

    /** Makes the notify directory (0755: a container user reaches the socket, 0777, through it). */
    static void makeDir(Path dir) throws BrigException {
        try {
            Files.createDirectory(dir);
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new BrigException("cannot make the notify socket directory " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Binds the container's socket (mode 0777: any user in the container may notify), before
     * its program may run. A container created without NOTIFY_SOCKET has no notify directory:
     * refused, as runc refuses (it cannot bind), with what to do.
     */
    public static Notify listen(Path stateDir, String id) throws BrigException {
        Path dir = dir(stateDir);
        if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new BrigException("NOTIFY_SOCKET is set but container " + id + " was created without it: its process has no"
                    + " notify socket (set NOTIFY_SOCKET for create too, or unset it for start)");
        }
        Path socket = dir.resolve(SOCKET);
        try {
            Files.deleteIfExists(socket); // a start that died after binding it
            int fd = Libc.bindDatagram(socket.toString());
            Libc.fchmodat(Libc.AT_FDCWD, socket.toString(), 0777);
            return new Notify(socket, fd);
        } catch (SyscallException | IOException e) {
            throw new BrigException("cannot make the notify socket " + socket + ": " + e.getMessage(), e);
        }
    }

    /**
     * Waits until the container's program sends READY=..., or until its first process
     * ({@code state}'s pid) is gone, looked at every 100 ms as runc does; then, if READY came,
     * has {@code relay} send the READY line and MAINPID={@code mainPid} to {@code address}.
     *
     * @return whether READY came and was passed on
     */
    public boolean relay(ContainerState state, int mainPid, String address, Relay relay) throws BrigException {
        String ready = awaitReady(state, relay.caller());
        if (ready == null) return false;
        byte[] message = (ready + "\nMAINPID=" + mainPid + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            relay.send(address, message);
        } catch (SyscallException e) {
            throw new BrigException("NOTIFY_SOCKET: cannot pass READY on: " + e.getMessage(), e);
        }
        return true;
    }

    /**
     * The READY= line of the first datagram that has one, or null once the first process is
     * gone; fails once {@code caller} (-1: none) says the caller has gone (a resident server
     * must not wait on for nobody).
     */
    String awaitReady(ContainerState state, int caller) throws BrigException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            int[] fds = caller < 0 ? new int[] {fd} : new int[] {fd, caller};
            while (true) {
                boolean[] ready = Libc.pollIn(fds, 100);
                if (caller >= 0 && ready[1]) throw new BrigException("NOTIFY_SOCKET: the caller went away while the container's READY was awaited");
                if (!ready[0]) {
                    if (Runtime.status(state).equals("stopped")) return null;
                    continue;
                }
                int n = Libc.read(fd, buf, buf.byteSize());
                String got = new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                for (String line : got.split("\n")) if (line.startsWith("READY=")) return line;
            }
        } catch (SyscallException e) {
            throw new BrigException("notify socket " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Closes the socket and removes its file (nothing listens there any more). */
    @Override
    public void close() {
        Libc.close(fd);
        fd = -1;
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            // removed with the state directory at delete
        }
    }
}
