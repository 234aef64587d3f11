package brig.registry;

import brig.image.Descriptor;
import brig.image.Digest;
import brig.image.Layout;
import brig.image.MediaType;
import brig.json.Json;
import brig.testing.Busybox;
import brig.testing.TestImage;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Images built on this machine from busybox-static ({@link TestImage}), as OCI
 * layouts for skopeo to push: nothing is fetched from the internet.
 */
final class TestImages {
    private TestImages() {}

    /**
     * A busybox image for {@code arch}: layer 1 is busybox with its applets, layer 2 holds
     * /etc/marker with {@code marker}, both gzip-compressed. Returns the manifest's descriptor
     * (not yet named).
     */
    static Descriptor busybox(Layout l, Path work, String arch, String marker) throws Exception {
        Path base = Busybox.rootfs(Files.createTempDirectory(work, "base"));
        Path top = Files.createDirectories(Files.createTempDirectory(work, "top").resolve("etc"));
        Files.writeString(top.resolve("marker"), marker + "\n");
        return TestImage.of().layer(TestImage.tar(base), true).layer(TestImage.tar(top.getParent()), true).arch(arch)
                .created("2024-01-01T00:00:00Z").config("{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
                        + "\"Cmd\":[\"sh\"],\"Labels\":{\"org.example.marker\":\"" + marker + "\"}}").put(l);
    }

    /** An OCI index of several manifests with their platforms. */
    static Descriptor index(Layout l, List<Descriptor> manifests, List<String> archs) throws Exception {
        JsonObject o = new JsonObject();
        o.addProperty("schemaVersion", 2);
        o.addProperty("mediaType", MediaType.OCI_INDEX);
        JsonArray a = new JsonArray();
        for (int k = 0; k < manifests.size(); k++) {
            JsonObject d = manifests.get(k).json();
            JsonObject p = new JsonObject();
            p.addProperty("architecture", archs.get(k));
            p.addProperty("os", "linux");
            if (archs.get(k).equals("arm64")) p.addProperty("variant", "v8");
            d.add("platform", p);
            a.add(d);
        }
        o.add("manifests", a);
        return l.putBlob(Json.compact(o).getBytes(StandardCharsets.UTF_8), MediaType.OCI_INDEX);
    }

    static Digest digest(String s) throws Exception {
        return Digest.parse(s, "test");
    }
}
