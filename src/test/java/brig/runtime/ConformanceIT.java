package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the OCI runtime-tools validation suite checks and Brig once failed, as a user sees it
 * (docs/notes/2026-12-01-issue-8-conformance.md lists the programs).
 */
@ExtendWith(NoLeaks.class)
class ConformanceIT {
    @TempDir Path dir;

    /**
     * Every validation program's config carries a seccomp profile older than faccessat2 and
     * close_range, whose default action answers EPERM, without noNewPrivileges (so the filter
     * is in place before the program is looked up). The program must still be found on PATH
     * and start, and still get no descriptor of Brig's above 2.
     */
    @Test
    void aProfileWithoutFaccessat2AndCloseRangeStillStartsTheProgram() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("sh", "-c", "echo started; ls /proc/1/fd; true");
        b.set("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                + "\"syscalls\":[{\"names\":[\"faccessat2\",\"close_range\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
        b.process().addProperty("noNewPrivileges", false);
        Brig.Result r = b.run().expect(0);
        assertEquals("started\n0\n1\n2\n", r.out(), r.err());
    }

    /** A program that is not executable is still refused when faccessat2 is refused. */
    @Test
    void withoutFaccessat2AFileWithoutExecuteBitsIsStillRefused() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/notexec");
        Files.writeString(b.rootfs().resolve("notexec"), "#!/bin/sh\necho ran\n");
        b.set("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                + "\"syscalls\":[{\"names\":[\"faccessat2\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
        b.process().addProperty("noNewPrivileges", false);
        Brig.Result r = b.run();
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("exec: \"/notexec\": stat /notexec: EACCES: permission denied"), r.err());
    }

    /** linux_ns_path: a mount namespace given by path is joined; the container's mounts land there. */
    @Test
    void joinsAMountNamespaceGivenByPath() throws Exception {
        Process holder = new ProcessBuilder("unshare", "-m", "--propagation", "private", "sleep", "60").start();
        try {
            Path ns = Path.of("/proc/" + holder.pid() + "/ns/mnt");
            String want = null;
            for (int k = 0; k < 100 && (want == null || want.equals(Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString())); k++) {
                Thread.sleep(20);
                want = Files.readSymbolicLink(ns).toString();
            }
            TestBundle b = TestBundle.busybox(dir).sh("readlink /proc/self/ns/mnt");
            b.edit(c -> c.getAsJsonObject("linux").getAsJsonArray("namespaces").forEach(n -> {
                if (n.getAsJsonObject().get("type").getAsString().equals("mount")) n.getAsJsonObject().addProperty("path", ns.toString());
            }));
            Brig.Result r = b.run().expect(0);
            assertEquals(want + "\n", r.out(), r.err());
            // The container's mounts went into the joined namespace, not the one brig ran in.
            assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(b.rootfs().toString()));
        } finally {
            holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** The runtime's own mount namespace is refused: pivot_root there would move the host's root. */
    @Test
    void refusesToJoinItsOwnMountNamespace() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("true");
        b.edit(c -> c.getAsJsonObject("linux").getAsJsonArray("namespaces").forEach(n -> {
            if (n.getAsJsonObject().get("type").getAsString().equals("mount")) n.getAsJsonObject().addProperty("path", "/proc/self/ns/mnt");
        }));
        Brig.Result r = b.run();
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("linux.namespaces[") && r.err().contains("/proc/self/ns/mnt is the runtime's own mount namespace"), r.err());
        assertEquals("", Brig.run(dir, "--root", b.stateRoot().toString(), "list", "-q").expect(0).out());
    }
}
