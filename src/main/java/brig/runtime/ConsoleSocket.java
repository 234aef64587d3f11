package brig.runtime;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The engine's end for a container's terminal (`--console-socket`): an AF_UNIX stream socket
 * the engine listens on. The terminal is always made inside the container (the helper's
 * {@link brig.helper.Step.OpenTerminal}); its master goes to the engine in one message whose
 * bytes are the master's name and which carries the fd as SCM_RIGHTS, the message runc sends
 * and conmon and containerd's shim read. Brig keeps no copy of it.
 */
public final class ConsoleSocket implements AutoCloseable {
    /** What runc names the master in that message (the file it opened it from). */
    static final String MASTER_NAME = "/dev/ptmx";

    private final Path path;
    private int fd;

    private ConsoleSocket(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * What makes the connection: an AF_UNIX stream socket connected to a path, from the
     * caller's own process, whose credentials the engine reads (SO_PEERCRED). Throws as
     * {@link Libc#connectUnix} does ("connect PATH" and the errno).
     */
    @FunctionalInterface
    public interface Connector {
        int connect(Path path) throws SyscallException;

        /** This process: the caller's own when brig runs cold (a JVM of the caller's). */
        Connector HERE = path -> Libc.connectUnix(path.toString());
    }

    /** {@link #connect(Path, Connector)} from this process. */
    public static ConsoleSocket connect(Path path) throws BrigException {
        return connect(path, Connector.HERE);
    }

    /**
     * Connects before anything of the container is made, as runc does: a wrong path fails at
     * once and leaves nothing behind. The one text of that failure, whichever process
     * connected (the resident server has the caller's supervisor connect: brig.server.CallerLink).
     */
    public static ConsoleSocket connect(Path path, Connector by) throws BrigException {
        try {
            return new ConsoleSocket(path, by.connect(path));
        } catch (SyscallException e) {
            throw new BrigException("--console-socket: " + e.getMessage(), e); // names the path
        }
    }

    /** Sends the terminal's master; the caller still owns (and closes) its own fd. */
    void send(int master) throws BrigException {
        try {
            Libc.sendFd(fd, MASTER_NAME.getBytes(StandardCharsets.UTF_8), master);
        } catch (SyscallException e) {
            throw new BrigException("--console-socket " + path + ": cannot send the terminal: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        Libc.close(fd);
        fd = -1;
    }

    /**
     * runc's rules for a terminal and a console socket, in runc's words with brig's name (engines
     * match them): a command that detaches (create, run -d) needs a socket for a terminal, and
     * a socket is only for a detached terminal. Null when the combination is fine.
     */
    public static String misuse(boolean detach, boolean terminal, boolean socket) {
        if (detach && terminal && !socket) return "cannot allocate tty if brig will detach without setting console socket";
        if ((!detach || !terminal) && socket) return "cannot use console socket if brig will not detach or allocate tty";
        return null;
    }
}
