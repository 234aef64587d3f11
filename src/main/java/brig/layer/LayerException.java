package brig.layer;

/** A layer that cannot be read or applied: corrupt, hostile or unsupported. Names the entry. */
public class LayerException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public LayerException(String message) {
        super(message);
    }

    public LayerException(String message, Throwable cause) {
        super(message, cause);
    }
}
