package brig.rootfs;

/** A mount or device in config.json that cannot be set up as written; names the field. */
public class RootfsException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String field;

    public RootfsException(String field, String message) {
        super(field + ": " + message);
        this.field = field;
    }

    public String field() { return field; }
}
