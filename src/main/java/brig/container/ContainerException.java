package brig.container;

/** A docker-style flag or value Brig cannot use: one line naming the flag and the value. */
public final class ContainerException extends brig.errors.BrigFailure {
    private static final long serialVersionUID = 1L;

    public ContainerException(String message) {
        super(message);
    }
}
