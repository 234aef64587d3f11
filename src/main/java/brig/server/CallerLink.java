package brig.server;

import brig.cli.Dispatch;
import brig.helper.Helper;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A supervised call's link to the caller's process (run, create, exec): the client execs the
 * supervisor (`brig-helper launch --server FD`), which takes the supervisor's messages on the
 * call's connection and starts each helper process when asked (SPAWN), so that the container
 * is the caller's descendant and inherits the caller's stdio and fds, as on the cold path.
 * Frames share the connection with the call's output: {@code lock} keeps them whole.
 */
final class CallerLink implements Dispatch.Link {
    private final int conn;
    private final Object lock;
    private final int binary;
    private final Incoming incoming;
    /** A SPAWN sent ahead ({@link #prespawn}) whose SPAWNED the launcher has not taken yet. */
    private boolean prespawned;

    /** @param binary the server's sealed copy of the helper, sent with each SPAWN (kept by the server) */
    CallerLink(int conn, Object lock, int binary, Incoming incoming) {
        this.conn = conn;
        this.lock = lock;
        this.binary = binary;
        this.incoming = incoming;
    }

    /**
     * Asks the caller's process to start a helper now, before the command has planned, as
     * its launcher would for a container that is passed no fds beyond stdio (first 3, the
     * common case): the helper waits for its plan meanwhile. A launch that needs other fds
     * drops it (it exits when its socket closes) and starts its own.
     */
    void prespawn() throws SyscallException {
        synchronized (lock) {
            Libc.sendFd(conn, frame(Protocol.SPAWN, spawnPayload(3, null)), binary);
        }
        prespawned = true;
    }

    /** The start's clean-up command (brig.cli.Supervisor's STARTING), until forgotten; whether a container was handed over. */
    private volatile java.util.List<String> undo;
    private volatile boolean handedOver;

    /**
     * What removes the container once it has exited, if the supervisor was handed one to
     * remove (run, container run): the server keeps the call open and runs it when the
     * supervisor sends TEARDOWN. Null otherwise (create, exec, run --keep, a failed start).
     */
    java.util.List<String> teardown() {
        return handedOver ? undo : null;
    }

    /**
     * Whether the supervisor's TEARDOWN says it removed the container itself (u32 1; see
     * brig.runtime.Teardown): the call then ends with nothing to run and no answer (the
     * supervisor does not wait for one). An empty TEARDOWN asks for {@link #teardown}.
     */
    static boolean removedBySupervisor(Protocol.Frame f) {
        return f.payload().length == 4 && Protocol.u32(f.payload(), 0) == 1;
    }

    @Override
    public void send(int type, byte[] payload, int fd) throws SyscallException {
        if (type == STARTING) {
            java.util.List<String> args = new java.util.ArrayList<>();
            int at = 0;
            for (int k = 0; k < payload.length; k++) {
                if (payload[k] == 0) {
                    args.add(new String(payload, at, k - at, StandardCharsets.UTF_8));
                    at = k + 1;
                }
            }
            undo = java.util.List.copyOf(args);
        } else if (type == FORGET) {
            undo = null;
        } else if (type == CONTAINER) {
            handedOver = true;
        }
        synchronized (lock) {
            if (fd < 0) {
                Protocol.write(conn, type, payload);
            } else {
                Libc.sendFd(conn, frame(type, payload), fd);
            }
        }
    }

    /**
     * SPAWN: u32 first, u32 1 if a keep list follows (else every fd of 3..first-1 passes on),
     * the list ("3,5"); the sealed helper as the frame's fd. The answer, SPAWNED: u32 the
     * helper's pid, and this end of its control socket as the fd; or -errno and no fd when the
     * spawn failed.
     */
    @Override
    public Helper.Launcher launcher() {
        return (first, keep) -> {
            boolean ahead = prespawned;
            prespawned = false;
            Protocol.Frame f;
            try {
                // The one started ahead fits when nothing but stdio passes on (3..first-1 is empty).
                f = ahead ? incoming.spawned() : null;
                if (f != null && first != 3) {
                    Libc.close(f.fd());
                    f = null;
                }
                if (f == null) {
                    synchronized (lock) {
                        Libc.sendFd(conn, frame(Protocol.SPAWN, spawnPayload(first, keep)), binary);
                    }
                    f = incoming.spawned();
                }
            } catch (EOFException e) {
                throw new SyscallException("recvmsg", "the caller's process (it went away)", brig.syscalls.Errno.EPIPE);
            }
            if (f.type() != Protocol.SPAWNED || f.payload().length != 4 || f.fd() < 0) {
                Libc.close(f.fd());
                int err = f.type() == Protocol.SPAWNED && f.payload().length == 4 ? Protocol.u32(f.payload(), 0) : brig.syscalls.Errno.EPIPE;
                throw new SyscallException("posix_spawn", "brig-helper (in the caller's process)", err < 0 ? -err : brig.syscalls.Errno.EPIPE);
            }
            return new Helper.Launcher.Spawned(f.fd(), Protocol.u32(f.payload(), 0));
        };
    }

    private static byte[] spawnPayload(int first, java.util.Set<Integer> keep) {
        byte[] list = keep == null ? new byte[0] : Helper.Launcher.keepList(first, keep).getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(8 + list.length).order(ByteOrder.nativeOrder())
                .putInt(first).putInt(keep == null ? 0 : 1).put(list).array();
    }

    /**
     * CONNECT: the path; the supervisor connects an AF_UNIX stream socket to it (relative:
     * against its working directory, the caller's). The answer, CONNECTED: u32 0 and the
     * socket as the fd, or -errno and no fd. Failures read as {@link Libc#connectUnix}'s.
     */
    @Override
    public int connectUnix(Path path) throws SyscallException {
        String name = path.toString();
        synchronized (lock) {
            Protocol.write(conn, Protocol.CONNECT, Protocol.text(name));
        }
        Protocol.Frame f;
        try {
            f = incoming.next(); // a helper started ahead may answer first
        } catch (EOFException e) {
            throw new SyscallException("recvmsg", "the caller's process (it went away)", brig.syscalls.Errno.EPIPE);
        }
        int answer = f.type() == Protocol.CONNECTED && f.payload().length == 4 ? Protocol.u32(f.payload(), 0) : -brig.syscalls.Errno.EPIPE;
        if (answer != 0 || f.fd() < 0) {
            Libc.close(f.fd());
            throw new SyscallException("connect", name, answer < 0 ? -answer : brig.syscalls.Errno.EPIPE);
        }
        return f.fd();
    }

    /**
     * NOTIFY: the host's NOTIFY_SOCKET address, NUL, the message; the supervisor sends it
     * from the caller's process, then BARRIER=1, and answers NOTIFIED: u32 0 or -errno.
     * Asked only before a container is handed over (start, run), so no TEARDOWN comes first.
     */
    @Override
    public brig.runtime.Notify.Relay notifier() {
        return new brig.runtime.Notify.Relay() {
            @Override
            public void send(String address, byte[] message) throws SyscallException {
                notifyHost(address, message);
            }

            /** The call's connection: nothing comes on it while READY is awaited, unless the caller has gone. */
            @Override
            public int caller() {
                return conn;
            }
        };
    }

    private void notifyHost(String address, byte[] message) throws SyscallException {
        synchronized (lock) {
            Protocol.write(conn, Protocol.NOTIFY, brig.runtime.Notify.payload(address, message));
        }
        Protocol.Frame f;
        try {
            f = incoming.next();
        } catch (EOFException e) {
            throw new SyscallException("recvmsg", "the caller's process (it went away)", brig.syscalls.Errno.EPIPE);
        }
        Libc.close(f.fd());
        boolean ok = f.type() == Protocol.NOTIFIED && f.payload().length == 4;
        brig.runtime.Notify.answer(address, ok ? Protocol.u32(f.payload(), 0) : -brig.syscalls.Errno.EPIPE);
    }

    /** brig.cli.Supervisor's message types this link watches. */
    private static final int CONTAINER = 22, STARTING = 23, FORGET = 24;

    private static byte[] frame(int type, byte[] payload) {
        return ByteBuffer.allocate(8 + payload.length).order(ByteOrder.nativeOrder()).putInt(type).putInt(payload.length).put(payload).array();
    }

    /** The server's sealed copy of the helper, made once and shared: sealed, no call can change it. */
    static int sealedHelper(Path home) throws SyscallException {
        return Libc.sealedCopy("brig-helper", home.resolve("libexec/brig-helper").toString());
    }
}
