package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.spec.Capability;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** What the container cannot see or do, and who it runs as. */
@ExtendWith(NoLeaks.class)
class IsolationIT {
    @TempDir Path dir;

    /** The lab's chroot lesson: a chroot hides files, a container also hides processes. */
    @Test
    void hostProcessIsNeitherVisibleNorKillable() throws Exception {
        Process sleep = new ProcessBuilder("sleep", "1000").start();
        try {
            long pid = sleep.pid();
            Brig.Result r = TestBundle.busybox(dir).sh("ls /proc/" + pid + " >/dev/null 2>&1 && echo visible || echo hidden; "
                    + "kill -9 " + pid + " 2>&1 || echo kill failed").run().expect(0);
            assertTrue(r.out().startsWith("hidden\n"), r.out());
            assertTrue(r.out().contains("kill failed"), r.out());
            assertTrue(sleep.isAlive(), "the host's sleep survived");
        } finally {
            sleep.destroyForcibly().waitFor();
        }
    }

    static long status(String out, String field) {
        for (String line : out.split("\n")) {
            if (line.startsWith(field + ":")) return Long.parseUnsignedLong(line.substring(field.length() + 1).trim(), 16);
        }
        throw new AssertionError(field + " not in " + out);
    }

    static long mask(Capability... caps) {
        return Capability.mask(List.of(caps));
    }

    @Test
    void rootKeepsOnlyTheBoundingSetOfRuncsDefault() throws Exception {
        String out = TestBundle.busybox(dir).sh("grep Cap /proc/self/status").run().expect(0).out();
        long dflt = mask(Capability.CAP_AUDIT_WRITE, Capability.CAP_KILL, Capability.CAP_NET_BIND_SERVICE);
        assertEquals(dflt, status(out, "CapBnd"));
        assertEquals(dflt, status(out, "CapEff"));
        assertEquals(dflt, status(out, "CapPrm"));
        assertEquals(0, status(out, "CapInh"));
        assertEquals(0, status(out, "CapAmb"));
    }

    @Test
    void allFiveCapabilitySetsForAnUnprivilegedUser() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("grep Cap /proc/self/status");
        b.set("process.user", "{\"uid\":1000,\"gid\":1000}");
        b.set("process.capabilities", """
                {"bounding":["CAP_CHOWN","CAP_KILL","CAP_NET_RAW","CAP_SETUID"],
                 "permitted":["CAP_KILL","CAP_NET_RAW"], "inheritable":["CAP_KILL","CAP_NET_RAW"],
                 "effective":["CAP_KILL"], "ambient":["CAP_NET_RAW"]}""");
        String out = b.run().expect(0).out();
        assertEquals(mask(Capability.CAP_CHOWN, Capability.CAP_KILL, Capability.CAP_NET_RAW, Capability.CAP_SETUID), status(out, "CapBnd"));
        assertEquals(mask(Capability.CAP_KILL, Capability.CAP_NET_RAW), status(out, "CapInh"));
        // After execve an unprivileged user keeps what is ambient (capabilities(7)).
        assertEquals(mask(Capability.CAP_NET_RAW), status(out, "CapAmb"));
        assertEquals(mask(Capability.CAP_NET_RAW), status(out, "CapPrm"));
        assertEquals(mask(Capability.CAP_NET_RAW), status(out, "CapEff"));
    }

    @Test
    void userGroupsAndUmask() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("grep -E '^(Uid|Gid|Groups)' /proc/self/status; umask");
        b.set("process.user", "{\"uid\":1000,\"gid\":1001,\"additionalGids\":[5,20],\"umask\":63}");
        String out = b.run().expect(0).out();
        assertTrue(out.contains("Uid:\t1000\t1000\t1000\t1000\n"), out);
        assertTrue(out.contains("Gid:\t1001\t1001\t1001\t1001\n"), out);
        assertTrue(out.contains("Groups:\t5 20 \n") || out.contains("Groups:\t5 20\n"), out);
        assertTrue(out.endsWith("0077\n"), out);
    }

    @Test
    void rlimitsNoNewPrivilegesAndOomScore() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("ulimit -n; ulimit -Hn; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj");
        b.set("process.rlimits", "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":500,\"hard\":600}]");
        b.set("process.oomScoreAdj", "500");
        assertEquals("500\n600\nNoNewPrivs:\t1\n500\n", b.run().expect(0).out());
        TestBundle free = TestBundle.busybox(dir.resolve("two")).sh("grep NoNewPrivs /proc/self/status");
        free.set("process.noNewPrivileges", "false");
        assertEquals("NoNewPrivs:\t0\n", free.run().expect(0).out());
    }

    @Test
    void hostnameAndDomainname() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("hostname; cat /proc/sys/kernel/domainname");
        b.set("hostname", "\"inside\"").set("domainname", "\"example.test\"");
        assertEquals("inside\nexample.test\n", b.run().expect(0).out());
    }

    @Test
    void namespacedSysctlsAreWrittenInsideOnly() throws Exception {
        String hostForward = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_forward")).get(0);
        TestBundle b = TestBundle.busybox(dir).sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni");
        b.set("linux.sysctl", "{\"net.ipv4.ip_forward\":\"" + (hostForward.equals("1") ? "0" : "1") + "\",\"kernel.shmmni\":\"1234\"}");
        assertEquals((hostForward.equals("1") ? "0" : "1") + "\n1234\n", b.run().expect(0).out());
        assertEquals(hostForward, Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_forward")).get(0));
    }

    @Test
    void sysctlsThatWouldChangeTheHostAreRefused() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("true");
        b.set("linux.sysctl", "{\"kernel.pid_max\":\"1000\"}");
        Brig.Result r = b.run();
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("linux.sysctl.kernel.pid_max: not a namespaced sysctl"), r.err());

        TestBundle net = TestBundle.busybox(dir.resolve("two")).sh("true");
        net.set("linux.sysctl", "{\"net.ipv4.ip_forward\":\"1\"}");
        net.linux().getAsJsonArray("namespaces").remove(1); // network
        Brig.Result n = net.run();
        assertEquals(1, n.exit());
        assertTrue(n.err().contains("linux.sysctl.net.ipv4.ip_forward: needs a private network namespace"), n.err());
    }

    @Test
    void containerRootIsTheMappedHostUser() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path shared = Files.createDirectories(dir.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        TestBundle b = TestBundle.busybox(dir);
        // The mount point must exist: the container's root cannot create it in a rootfs the
        // host's root owns.
        Files.createDirectories(b.rootfs().resolve("shared"));
        b.sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /shared/made");
        b.userNamespace(100000, 65536);
        b.add("mounts", "{\"destination\":\"/shared\",\"type\":\"bind\",\"source\":\"" + shared + "\",\"options\":[\"rbind\"]}");
        String out = b.run().expect(0).out();
        assertTrue(out.matches("(?s)\\s*0\\s+100000\\s+65536\\n\\s*0\\s+100000\\s+65536\\n0\\n"), out);
        assertEquals(100000, Files.getAttribute(shared.resolve("made"), "unix:uid"));
        assertEquals(100000, Files.getAttribute(shared.resolve("made"), "unix:gid"));
    }

    @Test
    void joinsANetworkNamespaceByPath() throws Exception {
        String name = "brigtest-" + Long.toHexString(System.nanoTime());
        assertEquals(0, new ProcessBuilder("ip", "netns", "add", name).inheritIO().start().waitFor());
        try {
            Path ns = Path.of("/var/run/netns", name);
            TestBundle b = TestBundle.busybox(dir).sh("stat -L -c %i /proc/self/ns/net");
            b.linux().getAsJsonArray("namespaces").set(1, Json.parseQuietly("{\"type\":\"network\",\"path\":\"" + ns + "\"}"));
            String inode = b.run().expect(0).out().trim();
            assertEquals(Files.getAttribute(ns, "unix:ino").toString(), inode);
        } finally {
            new ProcessBuilder("ip", "netns", "delete", name).inheritIO().start().waitFor();
        }
    }

    /** A joined pid namespace takes effect in a child: the helper clones after setns. */
    @Test
    void joinsAnotherContainersPidNamespace() throws Exception {
        TestBundle first = TestBundle.busybox(dir.resolve("first"))
                .args("/bin/sh", "-c", "trap 'exit 0' TERM; echo up; while :; do sleep 1; done", "marker-first");
        first.write();
        ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "--root", first.stateRoot().toString(), "run",
                "--bundle", first.dir().toString(), first.id());
        Process p = pb.start();
        try {
            assertEquals("up", new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream())).readLine());
            Path state = first.stateRoot().resolve(first.id()).resolve("state.json");
            int pid = Json.parse(Files.readString(state)).getAsJsonObject().get("pid").getAsInt();
            TestBundle second = TestBundle.busybox(dir.resolve("second")).sh("tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$");
            second.linux().getAsJsonArray("namespaces").set(0, Json.parseQuietly("{\"type\":\"pid\",\"path\":\"/proc/" + pid + "/ns/pid\"}"));
            String out = second.run().expect(0).out();
            String[] lines = out.split("\n");
            assertTrue(lines[0].contains("marker-first"), out);
            assertTrue(Integer.parseInt(lines[1]) > 1, out);
        } finally {
            new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor();
        }
    }

    @Test
    void launcherRunsWithoutAnyEnvironment() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("echo ok");
        b.write();
        Brig.Result r = Brig.exec(dir, List.of("/usr/bin/env", "-i", Brig.launcher().toString(), "--root",
                b.stateRoot().toString(), "run", "--bundle", dir.toString(), b.id()), null, Map.of(), 30);
        assertEquals("ok\n", r.expect(0).out());
    }
}
