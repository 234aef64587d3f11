package brig.container;

import brig.image.Descriptor;
import brig.image.Digest;
import brig.image.Layout;
import brig.image.Manifest;
import brig.image.MediaType;
import brig.image.Platform;
import brig.json.Json;
import brig.testing.Busybox;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** One-layer busybox images with an image config of the test's, stored in a local layout (no registry, no internet). */
final class ContainerImages {
    private ContainerImages() {}

    /**
     * Stores a busybox image named {@code localhost/NAME:latest} whose config's "config" is
     * {@code config} (Entrypoint, Cmd, Env, WorkingDir, User as docker writes them).
     */
    static void busybox(Path work, Layout store, String name, JsonObject config) throws Exception {
        Path root = Busybox.rootfs(Files.createTempDirectory(work, "rootfs"));
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                + "app:x:1000:1000:app:/home/app:/bin/sh\n");
        Files.writeString(root.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n");
        Files.createDirectories(root.resolve("home/app"));
        Files.createDirectories(root.resolve("srv/app"));
        Process p = new ProcessBuilder("tar", "--numeric-owner", "--sort=name", "-C", root.toString(), "-cf", "-", ".")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] tar = p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) throw new AssertionError("tar failed");
        Descriptor layer = store.putBlob(tar, MediaType.OCI_LAYER);
        JsonObject c = new JsonObject();
        c.addProperty("architecture", Platform.host().architecture());
        c.addProperty("os", "linux");
        c.add("config", config);
        JsonObject rootfs = new JsonObject();
        rootfs.addProperty("type", "layers");
        JsonArray diffs = new JsonArray();
        diffs.add(Digest.of(tar).toString());
        rootfs.add("diff_ids", diffs);
        c.add("rootfs", rootfs);
        Descriptor cd = store.putBlob(Json.compact(c).getBytes(StandardCharsets.UTF_8), MediaType.OCI_CONFIG);
        Manifest m = new Manifest(MediaType.OCI_MANIFEST, cd, List.of(layer), Map.of());
        store.tag(store.putBlob(m.ociBytes(), MediaType.OCI_MANIFEST), "localhost/" + name + ":latest");
    }

    static JsonObject config(String json) {
        return Json.parseQuietly(json).getAsJsonObject();
    }
}
