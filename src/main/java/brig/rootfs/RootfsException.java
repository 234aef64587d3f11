package brig.rootfs;

/** A mount or device in config.json that cannot be set up as written; names the field. */
public class RootfsException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public RootfsException(String field, String message) {
        super(field + ": " + message, null, field, null, null, 0);
    }
}
