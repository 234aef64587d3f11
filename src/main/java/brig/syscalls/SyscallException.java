package brig.syscalls;

import java.io.IOException;

/**
 * A failed system call: which call, on what, and the errno with its name and text. The text is
 * the kernel's usual wording in lower case ("no such file or directory"), because engines
 * (podman, containerd) match on it.
 */
public class SyscallException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String syscall;
    private final String path;
    private final int errno;

    public SyscallException(String syscall, String path, int errno) {
        super(format(syscall, path, errno));
        this.syscall = syscall;
        this.path = path;
        this.errno = errno;
    }

    static String format(String syscall, String path, int errno) {
        String what = path == null || path.isEmpty() ? syscall : syscall + " " + path;
        return what + ": " + Errno.describe(errno);
    }

    public String syscall() { return syscall; }

    public String path() { return path; }

    public int errno() { return errno; }

    public String errnoName() { return Errno.name(errno); }
}
