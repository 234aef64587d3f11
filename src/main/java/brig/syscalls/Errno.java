package brig.syscalls;

/** Names and texts of errno values, from the C library (so they match what the kernel reports). */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9,
            ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EBUSY = 16, EEXIST = 17,
            ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENOSPC = 28, EPIPE = 32, ERANGE = 34,
            ENOSYS = 38, ELOOP = 40, EPROTO = 71, EOPNOTSUPP = 95, EXDEV = 18, ENXIO = 6;

    private Errno() {}

    /** "ENOENT", or "errno 4711" for a number the C library does not know. */
    public static String name(int errno) {
        String n = Libc.strerrorname(errno);
        return n != null ? n : "errno " + errno;
    }

    /** "no such file or directory": the C library's text with a lower-case first letter. */
    public static String text(int errno) {
        String t = Libc.strerrordesc(errno);
        if (t == null || t.isEmpty()) return "unknown error " + errno;
        return Character.toLowerCase(t.charAt(0)) + t.substring(1);
    }

    /** "ENOENT: no such file or directory". */
    public static String describe(int errno) {
        return name(errno) + ": " + text(errno);
    }
}
