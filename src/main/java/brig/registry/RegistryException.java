package brig.registry;

import brig.image.ImageException;

/** A registry that refused, failed or sent something wrong; names the registry and what was asked. */
public class RegistryException extends ImageException {
    private static final long serialVersionUID = 1L;

    public RegistryException(String message) {
        super(message);
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }
}
