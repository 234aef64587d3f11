package brig.rootfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The container's filesystem: mounts, devices, masked and read-only paths, the root. */
@ExtendWith(NoLeaks.class)
class MountsIT {
    @TempDir Path dir;

    /** The line of /proc/self/mounts for a mount point, as the container printed it. */
    static String mountLine(String mounts, String point) {
        for (String line : mounts.split("\n")) if (line.split(" ").length > 1 && line.split(" ")[1].equals(point)) return line;
        throw new AssertionError(point + " is not mounted:\n" + mounts);
    }

    /** The mount options of a /proc/self/mounts line. */
    static Set<String> options(String line) {
        return Set.of(line.split(" ")[3].split(","));
    }

    @Test
    void runcsDefaultMountsAreThereWithTheirOptions() throws Exception {
        String m = TestBundle.busybox(dir).sh("cat /proc/self/mounts").run().expect(0).out();
        // runc's default /proc has no options: rw, and the kernel's default relatime.
        assertTrue(mountLine(m, "/proc").startsWith("proc /proc proc "), mountLine(m, "/proc"));
        assertEquals(Set.of("rw", "relatime"), options(mountLine(m, "/proc")), mountLine(m, "/proc"));
        assertTrue(mountLine(m, "/dev").matches("tmpfs /dev tmpfs rw,nosuid,size=65536k,mode=755.*"), mountLine(m, "/dev"));
        assertTrue(mountLine(m, "/dev/pts").matches("devpts /dev/pts devpts rw,nosuid,noexec,.*gid=5,mode=620,ptmxmode=666.*"), mountLine(m, "/dev/pts"));
        assertTrue(mountLine(m, "/dev/shm").matches("shm /dev/shm tmpfs rw,nosuid,nodev,noexec,.*size=65536k.*"), mountLine(m, "/dev/shm"));
        assertTrue(mountLine(m, "/dev/mqueue").startsWith("mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec"), m);
        assertTrue(mountLine(m, "/sys").startsWith("sysfs /sys sysfs ro,nosuid,nodev,noexec"), m);
        assertTrue(mountLine(m, "/").contains(" ro,"), "root.readonly: " + mountLine(m, "/"));
    }

    /** podman and Docker give /proc nosuid, noexec, nodev: each is applied. */
    @Test
    void procOptionsOfTheConfigAreApplied() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("cat /proc/self/mounts");
        for (var m : b.config().getAsJsonArray("mounts")) {
            if (m.getAsJsonObject().get("destination").getAsString().equals("/proc")) {
                m.getAsJsonObject().add("options", brig.json.Json.parseQuietly("[\"nosuid\",\"noexec\",\"nodev\"]"));
            }
        }
        String line = mountLine(b.run().expect(0).out(), "/proc");
        assertEquals(Set.of("rw", "nosuid", "nodev", "noexec", "relatime"), options(line), line);
    }

    @Test
    void bindMountsReadOnlyAndReadWrite() throws Exception {
        Path ro = Files.createDirectories(dir.resolve("ro-src")), rw = Files.createDirectories(dir.resolve("rw-src"));
        Files.writeString(ro.resolve("greeting"), "hello\n");
        Path file = Files.writeString(dir.resolve("single-file"), "one file\n");
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh(
                "cat /ro/greeting; touch /ro/x 2>&1 | sed 's/.*: //'; echo written > /rw/out; cat /etc/single");
        b.add("mounts", "{\"destination\":\"/ro\",\"type\":\"bind\",\"source\":\"" + ro + "\",\"options\":[\"bind\",\"ro\"]}");
        b.add("mounts", "{\"destination\":\"/rw\",\"type\":\"none\",\"source\":\"" + rw + "\",\"options\":[\"rbind\",\"rw\"]}");
        b.add("mounts", "{\"destination\":\"/etc/single\",\"type\":\"bind\",\"source\":\"" + file + "\",\"options\":[\"bind\",\"ro\"]}");
        assertEquals("hello\nRead-only file system\none file\n", b.run().expect(0).out());
        assertEquals("written\n", Files.readString(rw.resolve("out")));
        assertFalse(Files.exists(ro.resolve("x")));
    }

    @Test
    void relativeBindSourcesAreInTheBundle() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("cat /data/f");
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/f"), "from the bundle\n");
        b.add("mounts", "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"data\",\"options\":[\"rbind\"]}");
        assertEquals("from the bundle\n", b.run().expect(0).out());
    }

    /** rbind brings the mounts below the source along, bind does not. */
    @Test
    void rbindCarriesSubmounts() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/sub"));
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("grep -c ' /r/sub ' /proc/self/mounts; grep -c ' /n/sub ' /proc/self/mounts");
        b.add("mounts", "{\"destination\":\"/r\",\"type\":\"bind\",\"source\":\"" + src.getParent() + "\",\"options\":[\"rbind\"]}");
        b.add("mounts", "{\"destination\":\"/n\",\"type\":\"bind\",\"source\":\"" + src.getParent() + "\",\"options\":[\"bind\"]}");
        b.write();
        // The submount exists only in a private mount namespace made for this test, never on the host.
        String script = "mount -t tmpfs brigsub " + src + " && exec " + Brig.launcher() + " --root " + b.stateRoot()
                + " run --bundle " + b.dir() + " " + b.id();
        Brig.Result r = Brig.exec(dir, List.of("unshare", "--mount", "--propagation", "private", "sh", "-c", script), null,
                Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 60);
        assertEquals("1\n0\n", r.out(), r.err());
        assertEquals(1, r.exit(), "the container's status: grep -c exits 1 when it counts none\n" + r.err());
    }

    @Test
    void noexecNosuidNodevTakeEffect() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("cp /bin/busybox /scratch/bb && /scratch/bb true 2>&1 | sed 's/.*: //'");
        b.add("mounts", "{\"destination\":\"/scratch\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"noexec\",\"nosuid\",\"nodev\",\"size=4m\"]}");
        assertEquals("Permission denied\n", b.run().expect(0).out());
    }

    @Test
    void propagationOfAMount() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("awk '$5 == \"/shared-here\"' /proc/self/mountinfo | grep -c 'shared:'; awk '$5 == \"/\"' /proc/self/mountinfo | grep -c 'shared:'; true");
        b.add("mounts", "{\"destination\":\"/shared-here\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"rshared\"]}");
        b.set("linux.rootfsPropagation", "\"private\"");
        assertEquals("1\n0\n", b.run().expect(0).out());
    }

    @Test
    void defaultDevicesAndConfiguredOnes() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh(
                "for d in null zero full random urandom tty fuse; do stat -c '%n %F %t:%T %a %u:%g' /dev/$d; done; stat -c '%n %F %a' /dev/pipe; "
                        + "for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done; head -c 4 /dev/zero | od -An -tx1");
        b.add("linux.devices", "{\"path\":\"/dev/fuse\",\"type\":\"c\",\"major\":10,\"minor\":229,\"fileMode\":384,\"uid\":1,\"gid\":2}");
        b.add("linux.devices", "{\"path\":\"/dev/pipe\",\"type\":\"p\",\"fileMode\":420}");
        String out = b.run().expect(0).out();
        assertEquals("""
                /dev/null character special file 1:3 666 0:0
                /dev/zero character special file 1:5 666 0:0
                /dev/full character special file 1:7 666 0:0
                /dev/random character special file 1:8 666 0:0
                /dev/urandom character special file 1:9 666 0:0
                /dev/tty character special file 5:0 666 0:0
                /dev/fuse character special file a:e5 600 1:2
                /dev/pipe fifo 644
                /proc/self/fd
                /proc/self/fd/0
                /proc/self/fd/1
                /proc/self/fd/2
                pts/ptmx
                 00 00 00 00
                """, out);
    }

    @Test
    void maskedPathsAreEmptyAndReadOnlyPathsCannotBeWritten() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh(
                "echo secret: $(wc -c < /secret); echo secretdir: $(ls /secretdir | wc -l); echo keys: $(wc -c < /proc/keys); "
                        + "(echo 1 > /proc/sys/kernel/domainname) 2>&1 | sed 's/.*: //'; "
                        + "touch /frozen/x 2>&1 | sed 's/.*: //'");
        Files.writeString(b.rootfs().resolve("secret"), "do not read\n");
        Files.createDirectories(b.rootfs().resolve("secretdir"));
        Files.writeString(b.rootfs().resolve("secretdir/key"), "k\n");
        Files.createDirectories(b.rootfs().resolve("frozen"));
        b.add("linux.maskedPaths", "\"/secret\"").add("linux.maskedPaths", "\"/secretdir\"").add("linux.readonlyPaths", "\"/frozen\"");
        b.set("root.readonly", "false");
        assertEquals("secret: 0\nsecretdir: 0\nkeys: 0\nRead-only file system\nRead-only file system\n", b.run().expect(0).out());
    }

    @Test
    void readOnlyRootAndWritableRoot() throws Exception {
        TestBundle ro = TestBundle.busybox(dir.resolve("ro")).sh("touch /x 2>&1 | sed 's/.*: //'");
        assertEquals("Read-only file system\n", ro.run().expect(0).out());
        TestBundle rw = TestBundle.busybox(dir.resolve("rw")).sh("touch /x && echo ok");
        rw.set("root.readonly", "false");
        assertEquals("ok\n", rw.run().expect(0).out());
        assertTrue(Files.exists(rw.rootfs().resolve("x")));
    }

    /**
     * --no-pivot moves the rootfs onto / and chroots into it: the container sees the rootfs as
     * its only root, nothing of the way in is left, and the host's root cannot be reached even
     * with CAP_SYS_CHROOT (a chroot without the move could be left through a directory fd that
     * lies outside a second chroot).
     */
    @Test
    void noPivotEntersWithAMoveAndChroot() throws Exception {
        Files.writeString(dir.resolve("host-marker"), "host\n");
        TestBundle b = TestBundle.busybox(dir).sh("echo $$; ls -a /; echo ---; awk '$5 == \"/\" { print $4 }' /proc/self/mountinfo; echo ---; "
                + "exec 3</; chroot /jail /busybox sh -c '/busybox ls /proc/self/fd/3/../../..; /busybox cat /proc/self/fd/3/../host-marker'");
        Files.createDirectories(b.rootfs().resolve("jail/proc"));
        Files.createLink(b.rootfs().resolve("jail/busybox"), b.rootfs().resolve("bin/busybox"));
        b.add("mounts", "{\"destination\":\"/jail/proc\",\"type\":\"proc\",\"source\":\"proc\"}");
        b.set("process.capabilities", "{\"bounding\":[\"CAP_SYS_CHROOT\"],\"effective\":[\"CAP_SYS_CHROOT\"],\"permitted\":[\"CAP_SYS_CHROOT\"]}");
        Brig.Result r = b.run("--no-pivot");
        assertEquals(1, r.exit(), r.out() + r.err());
        String[] parts = r.out().split("---\n");
        assertEquals(3, parts.length, r.out());
        List<String> top;
        try (var s = Files.list(b.rootfs())) {
            top = new java.util.ArrayList<>(s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        top.addAll(0, List.of(".", ".."));
        assertEquals("1\n" + String.join("\n", top) + "\n", parts[0], "pid 1, and exactly the rootfs at /");
        // One mount at /, and it is the bundle's rootfs (its path in the host's filesystem).
        assertEquals(b.rootfs().toString() + "\n", parts[1]);
        // From the rootfs's own root, ".." stays in the rootfs: the old root is covered by it.
        assertEquals(String.join("\n", top.subList(2, top.size())) + "\n", parts[2], r.err());
        assertTrue(r.err().endsWith("can't open '/proc/self/fd/3/../host-marker': No such file or directory\n"), r.err());
    }

    @Test
    void badMountsAreNamed() throws Exception {
        TestBundle opt = TestBundle.busybox(dir.resolve("a")).sh("true");
        opt.add("mounts", "{\"destination\":\"/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"idmap\"]}");
        Brig.Result o = opt.run();
        assertEquals(1, o.exit(), o.err());
        assertEquals("brig: " + opt.dir().resolve("config.json") + ": mounts[7].options: mount option \"idmap\" is not supported yet\n", o.err());
        TestBundle src = TestBundle.busybox(dir.resolve("b")).sh("true");
        src.add("mounts", "{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/nonexistent-brig\",\"options\":[\"bind\"]}");
        Brig.Result sr = src.run();
        assertEquals(1, sr.exit(), sr.err());
        assertEquals("brig: " + src.dir().resolve("config.json") + ": mounts[7].source: /nonexistent-brig: ENOENT: no such file or directory\n", sr.err());
        TestBundle fs = TestBundle.busybox(dir.resolve("c")).sh("true");
        fs.add("mounts", "{\"destination\":\"/x\",\"type\":\"nosuchfs\",\"source\":\"x\"}");
        Brig.Result r = fs.run();
        assertEquals(1, r.exit());
        assertEquals("brig: mount nosuchfs on /x in the container: mount /x: ENODEV: no such device\n", r.err());
    }
}
