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
import java.util.List;
import java.util.Map;
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

    /**
     * linux_seccomp: a profile refusing getcwd. The working directory is still checked to be
     * inside the container (CVE-2024-21626), another way, and the program starts.
     */
    @Test
    void aProfileRefusingGetcwdStillStarts() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/bin/sh", "-c", "test -f passwd && echo started in etc");
        b.set("linux.seccomp", "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                + "\"syscalls\":[{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
        b.process().addProperty("noNewPrivileges", false);
        b.process().addProperty("cwd", "/etc");
        Brig.Result r = b.run().expect(0);
        assertEquals("started in etc\n", r.out(), r.err());
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

    /** The bundle without a mount namespace in linux.namespaces. */
    private static TestBundle withoutMountNamespace(TestBundle b) {
        b.edit(c -> c.getAsJsonObject("linux").getAsJsonArray("namespaces")
                .asList().removeIf(n -> n.getAsJsonObject().get("type").getAsString().equals("mount")));
        return b;
    }

    /**
     * Runs a shell script in a private mount namespace of the test's own (the container will
     * share it: nothing may be mounted in the host's), with $BRIG, $ROOT and $BUNDLE set.
     */
    private static Brig.Result inPrivateNamespace(TestBundle b, String script) {
        b.write();
        return Brig.exec(b.dir(), List.of("unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script), null,
                Map.of("BRIG", Brig.launcher().toString(), "ROOT", b.stateRoot().toString(), "BUNDLE", b.dir().toString(),
                        "ID", b.id(), "PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 60);
    }

    /**
     * linux_ns_itype: a namespace type not listed is the runtime's (runtime-spec: "MUST
     * inherit"), the mount namespace too. The container is chrooted, not pivoted; its mounts
     * are made below the rootfs in the caller's namespace and gone after delete.
     */
    @Test
    void sharesTheCallersMountNamespaceWhenNoneIsListedAndUnmountsAtDelete() throws Exception {
        TestBundle b = withoutMountNamespace(TestBundle.busybox(dir)).sh("readlink /proc/self/ns/mnt; cat /proc/1/comm; ls /proc/self/ns >/dev/null && echo procfs");
        b.set("root.readonly", "false");
        String rootfs = b.rootfs().toString();
        Brig.Result r = inPrivateNamespace(b, "readlink /proc/self/ns/mnt; "
                + "$BRIG --root $ROOT run --bundle $BUNDLE $ID || echo run failed; "
                + "echo after-run $(grep -c \" " + rootfs + "/\" /proc/self/mountinfo); "
                + "$BRIG --root $ROOT create --bundle $BUNDLE $ID >/dev/null 2>&1 || echo create failed; "
                + "echo created $(grep -c \" " + rootfs + "/proc \" /proc/self/mountinfo); "
                + "$BRIG --root $ROOT delete --force $ID; "
                + "echo deleted $(grep -c \" " + rootfs + "/\" /proc/self/mountinfo)").expect(0);
        String[] lines = r.out().split("\n");
        assertEquals(7, lines.length, r.out() + r.err());
        assertEquals(lines[0], lines[1], "the container's mount namespace is its caller's");
        assertEquals("sh", lines[2]); // its own pid namespace and /proc
        assertEquals("procfs", lines[3]);
        assertEquals("after-run 0", lines[4]);
        assertEquals("created 1", lines[5]); // the container's /proc, in the caller's namespace
        assertEquals("deleted 0", lines[6]);
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(rootfs));
    }

    /** Without its own mount namespace, a read-only root would remount the caller's: refused. */
    @Test
    void aReadOnlyRootNeedsAMountNamespaceOfItsOwn() throws Exception {
        TestBundle b = withoutMountNamespace(TestBundle.busybox(dir)).args("true");
        b.set("root.readonly", "true");
        Brig.Result r = inPrivateNamespace(b, "$BRIG --root $ROOT run --bundle $BUNDLE $ID");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("root.readonly: needs a mount namespace of the container's own in linux.namespaces"), r.err());
        assertEquals("", Brig.run(dir, "--root", b.stateRoot().toString(), "list", "-q").expect(0).out());
    }
}
