package brig.spec;

import java.nio.file.Path;

/** An unusable config.json: names the file and, where there is one, the field. */
public class SpecException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String field;

    public SpecException(Path file, String field, String message) {
        super(file + ": " + message);
        this.field = field;
    }

    public SpecException(String message) {
        super(message);
        this.field = "";
    }

    public String field() { return field; }
}
