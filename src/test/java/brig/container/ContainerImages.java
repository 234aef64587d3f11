package brig.container;

import brig.image.Layout;
import brig.json.Json;
import brig.testing.Busybox;
import brig.testing.TestImage;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;

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
        TestImage.of(TestImage.tar(root)).config(config).store(store, "localhost/" + name + ":latest");
    }

    static JsonObject config(String json) {
        return Json.parseQuietly(json).getAsJsonObject();
    }
}
