package brig.image;

import java.nio.file.Path;

/**
 * Where an image is, in skopeo's notation: {@code docker://REF}, {@code oci:DIR[:REF]},
 * {@code oci-archive:FILE[:REF]}, {@code docker-archive:FILE[:REF]}, or a name in Brig's store.
 */
public sealed interface Transport {
    record Registry(Reference ref) implements Transport {}

    record Oci(Path dir, String ref) implements Transport {}

    record OciArchive(Path file, String ref) implements Transport {}

    record DockerArchive(Path file, String ref) implements Transport {}

    /** An image in the store, by name or id. */
    record Store(String name) implements Transport {}

    /**
     * This location with a relative path resolved against {@code dir}, the caller's working
     * directory (a JVM serving many callers has no working directory of theirs).
     */
    default Transport resolvedAgainst(Path dir) {
        if (this instanceof Oci o) return new Oci(dir.resolve(o.dir()), o.ref());
        if (this instanceof OciArchive o) return new OciArchive(dir.resolve(o.file()), o.ref());
        if (this instanceof DockerArchive o) return new DockerArchive(dir.resolve(o.file()), o.ref());
        return this;
    }

    /**
     * Parses a transport reference. A bare name is a store image when {@code bareIsStore}, and a
     * registry image otherwise (as `pull` takes them).
     */
    public static Transport parse(String text, boolean bareIsStore) throws ImageException {
        if (text.startsWith("docker://")) return new Registry(Reference.parse(text));
        for (String prefix : new String[] {"oci:", "oci-archive:", "docker-archive:"}) {
            if (!text.startsWith(prefix)) continue;
            String rest = text.substring(prefix.length());
            int colon = rest.indexOf(':');
            String path = colon < 0 ? rest : rest.substring(0, colon), ref = colon < 0 ? "" : rest.substring(colon + 1);
            if (path.isEmpty()) throw new ImageException("invalid image location \"" + text + "\": no path after " + prefix);
            return switch (prefix) {
                case "oci:" -> new Oci(Path.of(path), ref);
                case "oci-archive:" -> new OciArchive(Path.of(path), ref);
                default -> new DockerArchive(Path.of(path), ref);
            };
        }
        int colon = text.indexOf(':');
        if (colon > 0 && text.substring(0, colon).matches("[a-z-]+") && !text.substring(colon + 1).matches("[\\w][\\w.-]*(@.*)?")
                && !text.substring(colon + 1).matches("[0-9]+/.*")) {
            throw new ImageException("invalid image location \"" + text + "\": unknown transport \"" + text.substring(0, colon)
                    + "\" (use docker://, oci:, oci-archive: or docker-archive:)");
        }
        return bareIsStore ? new Store(text) : new Registry(Reference.parse(text));
    }
}
