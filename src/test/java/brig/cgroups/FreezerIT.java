package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.NoLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pause and resume: a busy process in a frozen cgroup makes no progress, and runs again after
 * the thaw. Both freezers are real here: the v1 freezer hierarchy, and cgroup.freeze of the
 * unified (v2) tree that these hybrid hosts also mount.
 */
@ExtendWith(NoLeaks.class)
class FreezerIT {
    @TempDir Path dir;

    /** Counts as fast as it can, appending to a file (a rewrite could be read half-way). */
    private static String counter(Path file) {
        return "i=0; while :; do i=$((i+1)); echo $i >> " + file + "; done";
    }

    /** How far the loop got: the file's size. */
    private static long count(Path file) throws Exception {
        for (int round = 0; round < 200; round++) {
            if (Files.exists(file) && Files.size(file) > 0) return Files.size(file);
            Thread.sleep(5);
        }
        throw new AssertionError(file + " stays empty");
    }

    private void busyLoopStopsWhileFrozenAndRunsAfterThaw(String hierarchy, String stateWhenFrozen) throws Exception {
        Path file = dir.resolve("count");
        try (TestCgroup cg = new TestCgroup("freeze-" + hierarchy, hierarchy)) {
            cg.start(counter(file));
            long first = count(file);
            Thread.sleep(100);
            assertNotEquals(first, count(file), "the loop runs before the freeze");

            Freezer.freeze(cg.dirs);
            assertEquals(Freezer.State.FROZEN, Freezer.state(cg.dirs));
            long frozen = count(file);
            Thread.sleep(300);
            assertEquals(frozen, count(file), "the loop made progress while frozen");
            if (stateWhenFrozen != null) assertEquals(stateWhenFrozen, Files.readString(cg.dirs.get(0).resolve("freezer.state")).strip());

            Freezer.thaw(cg.dirs);
            assertEquals(Freezer.State.THAWED, Freezer.state(cg.dirs));
            Thread.sleep(200);
            assertTrue(count(file) > frozen, "the loop runs again after the thaw");
        }
    }

    @Test
    void busyLoopStopsWhileFrozenAndRunsAfterThawV1() throws Exception {
        busyLoopStopsWhileFrozenAndRunsAfterThaw("freezer", "FROZEN");
    }

    @Test
    void busyLoopStopsWhileFrozenAndRunsAfterThawV2() throws Exception {
        busyLoopStopsWhileFrozenAndRunsAfterThaw("unified", null);
    }

    /** Where both are there (hybrid), the v1 freezer is used. */
    @Test
    void hybridUsesTheV1Freezer() throws Exception {
        try (TestCgroup cg = new TestCgroup("freeze-both", "unified", "freezer")) {
            cg.start("while :; do :; done");
            Freezer.freeze(cg.dirs);
            assertEquals("FROZEN", Files.readString(cg.dir("freezer").resolve("freezer.state")).strip());
            assertTrue(Files.readString(cg.dir("unified").resolve("cgroup.events")).contains("frozen 0"));
            Freezer.thaw(cg.dirs);
            assertEquals("THAWED", Files.readString(cg.dir("freezer").resolve("freezer.state")).strip());
        }
    }

    @Test
    void freezeTwiceAndThawTwiceAreFine() throws Exception {
        for (String h : List.of("freezer", "unified")) {
            try (TestCgroup cg = new TestCgroup("idem-" + h, h)) {
                cg.start("while :; do :; done");
                Freezer.thaw(cg.dirs); // thawing a running cgroup
                assertEquals(Freezer.State.THAWED, Freezer.state(cg.dirs), h);
                Freezer.freeze(cg.dirs);
                Freezer.freeze(cg.dirs);
                assertEquals(Freezer.State.FROZEN, Freezer.state(cg.dirs), h);
                Freezer.thaw(cg.dirs);
                Freezer.thaw(cg.dirs);
                assertEquals(Freezer.State.THAWED, Freezer.state(cg.dirs), h);
            }
        }
    }

    @Test
    void freezingAGoneContainerNamesItsDirectories() throws Exception {
        Path gone = Path.of("/sys/fs/cgroup/freezer", NoLeaks.PREFIX + "gone");
        CgroupException e = assertThrows(CgroupException.class, () -> Freezer.freeze(List.of(gone)));
        assertTrue(e.getMessage().contains(gone.toString()), e.getMessage());
    }
}
