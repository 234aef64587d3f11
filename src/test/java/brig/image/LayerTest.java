package brig.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.layer.Compression;
import brig.layer.Extractor;
import brig.layer.LayerException;
import brig.layer.TarEntry;
import brig.syscalls.Libc;
import brig.testing.NoLeaks;
import brig.testing.Tools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Applying layers to a rootfs: what a well-formed layer makes, and that hostile entries are
 * refused or confined to the rootfs, never written outside it.
 */
class LayerTest {
    @TempDir
    Path tmp;
    Path rootfs, outside;

    @BeforeEach
    void setUp() throws IOException {
        rootfs = Files.createDirectories(tmp.resolve("bundle/rootfs"));
        outside = Files.createDirectories(tmp.resolve("outside")); // what an escape would reach
        Files.writeString(outside.resolve("secret"), "host secret\n");
    }

    static boolean root() {
        return Libc.geteuid() == 0;
    }

    void apply(Layers... layers) throws Exception {
        try (Extractor x = new Extractor(rootfs, root())) {
            for (int k = 0; k < layers.length; k++) x.apply(new ByteArrayInputStream(layers[k].tar()), "test-" + k);
        }
    }

    LayerException refused(Layers l) {
        return assertThrows(LayerException.class, () -> apply(l));
    }

    void outsideUntouched() throws IOException {
        try (var s = Files.list(outside)) {
            assertEquals(1, s.count(), "nothing may appear outside the rootfs");
        }
        assertEquals("host secret\n", Files.readString(outside.resolve("secret")));
        try (var s = Files.list(tmp.resolve("bundle"))) {
            assertEquals(1, s.count(), "nothing may appear beside the rootfs");
        }
    }

    /** How an absolute path of the host looks from inside the rootfs, for symlinks that aim at it. */
    String hostPath(Path p) {
        return p.toAbsolutePath().toString();
    }

    @Test
    void regularLayerMakesFilesDirsLinksWithModesAndTimes() throws Exception {
        apply(new Layers().dir("etc/").file("etc/hostname", "brig\n", 0640, 0, 0).dir("bin/", 0711)
                .file("bin/tool", "#!/bin/sh\n", 04755, 0, 0).symlink("bin/sh", "tool").hardlink("bin/tool2", "bin/tool")
                .file("/abs/name", "absolute names are legal\n"));
        assertEquals("brig\n", Files.readString(rootfs.resolve("etc/hostname")));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(rootfs.resolve("etc/hostname"))));
        assertEquals("tool", Files.readSymbolicLink(rootfs.resolve("bin/sh")).toString());
        Libc.Stat tool = Libc.statx(Libc.AT_FDCWD, rootfs.resolve("bin/tool").toString(), 0);
        assertEquals(2, tool.nlink(), "hard link");
        assertEquals(04755, tool.mode() & 07777, "setuid survives chown");
        assertEquals(Layers.MTIME / 1_000_000_000L, tool.mtimeSec());
        Libc.Stat bin = Libc.statx(Libc.AT_FDCWD, rootfs.resolve("bin").toString(), 0);
        assertEquals(0711, bin.mode() & 07777);
        assertEquals(Layers.MTIME / 1_000_000_000L, bin.mtimeSec(), "directory times are set after their contents");
        assertEquals("absolute names are legal\n", Files.readString(rootfs.resolve("abs/name")));
        outsideUntouched();
    }

    @Test
    void ownershipDevicesFifosXattrsAndFileCapabilities() throws Exception {
        Assumptions.assumeTrue(root(), "needs root");
        // VFS_CAP_REVISION_2 with CAP_NET_RAW (13) permitted and effective
        byte[] cap = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt(0x02000001).putInt(1 << 13).putInt(0).putInt(0).putInt(0).array();
        apply(new Layers().file("owned", "x", 0600, 1234, 5678).node("dev/null", TarEntry.Type.CHAR, 1, 3)
                .node("dev/loop9", TarEntry.Type.BLOCK, 7, 9).node("run/fifo", TarEntry.Type.FIFO, 0, 0)
                .file("bin/ping", "ELF".getBytes(StandardCharsets.UTF_8), Map.of("security.capability", cap, "user.brig", "yes".getBytes(StandardCharsets.UTF_8))));
        Libc.Stat owned = Libc.statx(Libc.AT_FDCWD, rootfs.resolve("owned").toString(), 0);
        assertEquals(1234, owned.uid());
        assertEquals(5678, owned.gid());
        Libc.Stat nul = Libc.statx(Libc.AT_FDCWD, rootfs.resolve("dev/null").toString(), Libc.AT_SYMLINK_NOFOLLOW);
        assertEquals(Libc.S_IFCHR, nul.mode() & Libc.S_IFMT);
        assertEquals(0620, nul.mode() & 07777);
        assertEquals(5, nul.gid());
        assertEquals(Libc.S_IFBLK, Libc.statx(Libc.AT_FDCWD, rootfs.resolve("dev/loop9").toString(), 0).mode() & Libc.S_IFMT);
        assertEquals(Libc.S_IFIFO, Libc.statx(Libc.AT_FDCWD, rootfs.resolve("run/fifo").toString(), 0).mode() & Libc.S_IFMT);
        UserDefinedFileAttributeView v = Files.getFileAttributeView(rootfs.resolve("bin/ping"), UserDefinedFileAttributeView.class);
        ByteBuffer b = ByteBuffer.allocate(16);
        v.read("brig", b);
        assertEquals("yes", new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
        Tools.require("libcap2-bin", "/usr/sbin/getcap");
        Process p = new ProcessBuilder("/usr/sbin/getcap", rootfs.resolve("bin/ping").toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out.contains("cap_net_raw=ep"), "file capability set from the binary PAX xattr: " + out);
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesHideLowerLayers() throws Exception {
        apply(new Layers().dir("a/").file("a/f1", "1").file("a/f2", "2").dir("b/").file("b/x", "x").dir("b/sub/").file("b/sub/deep", "d")
                        .file("c", "c"),
                new Layers().file("a/.wh.f1", "").dir("b/").file("b/.wh..wh..opq", "").file("b/y", "y").file(".wh.c", "")
                        .file("a/.wh.nothing-there", ""));
        assertFalse(Files.exists(rootfs.resolve("a/f1")));
        assertTrue(Files.exists(rootfs.resolve("a/f2")));
        assertFalse(Files.exists(rootfs.resolve("b/x")));
        assertFalse(Files.exists(rootfs.resolve("b/sub")));
        assertEquals("y", Files.readString(rootfs.resolve("b/y")));
        assertFalse(Files.exists(rootfs.resolve("c")));
        assertFalse(Files.exists(rootfs.resolve("a/.wh.f1")), "whiteout markers are not files");
    }

    @Test
    void opaqueMarkerAfterItsSiblingsKeepsWhatThisLayerWrote() throws Exception {
        apply(new Layers().dir("d/").file("d/old", "o"), new Layers().dir("d/").file("d/new", "n").file("d/.wh..wh..opq", ""));
        assertFalse(Files.exists(rootfs.resolve("d/old")));
        assertEquals("n", Files.readString(rootfs.resolve("d/new")));
    }

    @Test
    void laterLayersReplaceFilesDirsAndLinks() throws Exception {
        apply(new Layers().file("f", "old").dir("d/").file("d/in", "x").symlink("l", "f"),
                new Layers().dir("f/").file("d", "now a file").file("l", "now a file too"));
        assertTrue(Files.isDirectory(rootfs.resolve("f")));
        assertEquals("now a file", Files.readString(rootfs.resolve("d")));
        assertFalse(Files.isSymbolicLink(rootfs.resolve("l")));
    }

    @Test
    void usrmergeSymlinksAreFollowedInsideTheRootfs() throws Exception {
        apply(new Layers().dir("usr/").dir("usr/lib/").symlink("lib", "usr/lib").symlink("lib64", "/usr/lib"),
                new Layers().file("lib/libc.so", "c").file("lib64/ld.so", "ld").dir("lib/modules/"));
        assertTrue(Files.isSymbolicLink(rootfs.resolve("lib")), "the symlink stays a symlink");
        assertEquals("c", Files.readString(rootfs.resolve("usr/lib/libc.so")));
        assertEquals("ld", Files.readString(rootfs.resolve("usr/lib/ld.so")), "absolute symlinks resolve in the rootfs");
        assertTrue(Files.isDirectory(rootfs.resolve("usr/lib/modules")));
    }

    @Test
    void dotDotClimbingOutIsRefused() throws Exception {
        LayerException e = refused(new Layers().file("../outside/pwned", "x"));
        assertTrue(e.getMessage().contains("climbs out"), e.getMessage());
        e = refused(new Layers().file("a/../../../outside/pwned", "x"));
        assertTrue(e.getMessage().contains("entry a/../../../outside/pwned"), e.getMessage());
        outsideUntouched();
    }

    @Test
    void dotDotInsideTheRootfsIsFine() throws Exception {
        apply(new Layers().file("a/b/../c", "ok"));
        assertEquals("ok", Files.readString(rootfs.resolve("a/c")));
    }

    @Test
    void writingThroughASymlinkThatPointsOutsideStaysInside() throws Exception {
        apply(new Layers().symlink("abs", hostPath(outside)).symlink("rel", "../../../../../../../../" + hostPath(outside))
                .file("abs/pwned", "1").file("rel/pwned2", "2").dir("abs/newdir/").file("abs/newdir/f", "3"));
        outsideUntouched();
        // the container sees /<host path>/pwned inside its own root: that is where it went
        assertEquals("1", Files.readString(rootfs.resolve(hostPath(outside).substring(1)).resolve("pwned")));
        assertEquals("2", Files.readString(rootfs.resolve(hostPath(outside).substring(1)).resolve("pwned2")));
    }

    /**
     * Victims on the host, outside any rootfs (under /tmp, named with the test run's prefix): a
     * file, a directory with a file, and a bystander. Returns the directory holding them.
     */
    static Path plantVictims() throws IOException {
        Path v = Files.createDirectory(Path.of("/tmp", NoLeaks.PREFIX + "victims-" + System.nanoTime()));
        Files.writeString(v.resolve("victim"), "host file\n");
        Files.createDirectory(v.resolve("victimdir"));
        Files.writeString(v.resolve("victimdir/inner"), "host dir\n");
        Files.writeString(v.resolve("bystander"), "host bystander\n");
        return v;
    }

    static void victimsSurvive(Path v) throws IOException {
        assertTrue(Files.exists(v.resolve("victim")), "a whiteout deleted the host file " + v.resolve("victim") + " through a symlink");
        assertTrue(Files.exists(v.resolve("victimdir/inner")), "a whiteout deleted the host directory " + v.resolve("victimdir") + " through a symlink");
        assertTrue(Files.exists(v.resolve("bystander")), "an opaque marker emptied the host directory " + v + " through a symlink");
        assertEquals("host file\n", Files.readString(v.resolve("victim")));
        assertEquals("host dir\n", Files.readString(v.resolve("victimdir/inner")));
        assertEquals("host bystander\n", Files.readString(v.resolve("bystander")));
        try (var s = Files.list(v)) {
            assertEquals(3, s.count(), "nothing added or removed beside the victims");
        }
    }

    @Test
    void whiteoutsAndOpaqueMarkersThroughSymlinksToTheHostDeleteNothingOutside() throws Exception {
        Path victims = plantVictims();
        String inside = victims.toString().substring(1); // where the same path is, seen from inside the rootfs
        try {
            // The container's own copies at the path the symlinks name: whiteouts must act on these.
            Layers base = new Layers().file(inside + "/victim", "image file").dir(inside + "/victimdir/").file(inside + "/victimdir/inner", "image dir")
                    .file(inside + "/bystander", "image bystander")
                    .symlink("abs", victims.toString()) // absolute
                    .symlink("rel", "../../../../../../../.." + victims) // climbing
                    .symlink("tmp2", "/tmp") // an intermediate component
                    .symlink("a/b/up", "../../../../../../../../tmp") // relative, from deeper down
                    .symlink("victimlink", victims.resolve("victim").toString()); // the last component itself
            Layers hostile = new Layers().file("abs/.wh.victim", "").file("abs/.wh.victimdir", "").file("rel/.wh.victim", "")
                    .file("tmp2/" + victims.getFileName() + "/.wh.victimdir", "").file("a/b/up/" + victims.getFileName() + "/.wh.victim", "")
                    .file("rel/.wh..wh..opq", "").file(".wh.victimlink", "");
            apply(base, hostile);
            victimsSurvive(victims);
            // the whiteouts did act, inside the rootfs, on the paths as the container sees them
            assertFalse(Files.exists(rootfs.resolve(inside).resolve("victim"), LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.exists(rootfs.resolve(inside).resolve("victimdir"), LinkOption.NOFOLLOW_LINKS));
            assertFalse(Files.exists(rootfs.resolve(inside).resolve("bystander"), LinkOption.NOFOLLOW_LINKS), "opaque emptied the rootfs's copy");
            assertFalse(Files.exists(rootfs.resolve("victimlink"), LinkOption.NOFOLLOW_LINKS), "the symlink itself is whited out");
            assertTrue(Files.isSymbolicLink(rootfs.resolve("abs")), "the symlinks themselves stay");

            // The same within one layer, with nothing of the image's at the target: whiteouts
            // and the opaque marker find nothing inside, and must not look outside.
            Path other = Files.createDirectories(tmp.resolve("other/rootfs"));
            try (Extractor x = new Extractor(other, root())) {
                x.apply(new ByteArrayInputStream(new Layers().symlink("etc", victims.toString()).symlink("up", "../../../../../../.." + victims)
                        .file("etc/.wh.victim", "").file("etc/.wh.victimdir", "").file("up/.wh.victim", "").file("etc/.wh..wh..opq", "")
                        .file("up/.wh..wh..opq", "").tar()), "one-layer");
            }
            victimsSurvive(victims);
            outsideUntouched();
        } finally {
            brig.image.Unpacker.removeTree(victims);
        }
    }

    @Test
    void aFileEntryReplacesASymlinkInsteadOfWritingThroughIt() throws Exception {
        apply(new Layers().symlink("secret", hostPath(outside.resolve("secret"))), new Layers().file("secret", "replaced"));
        outsideUntouched();
        assertFalse(Files.isSymbolicLink(rootfs.resolve("secret")));
        assertEquals("replaced", Files.readString(rootfs.resolve("secret")));
    }

    @Test
    void hardLinksToOutsideAreRefusedOrConfined() throws Exception {
        long links = Libc.statx(Libc.AT_FDCWD, outside.resolve("secret").toString(), 0).nlink();
        LayerException e = refused(new Layers().hardlink("hl", "../outside/secret"));
        assertTrue(e.getMessage().contains("climbs out"), e.getMessage());
        e = refused(new Layers().hardlink("hl2", hostPath(outside.resolve("secret"))));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        e = refused(new Layers().symlink("out", hostPath(outside)).hardlink("hl3", "out/secret"));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertEquals(links, Libc.statx(Libc.AT_FDCWD, outside.resolve("secret").toString(), 0).nlink(), "no new link to the host file");
        outsideUntouched();
    }

    @Test
    void absurdSizesAreRefusedBeforeWriting() throws Exception {
        byte[] tar = Layers.lying("huge", 1L << 50, 4096);
        try (Extractor x = new Extractor(rootfs, root())) {
            LayerException e = assertThrows(LayerException.class, () -> x.apply(new ByteArrayInputStream(tar), "huge"));
            assertTrue(e.getMessage().contains("exceeds the free space"), e.getMessage());
        }
        assertFalse(Files.exists(rootfs.resolve("huge")));
    }

    @Test
    void truncatedLayersAreErrors() throws Exception {
        byte[] tar = Layers.lying("short", 100_000, 512);
        try (Extractor x = new Extractor(rootfs, root())) {
            LayerException e = assertThrows(LayerException.class, () -> x.apply(new ByteArrayInputStream(tar), "short"));
            assertTrue(e.getMessage().contains("unexpected end"), e.getMessage());
        }
    }

    @Test
    void aLayerEndingRightAfterItsLastFilesDataIsReadAsUmociInsertWritesIt() throws Exception {
        byte[] full = new Layers().file("etc/first", "first\n").file("etc/inserted", "inserted by umoci\n").tar();
        int end = indexOf(full, "inserted by umoci\n".getBytes(StandardCharsets.UTF_8)) + "inserted by umoci\n".length();
        // umoci 0.4's insert: no padding after the data, no end-of-archive blocks
        try (Extractor x = new Extractor(rootfs, root())) {
            x.apply(new ByteArrayInputStream(java.util.Arrays.copyOf(full, end)), "umoci-insert");
        }
        assertEquals("inserted by umoci\n", Files.readString(rootfs.resolve("etc/inserted")));
        assertEquals("first\n", Files.readString(rootfs.resolve("etc/first")));
        // but data cut short is still an error
        Path other = Files.createDirectories(tmp.resolve("other"));
        try (Extractor x = new Extractor(other, root())) {
            LayerException e = assertThrows(LayerException.class, () -> x.apply(new ByteArrayInputStream(java.util.Arrays.copyOf(full, end - 3)), "cut"));
            assertTrue(e.getMessage().contains("unexpected end"), e.getMessage());
        }
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void garbageIsNotATar() throws Exception {
        byte[] junk = new byte[1024];
        java.util.Arrays.fill(junk, (byte) 'A');
        try (Extractor x = new Extractor(rootfs, root())) {
            LayerException e = assertThrows(LayerException.class, () -> x.apply(new ByteArrayInputStream(junk), "junk"));
            assertTrue(e.getMessage().contains("not a tar archive"), e.getMessage());
        }
    }

    @Test
    void gzipAndZstdAreDecompressed() throws Exception {
        byte[] tar = new Layers().file("gz", "gzip").tar();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
            g.write(tar);
        }
        try (Extractor x = new Extractor(rootfs, root())) {
            x.apply(Compression.decompressed(new ByteArrayInputStream(gz.toByteArray())), "gz");
            Tools.require("zstd", "/usr/bin/zstd");
            Path plain = tmp.resolve("l.tar");
            Files.write(plain, new Layers().file("zst", "zstd").tar());
            Process p = new ProcessBuilder("/usr/bin/zstd", "-q", "-f", plain.toString(), "-o", tmp.resolve("l.tar.zst").toString()).inheritIO().start();
            assertEquals(0, p.waitFor());
            x.apply(Compression.decompressed(Files.newInputStream(tmp.resolve("l.tar.zst"))), "zst");
        }
        assertEquals("gzip", Files.readString(rootfs.resolve("gz")));
        assertEquals("zstd", Files.readString(rootfs.resolve("zst")));
    }

    @Test
    void userLookupIsConfinedToTheRootfs() throws Exception {
        apply(new Layers().dir("etc/").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
                .file("etc/group", "root:x:0:\napp:x:1000:\nwheel:x:10:app\nstaff:x:50:other,app\n"));
        Users.User u = Users.resolve(rootfs, "app");
        assertEquals(new Users.User(1000, 1000, java.util.List.of(10L, 50L), "/home/app"), u);
        assertEquals(1000, Users.resolve(rootfs, "1000:wheel").uid());
        assertEquals(10, Users.resolve(rootfs, "1000:wheel").gid());
        assertEquals(4321, Users.resolve(rootfs, "4321").uid(), "numeric users need no passwd entry");
        ImageException e = assertThrows(ImageException.class, () -> Users.resolve(rootfs, "nobody"));
        assertTrue(e.getMessage().contains("no user \"nobody\""), e.getMessage());

        // /etc/passwd pointing at a host file resolves inside the rootfs, where there is none
        Path other = Files.createDirectories(tmp.resolve("other/rootfs"));
        Files.createDirectories(other.resolve("etc"));
        Files.writeString(outside.resolve("passwd"), "evil:x:0:0::/:/bin/sh\n");
        Files.createSymbolicLink(other.resolve("etc/passwd"), outside.resolve("passwd"));
        e = assertThrows(ImageException.class, () -> Users.resolve(other, "evil"));
        assertTrue(e.getMessage().contains("no user \"evil\""), e.getMessage());
        Files.delete(outside.resolve("passwd"));
    }

    @Test
    void paxAndGnuLongNamesAreRead() throws Exception {
        String longName = "d/" + "n".repeat(150) + "/" + "f".repeat(120);
        apply(new Layers().file(longName, "long").symlink("s", "t/" + "x".repeat(200)));
        assertEquals("long", Files.readString(rootfs.resolve(longName)));
        assertEquals("t/" + "x".repeat(200), Files.readSymbolicLink(rootfs.resolve("s")).toString());
        assertTrue(Files.exists(rootfs.resolve("s"), LinkOption.NOFOLLOW_LINKS));
    }
}
