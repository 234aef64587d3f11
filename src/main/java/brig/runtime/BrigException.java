package brig.runtime;

/** A failure to report to the user as one line, such as an unknown or duplicate container id. */
public class BrigException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public BrigException(String message) {
        super(message);
    }

    public BrigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** With what the failure is about (see {@link brig.errors.BrigFailure}). */
    protected BrigException(String message, String field, String path, String syscall, int errno) {
        super(message, null, field, path, syscall, errno);
    }
}
