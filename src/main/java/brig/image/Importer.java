package brig.image;

import brig.layer.Compression;
import brig.layer.LayerException;
import brig.layer.TarReader;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * `import`: a flat rootfs tarball (such as an exported container; plain, gzip or zstd) becomes a
 * one-layer image. The tar is checked entry by entry while it is hashed (its diff id) and
 * gzip-compressed into the layer blob.
 */
public final class Importer {
    private Importer() {}

    public static Image importTar(Path tar, Layout store, String refName) throws ImageException {
        Path tmp = null;
        try {
            tmp = store.newTemp("import-");
            Sha256 diff = Sha256.create(), blob = Sha256.create();
            long[] size = {0};
            try (InputStream raw = Files.newInputStream(tar); InputStream plain = Compression.decompressed(raw);
                    OutputStream file = Files.newOutputStream(tmp);
                    OutputStream counted = new OutputStream() {
                        @Override
                        public void write(int b) throws IOException {
                            write(new byte[] {(byte) b}, 0, 1);
                        }

                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            blob.update(b, off, len);
                            size[0] += len;
                            file.write(b, off, len);
                        }
                    };
                    GZIPOutputStream gz = new GZIPOutputStream(counted, 1 << 16)) {
                InputStream tee = new FilterInputStream(plain) {
                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        int n = in.read(b, off, len);
                        if (n > 0) {
                            diff.update(b, off, n);
                            gz.write(b, off, n);
                        }
                        return n;
                    }

                    @Override
                    public int read() throws IOException {
                        byte[] one = new byte[1];
                        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                    }

                    @Override
                    public long skip(long n) throws IOException {
                        byte[] b = new byte[(int) Math.min(n, 1 << 16)];
                        int r = read(b, 0, b.length);
                        return Math.max(0, r);
                    }
                };
                TarReader r = new TarReader(tee);
                int entries = 0;
                while (r.next() != null) entries++;
                tee.transferTo(OutputStream.nullOutputStream()); // trailing blocks belong to the layer too
                if (entries == 0) throw new ImageException(tar + ": the archive has no entries");
            }
            Digest diffId = diff.digest(), blobDigest = blob.digest();
            FileLockHolder lock = new FileLockHolder(store);
            try {
                store.commit(tmp, blobDigest);
                tmp = null;
                Descriptor layer = new Descriptor(MediaType.OCI_LAYER_GZIP, blobDigest, size[0]);
                String now = brig.json.Rfc3339.now();
                JsonObject config = new JsonObject();
                config.addProperty("created", now);
                Platform host = Platform.host();
                config.addProperty("architecture", host.architecture());
                config.addProperty("os", host.os());
                if (!host.variant().isEmpty()) config.addProperty("variant", host.variant());
                JsonObject c = new JsonObject();
                JsonArray env = new JsonArray();
                env.add(BundleConfig.DEFAULT_PATH);
                c.add("Env", env);
                config.add("config", c);
                JsonObject rootfs = new JsonObject();
                rootfs.addProperty("type", "layers");
                JsonArray ids = new JsonArray();
                ids.add(diffId.toString());
                rootfs.add("diff_ids", ids);
                config.add("rootfs", rootfs);
                JsonArray history = new JsonArray();
                JsonObject h = new JsonObject();
                h.addProperty("created", now);
                h.addProperty("created_by", "brig import " + tar.getFileName());
                history.add(h);
                config.add("history", history);
                byte[] configBytes = brig.json.Json.compact(config).getBytes(StandardCharsets.UTF_8);
                Descriptor configDesc = store.putBlob(configBytes, MediaType.OCI_CONFIG);
                Manifest m = new Manifest(MediaType.OCI_MANIFEST, configDesc, List.of(layer), Map.of());
                Descriptor md = store.putBlob(m.ociBytes(), MediaType.OCI_MANIFEST);
                store.tag(md, refName);
                return new Image(refName, md, m, ImageConfig.parse(configBytes, "config"));
            } finally {
                lock.close();
            }
        } catch (LayerException e) {
            throw new ImageException(tar + ": " + e.getMessage(), e);
        } catch (java.util.zip.ZipException e) {
            throw new ImageException(tar + ": corrupt gzip data: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ImageException("cannot import " + tar + ": " + Layout.message(e), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // temporary
                }
            }
        }
    }

    /** Keeps garbage collection away while the new blobs are not yet named. */
    private static final class FileLockHolder implements AutoCloseable {
        private final java.nio.channels.FileLock lock;

        FileLockHolder(Layout l) throws IOException {
            lock = l.writing();
        }

        @Override
        public void close() {
            Layout.unlock(lock);
        }
    }

    /** The store name for an imported image: "fish" is localhost/fish:latest, as podman names it. */
    public static String name(String given, Path tar) throws ImageException {
        String n = given;
        if (n == null || n.isEmpty()) {
            n = tar.getFileName().toString().replaceFirst("(\\.tar)?(\\.gz|\\.tgz|\\.zst|\\.tar)?$", "").toLowerCase(java.util.Locale.ROOT)
                    .replaceAll("[^a-z0-9._-]+", "-").replaceAll("^[^a-z0-9]+|[^a-z0-9]+$", "");
            if (n.isEmpty()) n = "imported";
        }
        String first = n.contains("/") ? n.substring(0, n.indexOf('/')) : "";
        if (!(first.contains(".") || first.contains(":") || first.equals("localhost"))) n = "localhost/" + n;
        return Reference.parse(n).toString();
    }
}
