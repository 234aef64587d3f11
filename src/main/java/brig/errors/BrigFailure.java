package brig.errors;

/**
 * The root of Brig's exceptions: a failure to report as one line. The message is what users,
 * tests and engines read, so subclasses keep their wording; what the failure is about rides
 * along as typed values where there are some (the config field, the path, the system call and
 * its errno), so that the CLI's error handler, its log line or a library caller reads them
 * without parsing the message back. A failure that wraps another and has none of its own
 * reports its cause's.
 *
 * <p>Checked, and not an IOException: a catch of IOException around Brig's calls would
 * otherwise swallow some of Brig's failures and not others.
 */
public abstract class BrigFailure extends Exception {
    private static final long serialVersionUID = 1L;
    private final String field;
    private final String path;
    private final String syscall;
    private final int errno;

    protected BrigFailure(String message) {
        this(message, null, null, null, null, 0);
    }

    protected BrigFailure(String message, Throwable cause) {
        this(message, cause, null, null, null, 0);
    }

    /**
     * @param field the config.json field, as a path ("process.user.uid"), or null
     * @param path the file the failure is about, or null
     * @param syscall the system call that failed, or null
     * @param errno its errno, or 0
     */
    protected BrigFailure(String message, Throwable cause, String field, String path, String syscall, int errno) {
        super(message, cause);
        this.field = field == null ? "" : field;
        this.path = path == null ? "" : path;
        this.syscall = syscall == null ? "" : syscall;
        this.errno = errno;
    }

    /** The config.json field ("mounts[2].destination"), or "" if none. */
    public String field() {
        return !field.isEmpty() || !(getCause() instanceof BrigFailure c) ? field : c.field();
    }

    /** The path the failure is about, or "". */
    public String path() {
        return !path.isEmpty() || !(getCause() instanceof BrigFailure c) ? path : c.path();
    }

    /** The system call that failed ("mount", "openat2"), or "". */
    public String syscall() {
        return !syscall.isEmpty() || !(getCause() instanceof BrigFailure c) ? syscall : c.syscall();
    }

    /** The errno of that call, or 0. */
    public int errno() {
        return errno != 0 || !(getCause() instanceof BrigFailure c) ? errno : c.errno();
    }
}
