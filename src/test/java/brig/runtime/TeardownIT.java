package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * One home for teardown: a `run` container that exits is removed by Brig's delete (under the
 * container's lock, as `brig delete` removes one), not by a clean-up of the supervisor's own.
 */
@ExtendWith(NoLeaks.class)
class TeardownIT {
    @TempDir Path dir;

    @Test
    void runsEndGoesThroughDeleteAndItsLock() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("sleep 1");
        b.write();
        Lifecycle brig = new Lifecycle(b.stateRoot(), dir);
        Path state = b.stateRoot().resolve(b.id());
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run",
                "--bundle", b.dir().toString(), b.id()).redirectInput(new File("/dev/null"))
                .redirectOutput(dir.resolve("run.out").toFile()).redirectError(dir.resolve("run.err").toFile());
        pb.environment().clear();
        Process run = pb.start();
        Process holder = null;
        try {
            brig.awaitStatus(b.id(), "running");
            // Another command holds the container (flock on its directory, as StateStore.lock).
            Path held = dir.resolve("held");
            holder = new ProcessBuilder("flock", state.toString(), "-c", "touch " + held + "; sleep 4").start();
            for (int k = 0; k < 200 && !Files.exists(held); k++) Thread.sleep(25);
            assertTrue(Files.exists(held), "flock did not take the lock");
            brig.awaitStatus(b.id(), "stopped");
            Thread.sleep(500);
            assertTrue(run.isAlive(), "run removed its container without the lock: " + Files.readString(dir.resolve("run.err")));
            assertTrue(Files.isDirectory(state), "the state went while another command held it");
            assertTrue(holder.waitFor(10, TimeUnit.SECONDS));
            assertTrue(run.waitFor(20, TimeUnit.SECONDS), "run did not end once the lock was free");
            assertEquals(0, run.exitValue(), Files.readString(dir.resolve("run.err")));
            assertFalse(Files.exists(state), "state left");
            assertEquals("", Files.readString(dir.resolve("run.err")));
        } finally {
            if (holder != null) holder.destroyForcibly().waitFor();
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly().waitFor();
            brig.brig(null, "delete", "--force", b.id());
        }
    }
}
