package brig.spec;

import java.nio.file.Path;

/** An unusable config.json: names the file and, where there is one, the field. */
public class SpecException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public SpecException(Path file, String field, String message) {
        super(file + ": " + message, null, field, file.toString(), null, 0);
    }

    public SpecException(String message) {
        super(message);
    }
}
