package brig.image;

import brig.json.Json;
import brig.testing.Busybox;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
        Process p = new ProcessBuilder("tar", "--numeric-owner", "--sort=name", "-C", root.toString(), "-cf", "-", ".")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] tar = p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) throw new AssertionError("tar failed");
        Unpacker.removeTree(root);
        return tar;
    }

    /** Stores the layers (bottom first) and an image config and manifest, named {@code name}. */
    static Image image(Layout l, String name, List<byte[]> layers, List<String> cmd) throws Exception {
        List<Descriptor> ds = new ArrayList<>();
        JsonArray diffs = new JsonArray();
        for (byte[] t : layers) {
            ds.add(l.putBlob(t, MediaType.OCI_LAYER));
            diffs.add(Digest.of(t).toString());
        }
        JsonObject config = new JsonObject();
        config.addProperty("architecture", Platform.host().architecture());
        config.addProperty("os", "linux");
        JsonObject c = new JsonObject();
        JsonArray args = new JsonArray();
        cmd.forEach(args::add);
        c.add("Cmd", args);
        config.add("config", c);
        JsonObject rootfs = new JsonObject();
        rootfs.addProperty("type", "layers");
        rootfs.add("diff_ids", diffs);
        config.add("rootfs", rootfs);
        Descriptor cd = l.putBlob(Json.compact(config).getBytes(StandardCharsets.UTF_8), MediaType.OCI_CONFIG);
        Manifest m = new Manifest(MediaType.OCI_MANIFEST, cd, ds, Map.of());
        l.tag(l.putBlob(m.ociBytes(), MediaType.OCI_MANIFEST), name);
        return Images.inLayout(l, name, Platform.host());
    }

    /** A layer over busyboxLayer: deletes etc/base-file, makes opt/keep opaque with one new file, adds etc/top. */
    static byte[] deletingLayer() throws Exception {
        return new Layers().dir("etc/").file("etc/.wh.base-file", "").file("etc/top", "top\n")
                .dir("opt/").dir("opt/keep/").file("opt/keep/.wh..wh..opq", "").file("opt/keep/c", "c\n").tar();
    }
}
