package brig.server;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The warm path's wire format, between the native client (src/main/c/brig-client.c) and the
 * server, on a unix stream socket: frames of a u32 type, a u32 length (the machine's byte
 * order: both ends are on it) and the payload.
 *
 * <pre>
 * client: HELLO  the build id (lib/brig.build)       server: READY, or STALE (it steps aside)
 * client: REQUEST u32 umask, u32 argc, u32 envc, then argc + envc NUL-terminated strings;
 *         the working directory as an O_PATH fd (SCM_RIGHTS)
 * server: COLD   why (nothing was done: the client runs the command in a JVM of its own)
 *      or ACK    u8 1 if the caller's signals end the call (events), else 0; then, any number:
 *         OUT, ERR   bytes for the client's fd 1, 2
 *         IN_WANT    u32 n: the client sends IN with at most n bytes of its fd 0 (none at its end)
 *         and last EXIT  u32 status
 * </pre>
 *
 * For run, create and exec ({@link brig.cli.Dispatch#supervised}) ACK's byte is 2: the client
 * execs the supervisor (`brig-helper launch --server FD`) on the connection, which also takes
 * the supervisor's messages (brig.cli.Supervisor's types, 21-24) and
 * <pre>
 * server: SPAWN   u32 first, u32 has-keep, keep list; the sealed helper binary as fd
 * client: SPAWNED u32 pid of `brig-helper init` it started, its control socket as fd (or -errno, no fd)
 * server: CONNECT   a path (--console-socket, absolute: the caller's cwd resolved)
 * client: CONNECTED u32 0 and an AF_UNIX stream socket it connected to the path, as fd (or -errno, no fd)
 * server: NOTIFY    the host's NOTIFY_SOCKET (absolute path or @abstract), NUL, a message (READY=1, MAINPID=N)
 * client: NOTIFIED  u32 0 once it sent the message from its own process, then BARRIER=1, and the
 *                   receiver closed the barrier's pipe (at most 30 s); or -errno
 * </pre>
 * NOTIFY (brig.runtime.Notify) passes a container's READY on from the caller's process, whose
 * pid systemd takes notifications from; `start` with NOTIFY_SOCKET is supervised for it.
 * CONNECT makes the console socket's peer (conmon, containerd's shim: SO_PEERCRED) the
 * caller's process, whose root and mounts resolve the path, not the server.
 * After EXIT of a run whose container was handed over with a clean-up to do, the call stays
 * open while the container runs; the supervisor sends TEARDOWN once it has exited, and the
 * server runs the clean-up (OUT, ERR, then EXIT again) on the same connection. A TEARDOWN
 * of u32 1 says the supervisor removed the container itself (brig.runtime.Teardown): the call
 * ends there, unanswered.
 *
 * ACK comes before any side effect: a client that got no ACK may run the command cold; one
 * that did never runs it again.
 */
final class Protocol {
    private Protocol() {}

    static final int HELLO = 1, READY = 2, STALE = 3, REQUEST = 4, COLD = 9, ACK = 10, OUT = 11, ERR = 12, EXIT = 13,
            IN_WANT = 14, IN = 15,
            SPAWN = 16, SPAWNED = 17, TEARDOWN = 18, CONNECT = 19, CONNECTED = 20,
            /** Numbered after brig.cli.Supervisor's 21-24: brig-helper reads both on one connection. */
            NOTIFY = 26, NOTIFIED = 27; // 21-25 are brig.cli.Supervisor's messages on the same connection
    /** Larger than any argv and environment execve takes (ARG_MAX is 2 MiB by default). */
    static final int MAX = 4 << 20;
    /**
     * This installation's names in {@link #dir}: server-HASH.sock, .lock and .log, HASH the
     * FNV-1a of its home's path (as bin/brig computes it from /proc/self/exe). Two
     * installations on one machine (two build trees) then each keep a server of their own
     * instead of making each other's step aside (another build) on every call; an upgrade in
     * place keeps the names, and the handshake makes the old server step aside.
     */
    static String socket(Path home) {
        return name(home, ".sock");
    }

    static String lock(Path home) {
        return name(home, ".lock");
    }

    /** The directory of the server's warm-up bundle (brig.server.Warmup), beside its socket. */
    static String warmup(Path home) {
        return name(home, ".warmup");
    }

    static String log(Path home) {
        return name(home, ".log");
    }

    private static String name(Path home, String suffix) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (home == null ? "" : home.toString()).getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xff)) * 0x100000001b3L;
        return String.format("server-%016x%s", h, suffix);
    }

    record Frame(int type, byte[] payload, int fd) {}

    /**
     * The directory of the server's socket, by effective uid (never from the environment:
     * `su` keeps XDG_RUNTIME_DIR): root's beside the default state (/run/brig is 0711 for the
     * containers' sake, so a directory of its own, 0700), a user's in their runtime directory.
     * The client checks it is a directory of that uid, mode 0700, before trusting a socket in it.
     */
    static Path dir(int euid) {
        return euid == 0 ? Path.of("/run/brig/.server") : Path.of("/run/user/" + euid + "/brig");
    }

    /** The build's content hash (lib/brig.build, written by the build), or "" if there is none. */
    static String buildId(Path home) {
        try {
            return home == null ? "" : Files.readString(home.resolve("lib/brig.build")).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** The next frame, and the fd that came with its header if any; EOFException at the end of the stream. */
    static Frame read(int sock) throws SyscallException, EOFException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment hdr = a.allocate(8, 4);
            Libc.Received r = Libc.recvmsg(sock, hdr, 8);
            if (r.count() == 0) throw new EOFException("end of stream");
            if (r.count() < 8) readFully(sock, hdr.asSlice(r.count()), 8 - r.count(), r.fd());
            int type = hdr.get(ValueLayout.JAVA_INT, 0), len = hdr.get(ValueLayout.JAVA_INT, 4);
            if (len < 0 || len > MAX) {
                Libc.close(r.fd());
                throw new EOFException("a frame of " + Integer.toUnsignedString(len) + " bytes");
            }
            MemorySegment body = a.allocate(Math.max(1, len));
            readFully(sock, body, len, r.fd());
            return new Frame(type, body.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE), r.fd());
        }
    }

    private static void readFully(int sock, MemorySegment buf, long len, int fd) throws SyscallException, EOFException {
        for (long off = 0; off < len;) {
            int n = Libc.read(sock, buf.asSlice(off), len - off);
            if (n == 0) {
                Libc.close(fd);
                throw new EOFException("end of stream in a frame");
            }
            off += n;
        }
    }

    static void write(int sock, int type, byte[] payload, int off, int len) throws SyscallException {
        byte[] f = new byte[8 + len];
        ByteBuffer.wrap(f).order(ByteOrder.nativeOrder()).putInt(type).putInt(len).put(payload, off, len);
        Libc.writeFully(sock, f);
    }

    static void write(int sock, int type, byte[] payload) throws SyscallException {
        write(sock, type, payload, 0, payload.length);
    }

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
    }

    static int u32(byte[] b, int at) {
        return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getInt(at);
    }

    static byte[] text(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
