package brig.registry;

import brig.image.Descriptor;
import brig.image.Digest;
import brig.image.Layout;
import brig.image.MediaType;
import brig.json.Json;
import brig.testing.Busybox;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Images built on this machine from busybox-static, with the system's tar and gzip, as OCI
 * layouts for skopeo to push: nothing is fetched from the internet.
 */
final class TestImages {
    private TestImages() {}

    static void run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
    }

    static String sha256(InputStream in) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] b = new byte[1 << 16];
        int n;
        while ((n = in.read(b)) > 0) md.update(b, 0, n);
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }

    /** A gzip layer of {@code rootfs}'s contents, stored in the layout; returns descriptor and diff id. */
    static Object[] layer(Layout l, Path rootfs, Path work) throws Exception {
        Path tgz = Files.createTempFile(work, "layer", ".tar.gz");
        run(work, "tar", "--numeric-owner", "--sort=name", "-C", rootfs.toString(), "-czf", tgz.toString(), ".");
        String diff;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(tgz))) {
            diff = sha256(in);
        }
        Descriptor d = l.putBlob(Files.readAllBytes(tgz), MediaType.OCI_LAYER_GZIP);
        Files.delete(tgz);
        return new Object[] {d, diff};
    }

    /**
     * A busybox image for {@code arch}: layer 1 is busybox with its applets, layer 2 holds
     * /etc/marker with {@code marker}. Returns the manifest's descriptor (not yet named).
     */
    static Descriptor busybox(Layout l, Path work, String arch, String marker) throws Exception {
        Path base = Busybox.rootfs(Files.createTempDirectory(work, "base"));
        Path top = Files.createDirectories(Files.createTempDirectory(work, "top").resolve("etc"));
        Files.writeString(top.resolve("marker"), marker + "\n");
        Object[] l1 = layer(l, base, work), l2 = layer(l, top.getParent(), work);
        JsonObject config = new JsonObject();
        config.addProperty("created", "2024-01-01T00:00:00Z");
        config.addProperty("architecture", arch);
        config.addProperty("os", "linux");
        JsonObject c = new JsonObject();
        JsonArray env = new JsonArray();
        env.add("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        c.add("Env", env);
        JsonArray cmd = new JsonArray();
        cmd.add("sh");
        c.add("Cmd", cmd);
        JsonObject labels = new JsonObject();
        labels.addProperty("org.example.marker", marker);
        c.add("Labels", labels);
        config.add("config", c);
        JsonObject rootfs = new JsonObject();
        rootfs.addProperty("type", "layers");
        JsonArray ids = new JsonArray();
        ids.add((String) l1[1]);
        ids.add((String) l2[1]);
        rootfs.add("diff_ids", ids);
        config.add("rootfs", rootfs);
        Descriptor cd = l.putBlob(Json.compact(config).getBytes(StandardCharsets.UTF_8), MediaType.OCI_CONFIG);
        JsonObject m = new JsonObject();
        m.addProperty("schemaVersion", 2);
        m.addProperty("mediaType", MediaType.OCI_MANIFEST);
        m.add("config", cd.json());
        JsonArray layers = new JsonArray();
        layers.add(((Descriptor) l1[0]).json());
        layers.add(((Descriptor) l2[0]).json());
        m.add("layers", layers);
        return l.putBlob(Json.compact(m).getBytes(StandardCharsets.UTF_8), MediaType.OCI_MANIFEST);
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
