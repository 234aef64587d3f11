package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * runc's systemd cgroup driver (--systemd-cgroup, cgroupsPath "slice:prefix:name") is not
 * Brig's: both are refused in one line naming the flag or the field, and nothing is made.
 */
@ExtendWith(NoLeaks.class)
class SystemdCgroupIT {
    @TempDir Path dir;

    @Test
    void theFlagIsRefusedByName() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("true");
        b.write();
        Brig.Result r = Brig.run(dir, List.of("--systemd-cgroup", "--root", b.stateRoot().toString(), "run", "--bundle",
                dir.toString(), b.id()));
        assertEquals(1, r.exit(), r.err());
        assertEquals("brig: --systemd-cgroup: Brig has no systemd cgroup driver; leave the flag out and give "
                + "linux.cgroupsPath as a cgroupfs path such as \"/brig/NAME\"\n", r.err());
        assertEquals("", r.out());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
    }

    @Test
    void aSystemdCgroupsPathIsRefusedNamingTheField() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("true");
        b.set("linux.cgroupsPath", "\"system.slice:brig:" + b.id() + "\"");
        Brig.Result r = b.run();
        assertEquals(1, r.exit(), r.err());
        assertEquals("brig: " + dir.resolve("config.json") + ": linux.cgroupsPath: \"system.slice:brig:" + b.id()
                + "\" is a systemd cgroup (slice:prefix:name, as runc --systemd-cgroup takes it): Brig has no systemd driver; "
                + "give a cgroupfs path such as \"/brig/NAME\"\n", r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
    }
}
