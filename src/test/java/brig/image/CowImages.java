package brig.image;

import brig.testing.Busybox;
import brig.testing.TestImage;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Images of uncompressed layers built here for the layer store's tests (busybox from busybox-static). */
final class CowImages {
    private CowImages() {}

    /** A busybox rootfs as one layer tar, made with the system's tar. */
    static byte[] busyboxLayer(Path work) throws Exception {
        Path root = Busybox.rootfs(Files.createTempDirectory(work, "bb"));
        Files.writeString(root.resolve("etc/base-file"), "from the base layer\n");
        Files.createDirectories(root.resolve("opt/keep"));
        Files.writeString(root.resolve("opt/keep/a"), "a\n");
        Files.writeString(root.resolve("opt/keep/b"), "b\n");
        byte[] tar = TestImage.tar(root);
        Unpacker.removeTree(root);
        return tar;
    }

    /** Stores the layers (bottom first) and an image config and manifest, named {@code name}. */
    static Image image(Layout l, String name, List<byte[]> layers, List<String> cmd) throws Exception {
        JsonObject c = new JsonObject();
        JsonArray args = new JsonArray();
        cmd.forEach(args::add);
        c.add("Cmd", args);
        TestImage.of(layers.toArray(byte[][]::new)).config(c).store(l, name);
        return Images.inLayout(l, name, Platform.host());
    }

    /** A layer over busyboxLayer: deletes etc/base-file, makes opt/keep opaque with one new file, adds etc/top. */
    static byte[] deletingLayer() throws Exception {
        return new Layers().dir("etc/").file("etc/.wh.base-file", "").file("etc/top", "top\n")
                .dir("opt/").dir("opt/keep/").file("opt/keep/.wh..wh..opq", "").file("opt/keep/c", "c\n").tar();
    }
}
