package brig.seccomp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * linux.seccomp as the kernel enforces it on a container's process: every check is what a
 * real call in the container got back (its errno, its signal, its exit status), through the
 * CLI with busybox bundles and a small static probe (src/test/c/seccomp-probe.c).
 */
@ExtendWith(NoLeaks.class)
class SeccompIT {
    @TempDir Path dir;

    static Path probe;

    @BeforeAll
    static void compileProbe() {
        probe = Path.of("target/test-seccomp-probe").toAbsolutePath();
        Path src = Path.of("src/test/c/seccomp-probe.c").toAbsolutePath();
        Brig.Result cc = Brig.exec(null, List.of("cc", "-std=gnu11", "-O1", "-Wall", "-static", "-o", probe.toString(),
                src.toString()), null, Map.of("PATH", "/usr/bin:/bin"), 120);
        assertEquals(0, cc.exit(), "cannot compile the probe (gcc and libc6-dev are build dependencies): " + cc.err());
    }

    private TestBundle bundle(String name, String profile) throws IOException {
        TestBundle b = TestBundle.busybox(Files.createDirectories(dir.resolve(name)));
        Files.copy(probe, b.rootfs().resolve("bin/probe"));
        b.set("root.readonly", "false");
        if (profile != null) b.set("linux.seccomp", profile);
        return b;
    }

    private TestBundle bundle(String profile) throws IOException {
        return bundle("b", profile);
    }

    static String dockerLike() throws IOException {
        try (InputStream in = SeccompIT.class.getResourceAsStream("/brig/seccomp/docker-like.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** Default ALLOW, and {@code action} for the calls named. */
    static String deny(String action, String extra, String... names) {
        return "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"" + String.join("\",\"", names)
                + "\"],\"action\":\"" + action + "\"" + extra + "}]}";
    }

    @Test
    void mkdirDeniedWithEpermAndEverythingElseWorks() throws Exception {
        Brig.Result r = bundle(deny("SCMP_ACT_ERRNO", "", "mkdir", "mkdirat"))
                .sh("mkdir /tmp/x; echo mkdir=$?; echo hi > /tmp/f && cat /tmp/f && ls /tmp").run().expect(0);
        assertTrue(r.err().contains("mkdir: can't create directory '/tmp/x': Operation not permitted"), r.err());
        assertEquals("mkdir=1\nhi\nf\n", r.out());
    }

    @Test
    void withoutTheProfileMkdirWorks() throws Exception {
        // The control for the test above: the same command, no profile.
        Brig.Result r = bundle(null).sh("mkdir /tmp/x; echo mkdir=$?").run().expect(0);
        assertEquals("mkdir=0\n", r.out());
    }

    @Test
    void killProcessKillsWithSigsys() throws Exception {
        Brig.Result r = bundle(deny("SCMP_ACT_KILL_PROCESS", "", "mkdir", "mkdirat")).args("/bin/mkdir", "/tmp/x").run();
        assertEquals(128 + 31, r.exit(), r.err());
    }

    @Test
    void trapDeliversSigsysToTheProcess() throws Exception {
        // The probe's SIGSYS handler reports the call (mkdir is 83 on x86_64) and si_code
        // SYS_SECCOMP (1).
        Brig.Result r = bundle(deny("SCMP_ACT_TRAP", "", "mkdir")).args("/bin/probe", "trap", "83").run().expect(0);
        assertEquals("SIGSYS syscall=83 code=1\n", r.out());
    }

    @Test
    void logLetsTheCallThrough() throws Exception {
        Brig.Result r = bundle(deny("SCMP_ACT_LOG", "", "mkdir", "mkdirat")).sh("mkdir /tmp/x && echo made").run().expect(0);
        assertEquals("made\n", r.out());
    }

    @Test
    void errnoRetIsTheErrnoTheCallGets() throws Exception {
        Brig.Result r = bundle(deny("SCMP_ACT_ERRNO", ",\"errnoRet\":28", "mkdir", "mkdirat")).sh("mkdir /tmp/x").run();
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("No space left on device"), r.err());
    }

    @Test
    void dockerLikeProfileRunsBusyboxAndRefusesWhatItDoesNotList() throws Exception {
        // runc's default config (no_new_privs: the filter comes last) with an allow-list.
        TestBundle b = bundle(dockerLike());
        Brig.Result r = b.sh("echo hello; ls / >/dev/null && mkdir /tmp/d && echo dir > /tmp/d/f && cat /tmp/d/f;"
                + " sleep 0; (echo in a subshell) ; id -u;"
                + " /bin/probe call 250; /bin/probe call 248; /bin/probe call 249;" // keyctl, add_key, request_key
                + " /bin/probe call 451; /bin/probe call 435;" // cachestat: newer than any the profile names; clone3
                + " /bin/probe personality 0 8 0x20000 0x20008 0xffffffff 1 9 0x400000 0x100000000").run().expect(0);
        assertEquals("""
                hello
                dir
                in a subshell
                0
                EPERM
                EPERM
                EPERM
                ENOSYS
                ENOSYS
                0 ok
                8 ok
                0x20000 ok
                0x20008 ok
                0xffffffff ok
                1 EPERM
                9 EPERM
                0x400000 EPERM
                0x100000000 EPERM
                """, r.out(), r.err());
    }

    @Test
    void dockerLikeProfileWithoutNoNewPrivilegesGoesInBeforeTheUserChanges() throws Exception {
        // Without no_new_privs the filter goes in while the process is still root with every
        // capability; the rest of the set-up (capabilities, groups, user, exec) runs under it.
        TestBundle b = bundle(dockerLike());
        b.process().addProperty("noNewPrivileges", false);
        b.set("process.user", "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[10]}");
        Brig.Result r = b.sh("id; /bin/probe call 250").run().expect(0);
        assertEquals("uid=1000 gid=1000 groups=10\nEPERM\n", r.out(), r.err());
    }

    @Test
    void aProfileRefusesUnshareAndMountEvenWithCapSysAdmin() throws Exception {
        String caps = "[\"CAP_SYS_ADMIN\"]";
        String all = "{\"bounding\":" + caps + ",\"effective\":" + caps + ",\"permitted\":" + caps + "}";
        String script = "unshare -m true; echo unshare=$?; mount -t tmpfs t /tmp; echo mount=$?";
        // The capability is there: without the profile both work...
        Brig.Result open = bundle("open", null).set("process.capabilities", all).sh(script).run().expect(0);
        assertEquals("unshare=0\nmount=0\n", open.out(), open.err());
        // ...and with it the filter refuses both, with the errno it names.
        Brig.Result r = bundle("filtered", deny("SCMP_ACT_ERRNO", ",\"errnoRet\":95", "unshare", "mount"))
                .set("process.capabilities", all).sh(script).run().expect(0);
        assertEquals("unshare=1\nmount=255\n", r.out(), r.err());
        assertTrue(r.err().contains("unshare: unshare(0x20000): Operation not supported"), r.err());
        assertTrue(r.err().contains("mount: mounting t on /tmp failed: Operation not supported"), r.err());
    }

    @Test
    void argumentConditionsCompareAll64Bits() throws Exception {
        // personality's argument against each operator, as the kernel filters it; rules are
        // tried in order, each with an errno of its own.
        String profile = """
                {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
                 {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":7,"args":[{"index":0,"value":3,"op":"SCMP_CMP_LT"}]},
                 {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":8,"args":[{"index":0,"value":3,"op":"SCMP_CMP_LE"}]},
                 {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":4294967296,"op":"SCMP_CMP_GE"}]},
                 {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":22,"args":[{"index":0,"value":65280,"valueTwo":4608,"op":"SCMP_CMP_MASKED_EQ"}]},
                 {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":9,"args":[{"index":0,"value":4294967294,"op":"SCMP_CMP_GT"}]},
                 {"names":["personality"],"action":"SCMP_ACT_ERRNO","errnoRet":10,"args":[{"index":0,"value":64,"op":"SCMP_CMP_NE"}]}]}
                """;
        Brig.Result r = bundle(profile).args("/bin/probe", "personality", "0x100000002", "0x100000003", "0x1ffffffff", "0",
                "2", "3", "0x1200", "0x11234", "0xffffffff", "0xfffffffe", "0x40", "0x41").run().expect(0);
        assertEquals("""
                0x100000002 EPERM
                0x100000003 EPERM
                0x1ffffffff EPERM
                0 E2BIG
                2 E2BIG
                3 ENOEXEC
                0x1200 EINVAL
                0x11234 EINVAL
                0xffffffff EBADF
                0xfffffffe ECHILD
                0x40 ok
                0x41 ECHILD
                """, r.out(), r.err());
    }

    @Test
    void createdContainerRunsUnderTheFilterOnceStarted() throws Exception {
        // The filter is installed before the create->start wait: reading the start fifo and
        // execve must pass it, and what runs after start is filtered.
        TestBundle b = bundle(deny("SCMP_ACT_ERRNO", ",\"errnoRet\":28", "mkdir", "mkdirat"))
                .sh("mkdir /tmp/x 2>/tmp/err; cat /tmp/err > /result; echo done >> /result");
        b.write();
        // Files for stdio, not pipes: a created container holds them open.
        Lifecycle l = new Lifecycle(b.stateRoot(), Files.createDirectories(dir.resolve("scratch")));
        l.brig(b.dir(), "create", "--bundle", b.dir().toString(), b.id()).expect(0);
        try {
            l.awaitStatus(b.id(), "created");
            l.brig(b.dir(), "start", b.id()).expect(0);
            l.awaitStatus(b.id(), "stopped");
            assertEquals("mkdir: can't create directory '/tmp/x': No space left on device\ndone\n",
                    Files.readString(b.rootfs().resolve("result")));
        } finally {
            l.brig(b.dir(), "delete", "--force", b.id());
        }
    }

    @Test
    void badProfilesAreRefusedNamingTheFieldAndLeaveNothing() throws Exception {
        assertEquals("linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_FLY\"",
                refused(deny("SCMP_ACT_FLY", "", "mkdir")));
        assertEquals("linux.seccomp.syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"",
                refused(deny("SCMP_ACT_ERRNO", ",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_ABOUT\"}]", "mkdir")));
        assertEquals("linux.seccomp.syscalls[0].args[0].index: expected a number from 0 to 5, got 6",
                refused(deny("SCMP_ACT_ERRNO", ",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]", "mkdir")));
        assertEquals("linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY (linux.seccomp.syscalls[0].action): the agent's"
                + " socket, where the notify listener goes", refused(deny("SCMP_ACT_NOTIFY", "", "mkdir")));
    }

    private String refused(String profile) throws Exception {
        TestBundle b = bundle("bad" + System.nanoTime(), profile).sh("true");
        Brig.Result r = b.run();
        assertEquals(1, r.exit(), r.out() + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(!Files.exists(b.stateRoot().resolve(b.id())), "state left behind");
        String prefix = "brig: " + b.dir().resolve("config.json") + ": ";
        assertTrue(r.err().startsWith(prefix), r.err());
        return r.err().substring(prefix.length()).strip();
    }
}
