package brig.syscalls;

/**
 * A failed system call: which call, on what, and the errno with its name and text. The text is
 * the kernel's usual wording in lower case ("no such file or directory"), because engines
 * (podman, containerd) match on it.
 */
public class SyscallException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public SyscallException(String syscall, String path, int errno) {
        super(format(syscall, path, errno), null, null, path, syscall, errno);
    }

    static String format(String syscall, String path, int errno) {
        String what = path == null || path.isEmpty() ? syscall : syscall + " " + path;
        return what + ": " + Errno.describe(errno);
    }

    public String errnoName() { return Errno.name(errno()); }
}
