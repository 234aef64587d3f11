package brig.image;

/**
 * A failure about images to report as one line: a bad reference, a missing image, a corrupt or
 * hostile blob. The message names the file, field, blob or path.
 */
public class ImageException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
