package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.layer.TarEntry;
import brig.rootfs.InRoot;
import brig.syscalls.Libc;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import brig.testing.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks a malicious image makes on the host that unpacks it (issue 6): reaching its setuid
 * programs and device nodes through the bundle, and making the host open its FIFOs and devices.
 * The attack is performed for real; the host checks it failed.
 */
class HostileImageTest {
    @TempDir
    Path tmp;

    static final String PASSWD = "root:x:0:0:root:/root:/bin/sh\nsvc:x:100:101:svc:/srv:/bin/sh\n";

    /** A one-layer image named "test" in a new layout. */
    Layout image(String user, Layers layer) throws Exception {
        Layout l = Layout.openOrCreate(tmp.resolve("layout"));
        JsonObject c = new JsonObject();
        c.addProperty("User", user);
        JsonArray cmd = new JsonArray();
        cmd.add("/bin/sh");
        c.add("Cmd", cmd);
        TestImage.of(layer.tar()).config(c).store(l, "test");
        return l;
    }

    void unpack(Layout l, Path bundle) throws Exception {
        Unpacker.unpack(l, Images.inLayout(l, "test", Platform.host()), bundle);
    }

    /** An image with a setuid-root shell and a world-writable device node (/dev/mem's numbers). */
    Layers setuidAndDevice() {
        return new Layers().dir("etc/").file("etc/passwd", PASSWD).dir("bin/").file("bin/suid-sh", "#!/bin/sh\n", 04755, 0, 0)
                .dir("dev/").node("dev/mem", TarEntry.Type.CHAR, 1, 1);
    }

    /** Runs {@code argv} as nobody (uid and gid 65534, no supplementary groups); its exit code. */
    static int asNobody(String... argv) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
        cmd.addAll(List.of(argv));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "setpriv finished");
        return p.exitValue();
    }

    /** Other users can walk from / down to {@code tmp} (JUnit makes it 0700). */
    void openTmpToEveryone() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(0, asNobody("stat", tmp.toString()), "nobody can reach the test's directory");
    }

    void nobodyCannotReachTheImagesSetuidFileOrDevice(Path bundle) throws Exception {
        assertNotEquals(0, asNobody("stat", bundle.resolve("rootfs/bin/suid-sh").toString()), "nobody reaches the setuid-root file");
        assertNotEquals(0, asNobody("stat", bundle.resolve("rootfs/dev/mem").toString()), "nobody reaches the device node");
        assertNotEquals(0, asNobody(bundle.resolve("rootfs/bin/suid-sh").toString()), "nobody runs the setuid-root file");
    }

    @Test
    void anotherUserCannotReachSetuidFilesOrDevicesOfAnImageUnpackedIntoAnExistingOpenDirectory() throws Exception {
        assertTrue(Libc.geteuid() == 0, "runs as root, as the suite does");
        openTmpToEveryone();
        Layout l = image("", setuidAndDevice());
        Path bundle = Files.createDirectory(tmp.resolve("made-by-mkdir"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        try {
            unpack(l, bundle);
        } catch (ImageException e) {
            assertTrue(e.getMessage().contains(bundle.toString()) && e.getMessage().contains("can be entered by other users"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
        nobodyCannotReachTheImagesSetuidFileOrDevice(bundle);
        assertEquals(0755, (int) Files.getAttribute(bundle, "unix:mode") & 07777, "the user's directory keeps its mode");
    }

    @Test
    void anExistingBundleClosedToOthersIsUnpackedAndItsModeKept() throws Exception {
        openTmpToEveryone();
        Layout l = image("", setuidAndDevice());
        // 0711 as an engine makes it for a user-namespaced init: closed by its parent here.
        Path parent = Files.createDirectory(tmp.resolve("engine"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path bundle = Files.createDirectory(parent.resolve("bundle"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        unpack(l, bundle);
        assertTrue(Files.exists(bundle.resolve("rootfs/bin/suid-sh")));
        assertEquals(0711, (int) Files.getAttribute(bundle, "unix:mode") & 07777, "never chmod a bundle someone else made");
        nobodyCannotReachTheImagesSetuidFileOrDevice(bundle);
        Path own = Files.createDirectory(tmp.resolve("own"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        unpack(l, own);
        nobodyCannotReachTheImagesSetuidFileOrDevice(own);
        Path created = tmp.resolve("created");
        unpack(l, created);
        assertEquals(0700, (int) Files.getAttribute(created, "unix:mode") & 07777, "what unpack creates is 0700");
        nobodyCannotReachTheImagesSetuidFileOrDevice(created);
    }

    @Test
    void anExistingBundleOfAnotherUserOrWritableByOthersIsRefused() throws Exception {
        Layout l = image("", setuidAndDevice());
        Path theirs = Files.createDirectory(tmp.resolve("theirs"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setAttribute(theirs, "unix:uid", 65534);
        ImageException e = assertThrows(ImageException.class, () -> unpack(l, theirs));
        assertTrue(e.getMessage().startsWith("bundle " + theirs + " is owned by uid 65534"), e.getMessage());
        assertFalse(Files.exists(theirs.resolve("rootfs")), "nothing unpacked");
        Path writable = Files.createDirectory(tmp.resolve("writable"));
        Files.setPosixFilePermissions(writable, PosixFilePermissions.fromString("rwxrwxrwx"));
        e = assertThrows(ImageException.class, () -> unpack(l, writable));
        assertTrue(e.getMessage().startsWith("bundle " + writable + " is writable by other users (mode 0777)"), e.getMessage());
        assertFalse(Files.exists(writable.resolve("rootfs")), "nothing unpacked");
    }

    @Test
    void anImageWhosePasswdIsAFifoDoesNotHangUnpack() throws Exception {
        Layout l = image("svc", new Layers().dir("etc/").node("etc/passwd", TarEntry.Type.FIFO, 0, 0));
        Path bundle = tmp.resolve("bundle");
        ImageException e;
        try {
            e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(ImageException.class, () -> unpack(l, bundle)),
                    "unpack hangs on the image's FIFO");
        } finally {
            unblock(tmp.resolve("bundle/rootfs/etc/passwd"));
        }
        assertEquals("image config User \"svc\": the image's /etc/passwd is not a regular file (a FIFO); refused without opening it",
                e.getMessage());
        assertFalse(Files.exists(bundle), "nothing half-made is left");
    }

    /** Releases a reader stuck opening the FIFO (old code), so a failed run ends. */
    static void unblock(Path fifo) {
        try {
            Libc.close(Libc.open(fifo.toString(), Libc.O_WRONLY | Libc.O_NONBLOCK, 0));
        } catch (Exception ignored) {
            // no reader, or no FIFO: nothing is stuck
        }
    }

    @Test
    void anImageWhoseGroupIsATtyDeviceIsNeverOpened() throws Exception {
        assertTrue(Libc.geteuid() == 0, "device nodes are made as root");
        // /dev/tty: opening it without a controlling terminal fails with ENXIO, so "not a
        // regular file" (not ENXIO) shows that the host never opened the image's device.
        Layout l = image("svc", new Layers().dir("etc/").file("etc/passwd", PASSWD).node("etc/group", TarEntry.Type.CHAR, 5, 0));
        Path bundle = tmp.resolve("bundle");
        ImageException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(ImageException.class, () -> unpack(l, bundle)));
        assertEquals("image config User \"svc\": the image's /etc/group is not a regular file (a character device); refused without opening it",
                e.getMessage());
        assertFalse(Files.exists(bundle), "nothing half-made is left");
    }

    @Test
    void inRootReadsOnlyRegularFilesAndBoundsTheirSize() throws Exception {
        Path rootfs = Files.createDirectories(tmp.resolve("rootfs/etc"));
        Libc.mkfifo(rootfs.resolve("fifo").toString(), 0600);
        Files.writeString(rootfs.resolve("big"), "x".repeat(100));
        Files.createSymbolicLink(rootfs.resolve("link"), Path.of("/etc/../../../etc/fifo"));
        Path r = tmp.resolve("rootfs");
        InRoot.NotRegularFile n = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(InRoot.NotRegularFile.class, () -> InRoot.read(r, "/etc/link", 10)));
        assertEquals("/etc/link: not a regular file (a FIFO), not opened", n.getMessage());
        assertThrows(InRoot.NotRegularFile.class, () -> InRoot.read(r, "/etc", 10));
        var big = assertThrows(brig.syscalls.SyscallException.class, () -> InRoot.read(r, "/etc/big", 99));
        assertEquals("EFBIG", big.errnoName(), big.getMessage());
        assertEquals(100, InRoot.read(r, "/etc/big", 100).length);
    }
    // ---- parser denial of service: extended-header chains and compression bombs ----

    /** A ustar header block; its data (if any) follows, padded by the caller. */
    static byte[] header(String name, char type, long size) {
        byte[] h = new byte[512];
        put(h, 0, name);
        put(h, 100, "0000644");
        put(h, 108, "0000000");
        put(h, 116, "0000000");
        put(h, 124, String.format("%011o", size));
        put(h, 136, "00000000000");
        h[156] = (byte) type;
        put(h, 257, "ustar");
        put(h, 263, "00");
        for (int k = 148; k < 156; k++) h[k] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        put(h, 148, String.format("%06o", sum));
        h[154] = 0;
        return h;
    }

    private static void put(byte[] h, int off, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, off, b.length);
    }

    /** A PAX 'x' header carrying one record of about {@code bytes} bytes. */
    static void pax(java.io.ByteArrayOutputStream out, int bytes) throws Exception {
        String rec = " comment=" + "x".repeat(bytes - 40) + "\n";
        int len = rec.length() + 1;
        while (len != rec.length() + Integer.toString(len).length()) len = rec.length() + Integer.toString(len).length();
        String full = len + rec;
        byte[] d = full.getBytes(StandardCharsets.US_ASCII);
        out.write(header("PaxHeaders/x", 'x', d.length));
        out.write(d);
        out.write(new byte[(512 - d.length % 512) % 512]);
    }

    static byte[] endOfArchive() {
        return new byte[1024];
    }

    Layout rawImage(byte[] blob, String type, byte[] diff) throws Exception {
        Layout l = Layout.openOrCreate(tmp.resolve("layout"));
        TestImage.of().rawLayer(blob, type, Digest.of(diff).toString()).config(new JsonObject()).store(l, "test");
        return l;
    }

    String refusedLayer(byte[] tar, boolean gzip) throws Exception {
        byte[] blob = gzip ? UnpackTest.gzip(tar) : tar;
        Layout l = rawImage(blob, gzip ? MediaType.OCI_LAYER_GZIP : MediaType.OCI_LAYER, tar);
        String layer = Images.inLayout(l, "test", Platform.host()).manifest().layers().get(0).digest().toString();
        Path bundle = tmp.resolve("bundle");
        ImageException e = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertThrows(ImageException.class, () -> unpack(l, bundle)));
        assertTrue(e.getMessage().startsWith("layer " + layer + ": "), e.getMessage());
        assertFalse(Files.exists(bundle), "nothing half-made is left");
        return e.getMessage().substring(("layer " + layer + ": ").length());
    }

    @Test
    void aChainOfPaxHeadersBeforeOneEntryIsCapped() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        for (int k = 0; k < 4; k++) pax(out, 600_000); // each under the 1 MiB limit of one header
        out.write(header("f", '0', 0));
        out.write(endOfArchive());
        assertEquals("tar entry 1: more than 1048576 bytes of extended headers (PAX records, GNU long names)", refusedLayer(out.toByteArray(), false));
    }

    @Test
    void aChainOfGnuLongNamesBeforeOneEntryIsCapped() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        byte[] name = ("n".repeat(4000) + "\0").getBytes(StandardCharsets.US_ASCII);
        for (int k = 0; k < 300; k++) {
            out.write(header("././@LongLink", 'L', name.length));
            out.write(name);
            out.write(new byte[(512 - name.length % 512) % 512]);
        }
        out.write(header("f", '0', 0));
        out.write(endOfArchive());
        assertEquals("tar entry 1: more than 1048576 bytes of extended headers (PAX records, GNU long names)", refusedLayer(out.toByteArray(), false));
    }

    @Test
    void extendedHeadersAcrossALayerAreCapped() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        for (int k = 0; k < 20; k++) {
            pax(out, 900_000);
            out.write(header("f" + k, '0', 0));
        }
        out.write(endOfArchive());
        String e = refusedLayer(out.toByteArray(), false);
        assertTrue(e.startsWith("more than 16777216 bytes of extended headers (PAX records, GNU long names) in one layer"), e);
    }

    @Test
    void aCompressionBombInDataThatIsNeverWrittenIsCapped() throws Exception {
        // A directory claiming 1 TiB of data: nothing is written, so no free-space check stops
        // the inflating; 65 MiB of zeros compress to 65 KiB.
        var out = new java.io.ByteArrayOutputStream();
        out.write(header("d/", '5', 1L << 40));
        out.write(new byte[65 << 20]);
        String e = refusedLayer(out.toByteArray(), true);
        assertTrue(e.startsWith("tar entry 1: more than 67108864 bytes of entry data that is not extracted"), e);
    }

    @Test
    void aCompressionBombAfterTheEndOfTheArchiveIsCapped() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        out.write(header("f", '0', 0));
        out.write(endOfArchive());
        out.write(new byte[17 << 20]);
        assertEquals("more than 16777216 bytes after the end of its tar archive", refusedLayer(out.toByteArray(), true));
    }
}
