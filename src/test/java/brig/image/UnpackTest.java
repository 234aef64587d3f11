package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import brig.testing.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacking an image from a layout: config.json from the image config, and digests checked. */
class UnpackTest {
    @TempDir
    Path tmp;

    static byte[] gzip(byte[] b) throws Exception {
        return TestImage.gzip(b);
    }

    /** A two-layer image named "test" in a new layout; {@code user} goes into its config. */
    Layout image(String user, Digest badDiffId) throws Exception {
        Layout l = Layout.openOrCreate(tmp.resolve("layout"));
        byte[] t1 = new Layers().dir("etc/").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nsvc:x:100:101:svc:/srv:/bin/sh\n")
                .file("etc/group", "root:x:0:\nsvc:x:101:\nextra:x:7:svc\n").dir("srv/").tar();
        byte[] t2 = new Layers().file("srv/app", "app").tar();
        JsonObject c = new JsonObject();
        c.addProperty("User", user);
        c.add("Env", strings("PATH=/srv:/bin", "MODE=test"));
        c.add("Entrypoint", strings("/srv/app"));
        c.add("Cmd", strings("--serve", "8080"));
        c.addProperty("WorkingDir", "/srv");
        JsonObject labels = new JsonObject();
        labels.addProperty("org.example.role", "demo");
        c.add("Labels", labels);
        TestImage.of().layer(t1, true).rawLayer(t2, MediaType.OCI_LAYER, (badDiffId != null ? badDiffId : Digest.of(t2)).toString())
                .config(c).store(l, "test");
        return l;
    }

    static JsonArray strings(String... v) {
        JsonArray a = new JsonArray();
        for (String s : v) a.add(s);
        return a;
    }

    void unpack(Layout l, Path bundle) throws Exception {
        Unpacker.unpack(l, Images.inLayout(l, "test", Platform.host()), bundle);
    }

    @Test
    void configJsonComesFromTheImageConfig() throws Exception {
        Layout l = image("svc", null);
        Path bundle = tmp.resolve("bundle");
        unpack(l, bundle);
        assertEquals("app", Files.readString(bundle.resolve("rootfs/srv/app")));
        JsonObject spec = Json.parseObjectFile(bundle.resolve("config.json"));
        JsonObject p = spec.getAsJsonObject("process");
        assertEquals("[\"/srv/app\",\"--serve\",\"8080\"]", Json.compact(p.get("args")));
        assertEquals("/srv", p.get("cwd").getAsString());
        assertEquals(100, p.getAsJsonObject("user").get("uid").getAsInt());
        assertEquals(101, p.getAsJsonObject("user").get("gid").getAsInt());
        assertEquals("[7]", Json.compact(p.getAsJsonObject("user").get("additionalGids")));
        String env = Json.compact(p.get("env"));
        assertTrue(env.contains("\"PATH=/srv:/bin\"") && env.contains("\"MODE=test\"") && env.contains("\"HOME=/srv\""), env);
        assertEquals("demo", spec.getAsJsonObject("annotations").get("org.example.role").getAsString());
        assertEquals("rootfs", spec.getAsJsonObject("root").get("path").getAsString());
        assertTrue(spec.getAsJsonObject("linux").has("namespaces"), "the runtime's defaults are kept");
    }

    @Test
    void anUnknownUserIsAnErrorAndLeavesNothing() throws Exception {
        Layout l = image("ghost:svc", null);
        Path bundle = tmp.resolve("bundle");
        ImageException e = assertThrows(ImageException.class, () -> unpack(l, bundle));
        assertTrue(e.getMessage().contains("no user \"ghost\""), e.getMessage());
        assertFalse(Files.exists(bundle));
    }

    @Test
    void aCorruptLayerBlobIsRefusedAndTheBundleRemoved() throws Exception {
        Layout l = image("", null);
        Image img = Images.inLayout(l, "test", Platform.host());
        Path blob = l.blobPath(img.manifest().layers().get(1).digest());
        byte[] b = Files.readAllBytes(blob);
        b[100] ^= 1; // a flipped bit in a file's content: the tar still parses
        Files.write(blob, b);
        Path bundle = tmp.resolve("bundle");
        ImageException e = assertThrows(ImageException.class, () -> unpack(l, bundle));
        assertTrue(e.getMessage().contains("digest mismatch"), e.getMessage());
        assertFalse(Files.exists(bundle), "nothing half-made is left");
    }

    @Test
    void aLayerOfTheWrongSizeIsRefused() throws Exception {
        Layout l = image("", null);
        Image img = Images.inLayout(l, "test", Platform.host());
        Path blob = l.blobPath(img.manifest().layers().get(0).digest());
        Files.write(blob, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);
        Path bundle = tmp.resolve("bundle");
        ImageException e = assertThrows(ImageException.class, () -> unpack(l, bundle));
        assertTrue(e.getMessage().contains("bytes"), e.getMessage());
        assertFalse(Files.exists(bundle));
    }

    @Test
    void aWrongDiffIdIsRefused() throws Exception {
        Layout l = image("", Digest.of(new byte[] {1, 2, 3}));
        Path bundle = Files.createDirectories(tmp.resolve("existing-empty-bundle"));
        ImageException e = assertThrows(ImageException.class, () -> unpack(l, bundle));
        assertTrue(e.getMessage().contains("diff id"), e.getMessage());
        assertTrue(Files.isDirectory(bundle), "a bundle directory the user made stays");
        try (var s = Files.list(bundle)) {
            assertEquals(0, s.count(), "but empty again");
        }
    }

    @Test
    void aBundleThatIsNotEmptyIsRefused() throws Exception {
        Layout l = image("", null);
        Path bundle = Files.createDirectories(tmp.resolve("b"));
        Files.writeString(bundle.resolve("keep"), "x");
        ImageException e = assertThrows(ImageException.class, () -> unpack(l, bundle));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertEquals("x", Files.readString(bundle.resolve("keep")));
    }

    @Test
    void anImageWhoseWhiteoutsReachTheHostThroughSymlinksDeletesNothingOutside() throws Exception {
        Path victims = LayerTest.plantVictims();
        try {
            Layout l = Layout.openOrCreate(tmp.resolve("layout"));
            byte[] t1 = new Layers().symlink("etc", victims.toString()).symlink("up", "../../../../../../../.." + victims).tar();
            byte[] t2 = new Layers().file("etc/.wh.victim", "").file("up/.wh.victimdir", "").file("etc/.wh..wh..opq", "").tar();
            TestImage.of().layer(t1, true).layer(t2, false).store(l, "test");
            Path bundle = tmp.resolve("bundle");
            unpack(l, bundle);
            LayerTest.victimsSurvive(victims);
            assertTrue(Files.isSymbolicLink(bundle.resolve("rootfs/etc")));
        } finally {
            Unpacker.removeTree(victims);
        }
    }

    @Test
    void garbageCollectionKeepsSharedBlobs() throws Exception {
        Layout l = image("", null);
        Descriptor d = l.find("test");
        l.tag(d, "second");
        l.untag("test");
        assertEquals(0, l.gc().blobs(), "still named as second");
        l.untag("second");
        Layout.Collected c = l.gc();
        assertEquals(4, c.blobs(), "manifest, config and two layers");
        try (var s = Files.list(l.dir().resolve("blobs/sha256"))) {
            assertEquals(0, s.count());
        }
    }
}
