package brig.json;

/** Bad JSON input: malformed text, or a field with a wrong type or value, named by its path. */
public class JsonException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String field;

    public JsonException(String field, String message) {
        super(field == null || field.isEmpty() ? message : field + ": " + message);
        this.field = field;
    }

    /** The field's path, such as "process.user.uid" or "mounts[2].destination". */
    public String field() { return field; }
}
