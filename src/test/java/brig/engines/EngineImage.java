package brig.engines;

import brig.image.Descriptor;
import brig.image.Layout;
import brig.image.MediaType;
import brig.json.Json;
import brig.testing.Busybox;
import brig.testing.Tools;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The busybox image the engine tests run, made here from busybox-static (nothing is pulled):
 * one uncompressed layer (the rootfs of {@link Busybox} plus the files engines bind over or
 * expect: /etc/hostname, /etc/hosts, /etc/resolv.conf, a sticky /tmp), a config with PATH and
 * {@code sh}, in an OCI layout named {@code busybox:latest}. skopeo carries it to where each
 * engine reads images.
 */
final class EngineImage {
    static final String NAME = "busybox:latest";

    private final Path layout;

    private EngineImage(Path layout) {
        this.layout = layout;
    }

    /** Builds the image in {@code dir}/layout (scratch files in {@code dir}). */
    static EngineImage build(Path dir) throws Exception {
        Path rootfs = Busybox.rootfs(Files.createDirectories(dir.resolve("rootfs")));
        Path etc = rootfs.resolve("etc");
        Files.writeString(etc.resolve("hostname"), "busybox\n");
        Files.writeString(etc.resolve("hosts"), "");
        Files.writeString(etc.resolve("resolv.conf"), "");
        for (String d : List.of("var", "run", "home", "usr/bin", "usr/sbin", "sbin")) Files.createDirectories(rootfs.resolve(d));
        Cmd.run(dir, Map.of(), 30, "chmod", "1777", rootfs.resolve("tmp").toString()).expect(0);
        Path tar = dir.resolve("layer.tar");
        Cmd.run(dir, Map.of(), 60, "tar", "--numeric-owner", "--sort=name", "-C", rootfs.toString(), "-cf", tar.toString(), ".").expect(0);
        Layout l = Layout.openOrCreate(dir.resolve("layout"));
        // Uncompressed: the layer's digest is its diff id.
        Descriptor layer = l.putBlob(Files.readAllBytes(tar), MediaType.OCI_LAYER);
        Files.delete(tar);
        JsonObject config = new JsonObject();
        config.addProperty("created", "2026-01-01T00:00:00Z");
        config.addProperty("architecture", "amd64");
        config.addProperty("os", "linux");
        JsonObject c = new JsonObject();
        JsonArray env = new JsonArray();
        env.add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        c.add("Env", env);
        JsonArray cmd = new JsonArray();
        cmd.add("sh");
        c.add("Cmd", cmd);
        c.addProperty("WorkingDir", "/");
        config.add("config", c);
        JsonObject fs = new JsonObject();
        fs.addProperty("type", "layers");
        JsonArray ids = new JsonArray();
        ids.add(layer.digest().toString());
        fs.add("diff_ids", ids);
        config.add("rootfs", fs);
        Descriptor cd = l.putBlob(Json.compact(config).getBytes(StandardCharsets.UTF_8), MediaType.OCI_CONFIG);
        JsonObject m = new JsonObject();
        m.addProperty("schemaVersion", 2);
        m.addProperty("mediaType", MediaType.OCI_MANIFEST);
        m.add("config", cd.json());
        JsonArray layers = new JsonArray();
        layers.add(layer.json());
        m.add("layers", layers);
        l.tag(l.putBlob(Json.compact(m).getBytes(StandardCharsets.UTF_8), MediaType.OCI_MANIFEST), NAME);
        return new EngineImage(l.dir());
    }

    /** skopeo copy from this image to {@code destination} (a skopeo transport:reference). */
    void copyTo(String destination, Path home) {
        Tools.require("skopeo", "/usr/bin/skopeo");
        Cmd.run(home, Map.of("HOME", home.toString()), 120, "skopeo", "copy", "-q", "oci:" + layout + ":" + NAME, destination).expect(0);
    }
}
