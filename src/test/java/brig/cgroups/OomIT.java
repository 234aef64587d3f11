package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.NoLeaks;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OOM notification on this host's v1 memory controller: a process that outgrows its cgroup's
 * limit is killed, and the watch registered before it started reports it, both by the eventfd
 * and by the kernel's oom_kill counter. (v2's memory.events cannot be exercised here: memory
 * is a v1 controller on these hosts; CgroupStatsTest parses real v2 text.)
 */
@ExtendWith(NoLeaks.class)
class OomIT {
    private static final long MIB = 1 << 20;

    @Test
    void memoryEaterOverItsLimitIsKilledAndTheWatchReportsIt() throws Exception {
        try (TestCgroup cg = new TestCgroup("oom", "memory")) {
            cg.write("memory", "memory.limit_in_bytes", Long.toString(16 * MIB));
            cg.write("memory", "memory.memsw.limit_in_bytes", Long.toString(16 * MIB)); // no way out into swap
            try (OomWatch watch = OomWatch.register(cg.dirs)) {
                assertFalse(watch.report().any(), "nothing yet: " + watch.report());
                // dd's 64 MiB buffer, filled from /dev/zero, cannot fit in 16 MiB.
                Process p = cg.start("exec dd if=/dev/zero of=/dev/null bs=64M count=1");
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the eater still runs");
                assertEquals(128 + 9, p.exitValue(), "killed by SIGKILL: " + new String(p.getInputStream().readAllBytes()));
                OomWatch.Report r = watch.await(Duration.ofSeconds(5));
                assertTrue(r.ooms() >= 1, "eventfd notifications: " + r);
                assertEquals(1, r.oomKills(), "the kernel's oom_kill counter: " + r);

                // A watch registered after the kill starts from there: it reports nothing old.
                try (OomWatch late = OomWatch.register(cg.dirs)) {
                    assertFalse(late.await(Duration.ofMillis(200)).any(), "the late watch: " + late.report());
                }
            }
        }
    }

    /** Nor is the removal of the cgroup, which v1 signals on the same eventfd. */
    @Test
    void processWithinItsLimitIsNotReported() throws Exception {
        OomWatch watch = null;
        try {
            try (TestCgroup cg = new TestCgroup("no-oom", "memory")) {
                cg.write("memory", "memory.limit_in_bytes", Long.toString(64 * MIB));
                watch = OomWatch.register(cg.dirs);
                Process p = cg.start("exec dd if=/dev/zero of=/dev/null bs=8M count=4");
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, p.exitValue());
                assertFalse(watch.await(Duration.ofMillis(300)).any(), "reported: " + watch.report());
            }
            assertEquals(new OomWatch.Report(0, 0), watch.await(Duration.ofMillis(200)), "after the cgroup's removal");
        } finally {
            if (watch != null) watch.close();
        }
    }
}
