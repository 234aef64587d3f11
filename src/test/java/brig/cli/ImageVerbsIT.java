package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** `brig image VERB`: docker's long forms run the root verbs (import, ls, inspect, rm), which stay as aliases. */
@ExtendWith(NoLeaks.class)
class ImageVerbsIT {
    @TempDir Path dir;

    @Test
    void imageVerbsAreTheRootVerbsUnderDockersNames() throws Exception {
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
        Path tar = dir.resolve("flat.tar");
        assertEquals(0, new ProcessBuilder("tar", "-C", dir.resolve("rootfs").toString(), "-cf", tar.toString(), ".").start().waitFor());
        String store = dir.resolve("store").toString();
        Brig.run(dir, "image", "import", "--store", store, tar.toString(), "flat").expect(0);
        String ls = Brig.run(dir, "image", "ls", "--store", store).expect(0).out();
        assertTrue(ls.contains("localhost/flat"), ls);
        assertEquals(ls, Brig.run(dir, "images", "--store", store).expect(0).out(), "the root alias lists the same");
        assertTrue(Brig.run(dir, "image", "inspect", "--store", store, "localhost/flat").expect(0).out().contains("\"config\""));
        Brig.run(dir, "image", "rm", "--store", store, "localhost/flat").expect(0);
        assertFalse(Brig.run(dir, "image", "ls", "--store", store).expect(0).out().contains("localhost/flat"));
        Brig.Result bad = Brig.run(dir, List.of("image", "nope"));
        assertEquals(1, bad.exit());
        assertEquals("brig: \"image nope\" is not a command: use " + ImageCommand.USAGE + "\n", bad.err());
    }
}
