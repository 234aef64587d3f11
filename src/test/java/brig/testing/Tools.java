package brig.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The programs tests use that .ci/run installs. A missing one fails the test, naming the
 * Debian package: skipping would turn a broken install into a green run.
 */
public final class Tools {
    private Tools() {}

    /** The first of {@code paths} that is executable; fails naming {@code pkg} if none is. */
    public static Path require(String pkg, String... paths) {
        for (String p : paths) {
            if (Files.isExecutable(Path.of(p))) return Path.of(p);
        }
        return fail(String.join(" or ", paths) + " is missing: install the Debian package " + pkg + " (.ci/run installs it)");
    }
}
