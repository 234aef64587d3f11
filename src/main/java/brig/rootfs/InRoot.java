package brig.rootfs;

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
 */
public final class InRoot {
    private InRoot() {}

    /** The file's bytes, at most {@code limit} of them. */
    public static byte[] read(Path rootfs, String path, int limit) throws SyscallException {
        int root = Libc.open(rootfs.toString(), Libc.O_RDONLY | 0x10000 /* O_DIRECTORY */, 0);
        try {
            String rel = path.replaceFirst("^/+", "");
            int fd = Libc.openat2(root, rel.isEmpty() ? "." : rel, Libc.O_RDONLY,
                    Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(8192);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                while (out.size() < limit) {
                    int n = Libc.read(fd, buf, Math.min(8192, limit - out.size()));
                    if (n == 0) break;
                    out.write(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, n);
                }
                return out.toByteArray();
            } finally {
                Libc.close(fd);
            }
        } finally {
            Libc.close(root);
        }
    }
}
