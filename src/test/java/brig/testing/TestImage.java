package brig.testing;

import brig.image.Descriptor;
import brig.image.Digest;
import brig.image.ImageException;
import brig.image.Layout;
import brig.image.Manifest;
import brig.image.MediaType;
import brig.image.Platform;
import brig.json.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Images the tests build on this machine (nothing is pulled): layer tars made with the system's
 * tar, an image config and a manifest, stored in an OCI layout. The one home of "store an image
 * from these layers"; the test packages' builders (busybox with their own files, hostile layers)
 * only say what goes in.
 *
 * <pre>{@code
 * TestImage.of(Busybox.tar(work)).arch("amd64").config(runConfig).store(layout, "localhost/x:latest");
 * }</pre>
 */
public final class TestImage {
    /** A layer as stored: the blob, its media type, and the diff id the config names for it. */
    private record Layer(byte[] blob, String mediaType, String diffId) {}

    private final List<Layer> layers = new ArrayList<>();
    private JsonObject config;
    private String architecture = Platform.host().architecture(), created;

    private TestImage() {}

    /** An image of these uncompressed layer tars, bottom first. */
    public static TestImage of(byte[]... tars) {
        TestImage t = new TestImage();
        for (byte[] tar : tars) t.rawLayer(tar, MediaType.OCI_LAYER, Digest.of(tar).toString());
        return t;
    }

    /** One more layer on top; stored gzip-compressed if {@code gzip} (its diff id is the tar's). */
    public TestImage layer(byte[] tar, boolean gzip) throws IOException {
        String diffId = Digest.of(tar).toString();
        return gzip ? rawLayer(gzip(tar), MediaType.OCI_LAYER_GZIP, diffId) : rawLayer(tar, MediaType.OCI_LAYER, diffId);
    }

    /** One more layer on top, as given: any bytes, media type and diff id (a hostile or lying image). */
    public TestImage rawLayer(byte[] blob, String mediaType, String diffId) {
        layers.add(new Layer(blob, mediaType, diffId));
        return this;
    }

    /** The image config's "config" (Entrypoint, Cmd, Env, User...); none when not given. */
    public TestImage config(JsonObject runConfig) {
        config = runConfig;
        return this;
    }

    /** The image config's "config" from JSON text. */
    public TestImage config(String json) {
        return config(Json.parseQuietly(json).getAsJsonObject());
    }

    /** The architecture (default: this host's). */
    public TestImage arch(String architecture) {
        this.architecture = architecture;
        return this;
    }

    public TestImage created(String created) {
        this.created = created;
        return this;
    }

    /** Stores layers, config and manifest; returns the manifest's descriptor (untagged). */
    public Descriptor put(Layout l) throws IOException, ImageException {
        List<Descriptor> blobs = new ArrayList<>();
        JsonArray diffs = new JsonArray();
        for (Layer layer : layers) {
            blobs.add(l.putBlob(layer.blob(), layer.mediaType()));
            diffs.add(layer.diffId());
        }
        JsonObject c = new JsonObject();
        if (created != null) c.addProperty("created", created);
        c.addProperty("architecture", architecture);
        c.addProperty("os", "linux");
        if (config != null) c.add("config", config);
        JsonObject rootfs = new JsonObject();
        rootfs.addProperty("type", "layers");
        rootfs.add("diff_ids", diffs);
        c.add("rootfs", rootfs);
        Descriptor cd = l.putBlob(Json.compact(c).getBytes(StandardCharsets.UTF_8), MediaType.OCI_CONFIG);
        return l.putBlob(new Manifest(MediaType.OCI_MANIFEST, cd, blobs, Map.of()).ociBytes(), MediaType.OCI_MANIFEST);
    }

    /** Stores the image and names it {@code name} in the layout. */
    public Descriptor store(Layout l, String name) throws IOException, ImageException {
        Descriptor m = put(l);
        l.tag(m, name);
        return m;
    }

    /** {@code dir}'s contents as an uncompressed tar, with the system's tar (numeric owners, sorted: the same bytes each time). */
    public static byte[] tar(Path dir) throws IOException {
        Process p = new ProcessBuilder("tar", "--numeric-owner", "--sort=name", "-C", dir.toString(), "-cf", "-", ".")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] tar = p.getInputStream().readAllBytes();
        try {
            if (p.waitFor() != 0) throw new AssertionError("tar -C " + dir + " failed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        return tar;
    }

    public static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }
}
