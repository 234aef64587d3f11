package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import brig.cgroups.Hierarchy;
import brig.json.Json;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first process does its mounts while Brig places it in its v1 cgroups (it waits for Brig
 * only before it takes the program's identity): a mount that fails meanwhile is still the
 * error the user reads, never Brig's write of a pid that is gone, and nothing is left.
 */
@ExtendWith(NoLeaks.class)
class LateWaitIT {
    @TempDir Path dir;

    @Test
    void aMountThatFailsWhileBrigPlacesTheProcessIsTheErrorReported() throws Exception {
        for (int k = 0; k < 10; k++) {
            TestBundle b = TestBundle.busybox(dir.resolve("b" + k)).args("/bin/true").edit(c -> c.getAsJsonArray("mounts")
                    .add(Json.parseQuietly("{\"destination\":\"/mnt\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"size=bogus\"]}")));
            Brig.Result r = b.run();
            assertEquals(1, r.exit(), r.toString());
            assertEquals("brig: mount tmpfs on /mnt in the container (size=bogus): mount /mnt: EINVAL: invalid argument\n", r.err());
            assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left");
            for (Hierarchy h : Hierarchy.discover()) assertFalse(Files.exists(h.mountPoint().resolve("brig").resolve(b.id())), h.toString());
        }
    }
}
