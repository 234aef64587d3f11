package brig.testing;

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
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The host's notify socket (NOTIFY_SOCKET), as systemd keeps it: an AF_UNIX datagram socket with
 * SO_PASSCRED (each message names its sender's pid), read by a thread that closes any fd a
 * message carries (BARRIER=1's pipe: the sender waits for that).
 */
public final class NotifyHost implements AutoCloseable {
    private static final long SYS_SETSOCKOPT = 54, SYS_BIND = 49;
    private static final int SOL_SOCKET = 1, SO_PASSCRED = 16, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2, SOCK_DGRAM = 2;

    /** A static sd_notify for busybox (which has none), compiled in {@code dir}: sends argv[1] to $NOTIFY_SOCKET. */
    public static Path compileSdNotify(Path dir) throws IOException {
        Path src = dir.resolve("sdnotify.c"), out = dir.resolve("sdnotify");
        Files.writeString(src, """
                #include <stdlib.h>
                #include <string.h>
                #include <sys/socket.h>
                #include <sys/un.h>
                int main(int argc, char **argv) {
                    const char *to = getenv("NOTIFY_SOCKET");
                    struct sockaddr_un a = { .sun_family = AF_UNIX };
                    if (!to || argc < 2) return 2;
                    strncpy(a.sun_path, to, sizeof a.sun_path - 1);
                    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
                    return sendto(s, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&a, sizeof a) < 0;
                }
                """);
        Brig.Result cc = Brig.exec(null, List.of("cc", "-static", "-O1", "-o", out.toString(), src.toString()), null,
                Map.of("PATH", "/usr/bin:/bin"), 120);
        if (cc.exit() != 0) throw new AssertionError("cannot compile sdnotify (gcc and libc6-dev are build dependencies): " + cc.err());
        return out;
    }

    public record Message(long pid, String text, boolean carriedFd) {}

    private final int fd;
    private final String address;
    private final List<Message> got = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    private final Thread reader;

public NotifyHost(String address) throws SyscallException {
        this.address = address;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a);
            fd = (int) Libc.call(st, Libc.Fn.SOCKET, Libc.AF_UNIX, SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
            if (fd < 0) throw new SyscallException("socket", null, Libc.errno(st));
            MemorySegment one = a.allocate(ValueLayout.JAVA_INT);
            one.set(ValueLayout.JAVA_INT, 0, 1);
            if (Libc.call(st, Libc.Fn.SYSCALL, SYS_SETSOCKOPT, fd, SOL_SOCKET, SO_PASSCRED, one.address(), 4) < 0) {
                throw new SyscallException("setsockopt", null, Libc.errno(st));
            }
            byte[] name = address.getBytes(StandardCharsets.UTF_8);
            MemorySegment addr = a.allocate(110);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            boolean abstractName = address.startsWith("@");
            if (abstractName) addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
            if (Libc.call(st, Libc.Fn.SYSCALL, SYS_BIND, fd, addr.address(), 2 + name.length + (abstractName ? 0 : 1)) < 0) {
                throw new SyscallException("bind", address, Libc.errno(st));
            }
        }
        reader = new Thread(this::read, "host notify socket");
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a), buf = a.allocate(4096), ctl = a.allocate(128, 8),
                    iov = a.allocate(16, 8), msg = a.allocate(56, 8);
            while (!closed) {
                if (!Libc.pollIn(new int[] {fd}, 100)[0]) continue;
                iov.set(ValueLayout.ADDRESS, 0, buf);
                iov.set(ValueLayout.JAVA_LONG, 8, buf.byteSize());
                msg.fill((byte) 0);
                msg.set(ValueLayout.ADDRESS, 16, iov);
                msg.set(ValueLayout.JAVA_LONG, 24, 1);
                msg.set(ValueLayout.ADDRESS, 32, ctl);
                msg.set(ValueLayout.JAVA_LONG, 40, ctl.byteSize());
                long n = Libc.call(st, Libc.Fn.RECVMSG, fd, msg.address(), 0x40000000 /* MSG_CMSG_CLOEXEC */);
                if (n < 0) continue;
                long pid = -1;
                List<Integer> fds = new ArrayList<>();
                long len = msg.get(ValueLayout.JAVA_LONG, 40);
                for (long off = 0; off + 16 <= len;) {
                    long clen = ctl.get(ValueLayout.JAVA_LONG, off);
                    int level = ctl.get(ValueLayout.JAVA_INT, off + 8), type = ctl.get(ValueLayout.JAVA_INT, off + 12);
                    if (level == SOL_SOCKET && type == SCM_CREDENTIALS) pid = ctl.get(ValueLayout.JAVA_INT, off + 16);
                    if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                        for (long k = 16; k + 4 <= clen; k += 4) fds.add(ctl.get(ValueLayout.JAVA_INT, off + k));
                    }
                    if (clen < 16) break;
                    off += (clen + 7) & ~7L;
                }
                got.add(new Message(pid, new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8), !fds.isEmpty()));
                fds.forEach(Libc::close); // as systemd: the barrier is released once the message is taken
            }
        } catch (SyscallException e) {
            // closed
        }
    }

    /** What came so far (each brig call that passes READY on has returned once its barrier was released). */
    public List<Message> messages() {
        return List.copyOf(got);
    }

    @Override
    public void close() throws Exception {
        closed = true;
        reader.join(5000);
        Libc.close(fd);
        if (!address.startsWith("@")) Files.deleteIfExists(Path.of(address));
    }
}
