package brig.helper;

import brig.syscalls.Errno;

/** The helper reported that a step failed: which step, which call, on what, and the errno. */
public class HelperException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;
    private final Step step;

    public HelperException(Step step, String syscall, String path, int errno) {
        super(step != null ? step.failure(syscall, path, errno)
                : "brig-helper: " + syscall + (path.isEmpty() ? "" : " " + path) + ": " + Errno.describe(errno), null, null, path, syscall, errno);
        this.step = step;
    }

    public HelperException(String message) {
        super(message);
        this.step = null;
    }

    /** The step that failed, or null when the failure was not in a step. */
    public Step step() { return step; }
}
