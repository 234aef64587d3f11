package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonArray;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on what the container's first process does before execve: its session, its
 * capabilities, the nodes it makes, the files it reads and the /proc it writes through. Each
 * test performs the attack and checks from the host that it failed.
 */
@ExtendWith(NoLeaks.class)
class InitSecurityIT {
    @TempDir Path dir;

    private final List<Path> targets = new ArrayList<>();

    @AfterEach
    void removeTargets() throws Exception {
        for (Path t : targets) Files.deleteIfExists(t);
    }

    private Path hostTarget(String name) {
        Path p = Path.of("/tmp", NoLeaks.PREFIX + name);
        targets.add(p);
        return p;
    }

    /** Fields of /proc/PID/stat after the command name: [0] is the state (field 3). */
    private static String[] stat(long pid) throws Exception {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
    }

    private static String cmdline(ProcessHandle h) {
        try {
            return Files.readString(Path.of("/proc/" + h.pid() + "/cmdline")).replace('\0', ' ');
        } catch (Exception e) {
            return "";
        }
    }

    // ---- item 1: the container leads its own session and process group ----

    @Test
    void containerSignallingItsProcessGroupDoesNotReachTheCaller() throws Exception {
        for (boolean terminal : new boolean[] {false, true}) {
            Path d = dir.resolve("tty-" + terminal);
            String marker = "brig-pgrp-marker-" + terminal + "-" + ProcessHandle.current().pid();
            TestBundle b = TestBundle.busybox(d).args("/bin/sh", "-c", "sleep 1; kill -s USR1 0; echo SENT; sleep 1", marker);
            b.process().addProperty("terminal", terminal);
            b.write();
            Path trapped = d.resolve("trapped");
            // The caller: a shell that leads its own session (so that a signal that gets through
            // hits it and not the test's JVM) and runs brig in its process group, as shells do.
            String script = "trap 'echo TRAPPED >> " + trapped + "' USR1; \"$0\" \"$@\"; echo EXIT=$?";
            Process caller = new ProcessBuilder("setsid", "-w", "sh", "-c", script, Brig.launcher().toString(), "--root",
                    b.stateRoot().toString(), "run", "--bundle", d.toString(), b.id())
                    .directory(d.toFile()).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
            try {
                Optional<ProcessHandle> init = Optional.empty();
                // Up to 20 s: under a full test run's load a cold start took more than the 4 s this had.
                for (int k = 0; k < 1000 && init.isEmpty(); k++) {
                    init = caller.descendants().filter(h -> cmdline(h).contains(marker)).findFirst();
                    if (init.isEmpty()) Thread.sleep(20);
                }
                assertTrue(init.isPresent(), "the container's init was not found");
                String[] callerStat = stat(caller.pid()), initStat = stat(init.get().pid());
                // Fields 5 (pgrp) and 6 (session) are [2] and [3] here; field 7 (tty_nr) is [4].
                assertNotEquals(callerStat[2], initStat[2], "the container is in the caller's process group");
                assertNotEquals(callerStat[3], initStat[3], "the container is in the caller's session");
                assertEquals(Long.toString(init.get().pid()), initStat[3], "the container's init leads its session");
                assertEquals(Long.toString(init.get().pid()), initStat[2], "the container's init leads its process group");
                if (terminal) assertNotEquals("0", initStat[4], "the terminal is the container's controlling tty");
                assertTrue(caller.waitFor(60, TimeUnit.SECONDS), "brig did not finish");
                String out = new String(caller.getInputStream().readAllBytes());
                assertTrue(out.contains("SENT") && out.contains("EXIT=0"), out);
                assertFalse(Files.exists(trapped), "the caller received the container's signal to its process group");
            } finally {
                // Let brig finish and clean up; kill only what hangs.
                if (!caller.waitFor(60, TimeUnit.SECONDS)) {
                    caller.descendants().forEach(ProcessHandle::destroyForcibly);
                    caller.destroyForcibly();
                    caller.waitFor();
                }
            }
        }
    }

    // ---- item 2: no process.capabilities means no capabilities ----

    private static Map<String, String> caps(String out) {
        Map<String, String> m = new java.util.TreeMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("[:\\s]+");
            if (f.length == 2 && f[0].startsWith("Cap")) m.put(f[0], f[1]);
        }
        return m;
    }

    private static final Map<String, String> NONE = Map.of("CapAmb", "0000000000000000", "CapBnd", "0000000000000000",
            "CapEff", "0000000000000000", "CapInh", "0000000000000000", "CapPrm", "0000000000000000");

    @Test
    void rootWithoutCapabilitiesObjectGetsNoCapabilities() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("grep Cap /proc/self/status");
        b.process().remove("capabilities");
        Brig.Result r = b.run().expect(0);
        assertEquals(NONE, caps(r.out()), r.out());
        Brig.Result explain = b.run("--explain").expect(0);
        assertTrue(explain.out().matches("(?s).*drop \\d+ capabilities from the bounding set: CAP_CHOWN .*"), explain.out());
    }

    /** A static program that prints its effective uid and its capability sets. */
    private static void compileCapsProgram(Path out) throws Exception {
        Path src = out.resolveSibling("caps.c");
        Files.writeString(src, """
                #include <stdio.h>
                #include <unistd.h>
                int main(void) {
                    char line[256];
                    FILE *f = fopen("/proc/self/status", "r");
                    printf("euid %d\\n", (int)geteuid());
                    while (f && fgets(line, sizeof line, f))
                        if (line[0] == 'C' && line[1] == 'a' && line[2] == 'p') fputs(line, stdout);
                    return 0;
                }
                """);
        Brig.Result cc = Brig.exec(null, List.of("cc", "-static", "-O1", "-o", out.toString(), src.toString()), null,
                Map.of("PATH", "/usr/bin:/bin"), 120);
        assertEquals(0, cc.exit(), "cannot compile the test program (gcc and libc6-dev are build dependencies): " + cc.err());
    }

    @Test
    void setuidRootBinaryGainsNoCapabilitiesWithoutCapabilitiesObject() throws Exception {
        TestBundle b = TestBundle.busybox(dir).args("/suidcaps");
        Path prog = b.rootfs().resolve("suidcaps");
        compileCapsProgram(prog);
        Files.setOwner(prog, prog.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("root"));
        Files.setPosixFilePermissions(prog, PosixFilePermissions.fromString("rwxr-xr-x"));
        Brig.exec(null, List.of("chmod", "4755", prog.toString()), null, Map.of("PATH", "/usr/bin:/bin"), 10).expect(0);
        b.process().remove("capabilities");
        b.process().addProperty("noNewPrivileges", false);
        b.set("process.user", "{\"uid\":1000,\"gid\":1000}");
        Brig.Result r = b.run().expect(0);
        // The set-user-ID bit worked (euid 0), and still nothing was gained.
        assertTrue(r.out().startsWith("euid 0\n"), r.out());
        assertEquals(NONE, caps(r.out()), r.out());
    }

    // ---- item 7: mknod's chmod never follows a symlink ----

    @Test
    void symlinkSwappedForANewDeviceNodeInASharedDevIsNotChmodded() throws Throwable {
        Path target = hostTarget("mknod-target");
        Files.writeString(target, "host file\n");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        Set<PosixFilePermission> before = Files.getPosixFilePermissions(target, LinkOption.NOFOLLOW_LINKS);
        TestBundle b = TestBundle.busybox(dir).sh("true");
        Path shared = Files.createDirectories(dir.resolve("shared"));
        // A directory of the host that the container's /dev/shared shares (as a bind mount).
        b.add("mounts", "{\"destination\":\"/dev/shared\",\"type\":\"bind\",\"source\":\"" + shared + "\",\"options\":[\"rbind\"]}");
        int nodes = 10;
        for (int k = 0; k < nodes; k++) {
            b.add("linux.devices", "{\"path\":\"/dev/shared/n" + k + "\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":438}");
        }
        // A symlink left there before the run: replaced by the node, never followed.
        Files.createSymbolicLink(shared.resolve("n0"), target);
        Brig.Result first = b.run();
        assertEquals(0, first.exit(), first.err());
        assertEquals(before, Files.getPosixFilePermissions(target, LinkOption.NOFOLLOW_LINKS), "a pre-placed symlink was followed");

        // The race: the moment each node appears, exchange it with a symlink to the host file
        // (renameat2 RENAME_EXCHANGE, one syscall), hoping to land between mknod and chmod.
        MethodHandle renameat2 = libc("renameat2", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        AtomicBoolean stop = new AtomicBoolean(), armed = new AtomicBoolean();
        AtomicLong swaps = new AtomicLong();
        Thread racer = new Thread(() -> {
            try (Arena a = Arena.ofShared()) {
                MemorySegment[] from = new MemorySegment[nodes], to = new MemorySegment[nodes];
                for (int k = 0; k < nodes; k++) {
                    from[k] = a.allocateFrom(shared.resolve("l" + k).toString());
                    to[k] = a.allocateFrom(shared.resolve("n" + k).toString());
                }
                int k = 0;
                while (!stop.get()) {
                    if (!armed.get()) {
                        k = 0;
                        Thread.onSpinWait();
                        continue;
                    }
                    if (k < nodes && (int) renameat2.invokeExact(-100, from[k], -100, to[k], 2) == 0) { // AT_FDCWD, RENAME_EXCHANGE
                        swaps.incrementAndGet();
                        k++;
                    }
                }
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        });
        racer.start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int runs = 0, refused = 0;
        try {
            for (; runs < 100 && System.nanoTime() < end; runs++) {
                for (int k = 0; k < nodes; k++) {
                    Files.deleteIfExists(shared.resolve("n" + k));
                    Files.deleteIfExists(shared.resolve("l" + k));
                    Files.createSymbolicLink(shared.resolve("l" + k), target);
                }
                armed.set(true);
                Brig.Result r = b.run();
                armed.set(false);
                if (r.exit() != 0) {
                    // What a swap noticed in time looks like: a clear refusal, nothing followed.
                    assertTrue(r.err().startsWith("brig: create character device 1:3 /dev/shared/n"), r.err());
                    refused++;
                }
                assertEquals(before, Files.getPosixFilePermissions(target, LinkOption.NOFOLLOW_LINKS),
                        "run " + runs + ": the new node's mode went through a symlink onto the host file");
            }
        } finally {
            stop.set(true);
            racer.join();
        }
        assertTrue(swaps.get() > 0, "the racer never swapped");
        System.out.println("mknod race: " + runs + " runs, " + refused + " refused, " + swaps.get() + " swaps");
    }

    // ---- item 6: HOME from the /etc/passwd the container sees, never opened on the host ----

    @Test
    void passwdFifoDoesNotHangRun() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("echo HOME=$HOME");
        Files.delete(b.rootfs().resolve("etc/passwd"));
        Brig.exec(null, List.of("mkfifo", b.rootfs().resolve("etc/passwd").toString()), null, Map.of("PATH", "/usr/bin:/bin"), 10).expect(0);
        Brig.Result r = b.run(null, 30).expect(0);
        assertEquals("HOME=/\n", r.out());
    }

    private static final Linker LINKER = Linker.nativeLinker();

    private static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    @Test
    void passwdDeviceNodeIsNeverOpened() throws Throwable {
        TestBundle b = TestBundle.busybox(dir).sh("echo HOME=$HOME");
        Path passwd = b.rootfs().resolve("etc/passwd");
        Files.delete(passwd);
        Brig.exec(null, List.of("mknod", "-m", "666", passwd.toString(), "c", "1", "3"), null, Map.of("PATH", "/usr/bin:/bin"), 10).expect(0);
        // inotify on the node's inode sees every open of it, from any mount namespace.
        MethodHandle init = libc("inotify_init1", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        MethodHandle watch = libc("inotify_add_watch", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        MethodHandle read = libc("read", FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG));
        MethodHandle close = libc("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        int in = (int) init.invokeExact(0x800); // IN_NONBLOCK
        assertTrue(in >= 0);
        try (Arena a = Arena.ofConfined()) {
            assertTrue((int) watch.invokeExact(in, a.allocateFrom(passwd.toString()), 0x20) >= 0); // IN_OPEN
            Brig.Result r = b.run(null, 30).expect(0);
            assertEquals("HOME=/\n", r.out());
            MemorySegment buf = a.allocate(4096);
            long n = (long) read.invokeExact(in, buf, 4096L);
            assertTrue(n < 0, "the device node at /etc/passwd was opened (" + n + " bytes of inotify events)");
        } finally {
            int ignored = (int) close.invokeExact(in);
        }
    }

    @Test
    void homeComesFromThePasswdAConfigMountPutsThere() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("echo HOME=$HOME");
        Path mine = dir.resolve("engine-passwd");
        Files.writeString(mine, "root:x:0:0:root:/from-the-mount:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n");
        b.add("mounts", "{\"destination\":\"/etc/passwd\",\"type\":\"bind\",\"source\":\"" + mine + "\",\"options\":[\"bind\",\"ro\"]}");
        assertEquals("HOME=/from-the-mount\n", b.run().expect(0).out());
        b.set("process.user", "{\"uid\":1000,\"gid\":1000}");
        assertEquals("HOME=/home/u\n", b.run().expect(0).out());
        b.set("process.user", "{\"uid\":1234,\"gid\":1000}");
        assertEquals("HOME=/\n", b.run().expect(0).out());
        Brig.Result explain = b.run("--explain").expect(0);
        assertTrue(explain.out().contains("set HOME to user 1234's home directory in the container's /etc/passwd"), explain.out());
    }

    // ---- item 12: memfd_noexec, the console, writes into /proc ----

    @Test
    void helperRunsWhereMemfdsMustBeMarkedExecutableOrAreNotExecutable() throws Exception {
        for (int level : new int[] {1, 2}) {
            TestBundle b = TestBundle.busybox(dir.resolve("noexec" + level)).sh("echo RAN");
            b.write();
            // vm.memfd_noexec is per pid namespace and can only be raised: never touch the host's.
            String script = "echo " + level + " > /proc/sys/vm/memfd_noexec && cat /proc/sys/vm/memfd_noexec && exec \"$0\" \"$@\"";
            Brig.Result r = Brig.exec(b.dir(), List.of("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script,
                    Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run", "--bundle", b.dir().toString(), b.id()),
                    null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 60);
            assertEquals(level + "\nRAN\n", r.out(), "vm.memfd_noexec=" + level + ": " + r.err());
            assertEquals(0, r.exit(), r.err());
        }
    }

    @Test
    void consoleSymlinkInTheRootfsIsNotFollowed() throws Exception {
        for (String link : List.of("/etc/victim", "/etc/not-there")) {
            Path d = dir.resolve("c" + Math.abs(link.hashCode()));
            TestBundle b = TestBundle.busybox(d).sh("[ -c /etc/victim ] && echo BOUND; echo RAN");
            b.process().addProperty("terminal", true);
            // No tmpfs on /dev: the image's own /dev/console is what the terminal is bound on.
            JsonArray mounts = new JsonArray();
            for (var m : b.config().getAsJsonArray("mounts")) {
                if (!m.getAsJsonObject().get("destination").getAsString().equals("/dev")) mounts.add(m);
            }
            b.config().add("mounts", mounts);
            Files.writeString(b.rootfs().resolve("etc/victim"), "image file\n");
            Files.createSymbolicLink(b.rootfs().resolve("dev/console"), Path.of(link));
            Brig.Result r = b.run();
            assertFalse(r.out().contains("BOUND"), link + ": the terminal was bound where /dev/console points");
            assertEquals(1, r.exit(), link + ": " + r.out() + r.err());
            assertEquals("brig: open a terminal from /dev/ptmx, bind it on /dev/console and pass its master to brig: "
                    + "/dev/console is a symlink in the rootfs: refused\n", r.err());
            assertFalse(Files.exists(b.rootfs().resolve("etc/not-there"), LinkOption.NOFOLLOW_LINKS), link);
            assertEquals("image file\n", Files.readString(b.rootfs().resolve("etc/victim")));
        }
    }

    @Test
    void imageProcWithoutAProcMountCannotSteerMasksOrSysctls() throws Exception {
        // CVE-2025-52881's class: the helper names its fds as paths (mount(2) takes paths) and
        // writes sysctls under /proc. Without a proc mount the image's own /proc stays, its
        // self/fd/N symlinks pointing at /etc: masks and sysctls must go through the procfs the
        // helper opened before any mount of the container, and land where they belong.
        TestBundle b = TestBundle.busybox(dir).sh("ls /secret; ls /etc/passwd; cat /fake/sys/kernel/msgmax");
        Path fd = Files.createDirectories(b.rootfs().resolve("fake/fd"));
        for (int k = 0; k < 256; k++) Files.createSymbolicLink(fd.resolve(Integer.toString(k)), Path.of("/etc"));
        Files.writeString(Files.createDirectories(b.rootfs().resolve("fake/sys/kernel")).resolve("msgmax"), "image\n");
        Files.createSymbolicLink(b.rootfs().resolve("proc/self"), Path.of("/fake"));
        Files.createSymbolicLink(b.rootfs().resolve("proc/sys"), Path.of("/fake/sys"));
        Files.writeString(Files.createDirectories(b.rootfs().resolve("secret")).resolve("key"), "secret\n");
        JsonArray mounts = new JsonArray();
        for (var m : b.config().getAsJsonArray("mounts")) {
            if (!m.getAsJsonObject().get("destination").getAsString().equals("/proc")) mounts.add(m);
        }
        b.config().add("mounts", mounts);
        b.set("linux.maskedPaths", "[\"/secret\"]");
        b.set("linux.readonlyPaths", "[]");
        b.set("linux.sysctl", "{\"kernel.msgmax\":\"4321\"}");
        Brig.Result r = b.run().expect(0);
        assertEquals("/etc/passwd\nimage\n", r.out(), "a mask or a sysctl went through the image's /proc");
        assertEquals("image\n", Files.readString(b.rootfs().resolve("fake/sys/kernel/msgmax")));
    }

    @Test
    void configMountsCannotCoverProcSelfFdOrTheSysctlBeingWritten() throws Exception {
        // The same attack from the config: a bind over the container's /proc/self/fd, or another
        // sysctl file bound over the one written. Refused before anything runs.
        Path evil = Files.createDirectories(dir.resolve("evil"));
        for (String[] m : List.of(new String[] {"/proc/self/fd", evil.toString()},
                new String[] {"/proc/sys/kernel/msgmax", "/proc/sys/kernel/msgmnb"})) {
            TestBundle b = TestBundle.busybox(dir.resolve("b" + Math.abs(m[0].hashCode()))).sh("echo RAN");
            b.add("mounts", "{\"destination\":\"" + m[0] + "\",\"type\":\"bind\",\"source\":\"" + m[1]
                    + "\",\"options\":[\"bind\"]}");
            b.set("linux.sysctl", "{\"kernel.msgmax\":\"4321\"}");
            Brig.Result r = b.run();
            assertEquals(1, r.exit(), r.out() + r.err());
            assertFalse(r.out().contains("RAN"));
            assertTrue(r.err().contains("mounts[7].destination: " + m[0] + " is inside /proc; only "), r.err());
        }
    }
}
