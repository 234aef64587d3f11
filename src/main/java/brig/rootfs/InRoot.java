package brig.rootfs;

import brig.syscalls.Errno;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Reading files of a rootfs from the host as the container would see them: symlinks are
 * followed but never out of the rootfs (openat2 RESOLVE_IN_ROOT), so a hostile image cannot
 * make the host read its own files.
 *
 * <p>Only regular files are ever opened. The path is resolved to an O_PATH descriptor, which
 * opens nothing: a FIFO would block open(2) for good and a device's open handler has side
 * effects (a watchdog starts, a tape rewinds) that O_NONBLOCK does not stop. The type is checked
 * on that descriptor, and the file is then opened for reading through it (its /proc/self/fd
 * link), so the inode read is the inode checked, whatever the image's files are renamed to
 * meanwhile.
 */
public final class InRoot {
    private InRoot() {}

    private static final int AT_EMPTY_PATH = 0x1000, O_NOCTTY = 0x100, EFBIG = 27;

    /** A path of the image that is not a regular file (a FIFO, a device, a directory...). */
    public static final class NotRegularFile extends SyscallException {
        private static final long serialVersionUID = 1L;
        private final String kind;

        NotRegularFile(String path, int mode) {
            super("open", path, Errno.EINVAL);
            this.kind = kind(mode);
        }

        /** "a FIFO", "a character device"... */
        public String kind() { return kind; }

        @Override
        public String getMessage() { return path() + ": not a regular file (" + kind + "), not opened"; }

        static String kind(int mode) {
            return switch (mode & Libc.S_IFMT) {
                case Libc.S_IFDIR -> "a directory";
                case Libc.S_IFIFO -> "a FIFO";
                case Libc.S_IFCHR -> "a character device";
                case Libc.S_IFBLK -> "a block device";
                case Libc.S_IFLNK -> "a symbolic link";
                case 0140000 -> "a socket";
                default -> "file type " + Integer.toOctalString(mode & Libc.S_IFMT);
            };
        }
    }

    /**
     * The file's bytes.
     *
     * @throws NotRegularFile if the path is anything but a regular file (nothing was opened)
     * @throws SyscallException EFBIG if the file has more than {@code limit} bytes
     */
    public static byte[] read(Path rootfs, String path, int limit) throws SyscallException {
        int root = Libc.open(rootfs.toString(), Libc.O_PATH | Libc.O_DIRECTORY, 0);
        try {
            String rel = path.replaceFirst("^/+", "");
            int at = Libc.openat2(root, rel.isEmpty() ? "." : rel, Libc.O_PATH,
                    Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS);
            try {
                Libc.Stat st = Libc.statx(at, "", AT_EMPTY_PATH | Libc.AT_SYMLINK_NOFOLLOW);
                if (st == null || !st.isRegular()) throw new NotRegularFile(path, st == null ? 0 : st.mode());
                if (st.size() > limit) throw new SyscallException("read", path, EFBIG);
                int fd = Libc.open("/proc/self/fd/" + at, Libc.O_RDONLY | Libc.O_NONBLOCK | O_NOCTTY, 0);
                try {
                    Libc.Stat again = Libc.statx(fd, "", AT_EMPTY_PATH);
                    if (again == null || !again.isRegular() || again.ino() != st.ino()) {
                        throw new NotRegularFile(path, again == null ? 0 : again.mode());
                    }
                    return readBounded(fd, path, limit);
                } finally {
                    Libc.close(fd);
                }
            } finally {
                Libc.close(at);
            }
        } finally {
            Libc.close(root);
        }
    }

    /** At most {@code limit} bytes; a file that grew past it since fstat is an error, not cut short. */
    private static byte[] readBounded(int fd, String path, int limit) throws SyscallException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8192);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                int n = Libc.read(fd, buf, Math.min(8192, limit + 1L - out.size()));
                if (n == 0) break;
                out.write(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, n);
                if (out.size() > limit) throw new SyscallException("read", path, EFBIG);
            }
            return out.toByteArray();
        }
    }
}
