package brig.server;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The server's Java client, for `brig server status|stop` run cold: the same checks as the
 * native client (a directory of this uid, mode 0700; a socket, not a symlink, of this uid; a
 * server of this uid at the other end), then the same frames.
 */
public final class Client {
    private Client() {}

    /** What the server answered. */
    public record Answer(int status, String out, String err) {}

    private static final int S_IFSOCK = 0140000;

    /** Asks the running server for `server WHAT`; null when no server of this uid answers. */
    public static Answer ask(Path home, String what) throws SyscallException {
        int euid = Libc.geteuid();
        Path dir = Protocol.dir(euid);
        Libc.Stat d = Libc.statx(Libc.AT_FDCWD, dir.toString(), Libc.AT_SYMLINK_NOFOLLOW);
        if (d == null || !d.isDirectory() || d.uid() != euid || (d.mode() & 077) != 0) return null;
        Libc.Stat s = Libc.statx(Libc.AT_FDCWD, dir.resolve(Protocol.socket(home)).toString(), Libc.AT_SYMLINK_NOFOLLOW);
        if (s == null || (s.mode() & Libc.S_IFMT) != S_IFSOCK || s.uid() != euid) return null;
        int sock;
        try {
            sock = Libc.connectUnix(dir.resolve(Protocol.socket(home)).toString());
        } catch (SyscallException e) {
            return null; // ECONNREFUSED: a server that is gone
        }
        int root = -1;
        try {
            if (Libc.peerCred(sock).uid() != euid) return null;
            Protocol.write(sock, Protocol.HELLO, Protocol.text(Protocol.buildId(home)));
            Protocol.Frame hello = Protocol.read(sock);
            if (hello.type() == Protocol.STALE) {
                // A server of another build: asked by this one, it steps aside (stops).
                return what.equals("stop") ? new Answer(0, "stopped the brig server (of another build)\n", "") : null;
            }
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.writeBytes(ByteBuffer.allocate(12).order(ByteOrder.nativeOrder()).putInt(022).putInt(2).putInt(0).array());
            for (String a : new String[] {"server", what}) {
                req.writeBytes(Protocol.text(a));
                req.write(0);
            }
            byte[] body = req.toByteArray();
            byte[] frame = ByteBuffer.allocate(8 + body.length).order(ByteOrder.nativeOrder())
                    .putInt(Protocol.REQUEST).putInt(body.length).put(body).array();
            root = Libc.open("/", Libc.O_PATH | Libc.O_DIRECTORY, 0);
            Libc.sendFd(sock, frame, root);
            ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
            while (true) {
                Protocol.Frame f = Protocol.read(sock);
                Libc.close(f.fd());
                switch (f.type()) {
                    case Protocol.COLD -> {
                        return null;
                    }
                    case Protocol.OUT -> out.writeBytes(f.payload());
                    case Protocol.ERR -> err.writeBytes(f.payload());
                    case Protocol.EXIT -> {
                        return new Answer(Protocol.u32(f.payload(), 0), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
                    }
                    default -> { }
                }
            }
        } catch (EOFException e) {
            return null;
        } finally {
            Libc.close(root);
            Libc.close(sock);
        }
    }
}
