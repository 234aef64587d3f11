package brig.helper;

import brig.syscalls.Errno;

/** The helper reported that a step failed: which step, which call, on what, and the errno. */
public class HelperException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Step step;
    private final String syscall;
    private final String path;
    private final int errno;

    public HelperException(Step step, String syscall, String path, int errno) {
        super(step != null ? step.failure(syscall, path, errno)
                : "brig-helper: " + syscall + (path.isEmpty() ? "" : " " + path) + ": " + Errno.describe(errno));
        this.step = step;
        this.syscall = syscall;
        this.path = path;
        this.errno = errno;
    }

    public HelperException(String message) {
        super(message);
        this.step = null;
        this.syscall = "";
        this.path = "";
        this.errno = 0;
    }

    /** The step that failed, or null when the failure was not in a step. */
    public Step step() { return step; }

    public String syscall() { return syscall; }

    public String path() { return path; }

    public int errno() { return errno; }
}
