package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.syscalls.Libc;
import brig.testing.NoLeaks;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The shared layer store (issue 12): one directory per diff id, whiteouts in overlay's form. */
@ExtendWith(NoLeaks.class)
class LayerStoreIT {
    @TempDir Path tmp;
    Layout store;
    LayerStore layers;

    @BeforeEach
    void store() throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "the layer store needs root");
        store = Layout.openOrCreate(tmp.resolve("store"));
        layers = LayerStore.of(store);
    }

    static final int S_IFMT = 0170000, S_IFCHR = 0020000;

    static int mode(Path p) throws Exception {
        return (int) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }

    static long inode(Path p) throws Exception {
        return (long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    /** An xattr's value as text, or null (Java's own views only reach user.*). */
    static String xattr(Path p, String name) throws Exception {
        Process pr = new ProcessBuilder("python3", "-c", "import os,sys\ntry: sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())\n"
                + "except OSError: sys.stdout.write('<none>')", p.toString(), name).start();
        String out = new String(pr.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, pr.waitFor());
        return out.equals("<none>") ? null : out;
    }

    static List<String> names(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesAreKeptInOverlayForm() throws Exception {
        Image img = CowImages.image(store, "cow", List.of(CowImages.busyboxLayer(tmp), CowImages.deletingLayer()), List.of("sh"));
        List<Path> dirs = layers.ensure(store, img);
        assertEquals(2, dirs.size());
        Path base = dirs.get(0), top = dirs.get(1);
        assertEquals(layers.path(img.config().diffIds().get(0)), base);
        // The layer below keeps its file: a layer cannot delete from another directory.
        assertEquals("from the base layer\n", Files.readString(base.resolve("etc/base-file")));
        // The whiteout is a 0/0 character device under the deleted name.
        Path wh = top.resolve("etc/base-file");
        assertEquals(S_IFCHR, mode(wh) & S_IFMT, "whiteout is a character device");
        assertEquals(0L, ((Number) Files.getAttribute(wh, "unix:rdev", LinkOption.NOFOLLOW_LINKS)).longValue());
        assertFalse(Files.exists(top.resolve("etc/.wh.base-file"), LinkOption.NOFOLLOW_LINKS));
        // The opaque directory has the xattr, its marker file is not there, its new file is.
        assertEquals("y", xattr(top.resolve("opt/keep"), "trusted.overlay.opaque"));
        assertEquals(List.of("c"), names(top.resolve("opt/keep")));
        assertEquals(List.of("a", "b"), names(base.resolve("opt/keep")));
        assertEquals(null, xattr(top.resolve("etc"), "trusted.overlay.opaque"));
    }

    @Test
    void aLayerSharedByTwoImagesIsUnpackedOnce() throws Exception {
        byte[] bb = CowImages.busyboxLayer(tmp);
        Image one = CowImages.image(store, "one", List.of(bb, new Layers().dir("etc/").file("etc/one", "1\n").tar()), List.of("sh"));
        Path shared = layers.ensure(store, one).get(0);
        long dirInode = inode(shared), fileInode = inode(shared.resolve("bin/busybox"));
        Image two = CowImages.image(store, "two", List.of(bb, new Layers().dir("etc/").file("etc/two", "2\n").tar()), List.of("sh"));
        List<Path> dirs = layers.ensure(store, two);
        assertEquals(shared, dirs.get(0), "one directory per diff id");
        assertEquals(dirInode, inode(dirs.get(0)), "not unpacked again");
        assertEquals(fileInode, inode(dirs.get(0).resolve("bin/busybox")));
        assertEquals(3, names(layers.dir().resolve("sha256")).size(), "the shared layer and each image's own");
    }

    @Test
    void concurrentUnpacksOfOneLayerMakeOneDirectory() throws Exception {
        Image img = CowImages.image(store, "cow", List.of(CowImages.busyboxLayer(tmp)), List.of("sh"));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Path>> all = new ArrayList<>();
            Callable<Path> unpack = () -> layers.ensure(store, img).get(0);
            for (int k = 0; k < 4; k++) all.add(pool.submit(unpack));
            Path first = all.get(0).get(120, TimeUnit.SECONDS);
            for (Future<Path> f : all) assertEquals(first, f.get(120, TimeUnit.SECONDS));
            assertEquals(List.of(first.getFileName().toString()), names(layers.dir().resolve("sha256")));
            assertEquals(List.of(), names(layers.dir().resolve("tmp")), "the losers removed their copies");
            assertTrue(Files.isRegularFile(first.resolve("bin/busybox")));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aHostileLayerIsStillRefusedAndLeavesNothing() throws Exception {
        Image climbing = CowImages.image(store, "climb", List.of(new Layers().file("../../escaped", "x").tar()), List.of("sh"));
        ImageException e = assertThrows(ImageException.class, () -> layers.ensure(store, climbing));
        assertTrue(e.getMessage().contains("climbs out of the rootfs"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("escaped")));
        assertFalse(layers.has(climbing.config().diffIds().get(0)));
        assertEquals(List.of(), names(layers.dir().resolve("tmp")));

        // A symlink out of the layer, then a file through it: lands inside the layer's directory.
        Image through = CowImages.image(store, "through", List.of(new Layers().symlink("etc", tmp.toString()).file("etc/owned", "x").tar()),
                List.of("sh"));
        Path d = layers.ensure(store, through).get(0);
        assertFalse(Files.exists(tmp.resolve("owned")), "nothing written outside the layer");
        assertTrue(Files.exists(d.resolve(tmp.toString().substring(1)).resolve("owned")));

        // A layer may not set overlay's own xattrs: they would hide or redirect the layers below.
        Image sneaky = CowImages.image(store, "sneaky", List.of(new Layers().dir("etc/")
                .file("etc/f", new byte[] {1}, Map.of("trusted.overlay.redirect", "/x".getBytes(), "user.kept", "k".getBytes())).tar()), List.of("sh"));
        Path s = layers.ensure(store, sneaky).get(0);
        assertEquals(null, xattr(s.resolve("etc/f"), "trusted.overlay.redirect"));

        // A wrong diff id (the config lies about the content): refused, nothing at either name.
        byte[] real = new Layers().file("f", "real").tar();
        Descriptor blob = store.putBlob(real, MediaType.OCI_LAYER);
        Digest claimed = Digest.of("other".getBytes());
        ImageException wrong = assertThrows(ImageException.class, () -> layers.ensure(store, blob, claimed));
        assertTrue(wrong.getMessage().contains("diff id"), wrong.getMessage());
        assertFalse(layers.has(claimed));
        assertFalse(layers.has(Digest.of(real)));
        assertEquals(List.of(), names(layers.dir().resolve("tmp")));
    }

    @Test
    void aCrashMidUnpackLeavesNothingThatLooksComplete() throws Exception {
        byte[] bb = CowImages.busyboxLayer(tmp);
        Image img = CowImages.image(store, "cow", List.of(bb), List.of("sh"));
        Digest diff = img.config().diffIds().get(0);
        // The blob becomes a FIFO: the unpacking process gets half of it, then is killed.
        Path blob = store.blobPath(img.manifest().layers().get(0).digest());
        Files.delete(blob);
        Libc.mkfifo(blob.toString(), 0600);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                UnpackChild.class.getName(), store.dir().toString(), "cow")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("child.log").toFile()).start();
        try (OutputStream out = Files.newOutputStream(blob)) {
            out.write(bb, 0, bb.length / 2);
            out.flush();
            Path tmpRoot = layers.dir().resolve("tmp");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(Files.isDirectory(tmpRoot) && names(tmpRoot).size() == 1 && Files.exists(tmpRoot.resolve(names(tmpRoot).get(0)).resolve("bin/busybox")))) {
                assertTrue(child.isAlive(), "the child is unpacking: " + Files.readString(tmp.resolve("child.log")));
                assertTrue(System.nanoTime() < deadline, "the child started unpacking");
                Thread.sleep(20);
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } catch (java.io.IOException broken) {
            // the reader died: expected when the kill comes first
        } finally {
            child.destroyForcibly();
        }
        assertFalse(layers.has(diff), "no directory at the layer's name");
        assertFalse(Files.exists(layers.path(diff), LinkOption.NOFOLLOW_LINKS));
        assertEquals(1, names(layers.dir().resolve("tmp")).size(), "only the dead unpack's temp directory");

        // The next unpack does the whole layer and clears the dead one's leftovers.
        Files.delete(blob);
        Files.write(blob, bb);
        Path d = layers.ensure(store, img).get(0);
        assertTrue(Files.isRegularFile(d.resolve("bin/busybox")));
        assertEquals(Files.size(Path.of("/bin/busybox")), Files.size(d.resolve("bin/busybox")));
        assertEquals(List.of(), names(layers.dir().resolve("tmp")));
    }

    /** Unpacks an image's layers into the store of args[0]; killed half-way by the test. */
    public static final class UnpackChild {
        public static void main(String[] args) throws Exception {
            Layout l = Layout.open(Path.of(args[0]));
            LayerStore.of(l).ensure(l, Images.inLayout(l, args[1], Platform.host()));
        }
    }
}
