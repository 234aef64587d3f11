package brig.json;

/** Bad JSON input: malformed text, or a field with a wrong type or value, named by its path. */
public class JsonException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public JsonException(String field, String message) {
        super(field == null || field.isEmpty() ? message : field + ": " + message, null, field, null, null, 0);
    }
}
