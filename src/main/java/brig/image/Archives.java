package brig.image;

import brig.json.Fields;
import brig.json.Json;
import brig.json.JsonException;
import brig.layer.Compression;
import brig.layer.LayerException;
import brig.layer.TarEntry;
import brig.layer.TarReader;
import brig.layer.TarWriter;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Image archives: oci-archive (a tar of an OCI layout) and docker-archive (docker save's
 * format: manifest.json, the config, one uncompressed tar per layer). Reading goes through a
 * temporary layout; archive entries are never extracted by name, so a hostile archive cannot
 * write outside it.
 */
public final class Archives {
    private Archives() {}

    /** Reads an oci-archive into {@code tmp}, a new layout, and returns it. */
    public static Layout readOci(Path file, Path tmp) throws ImageException {
        Layout l = Layout.openOrCreate(tmp);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            TarReader r = new TarReader(in);
            TarEntry e;
            boolean sawLayout = false;
            while ((e = r.next()) != null) {
                if (e.type() != TarEntry.Type.FILE) continue;
                String name = e.name().replaceFirst("^(\\./|/)+", "");
                if (name.equals("oci-layout")) {
                    sawLayout = true;
                } else if (name.equals("index.json")) {
                    if (e.size() > Layout.MAX_DOCUMENT) throw new ImageException(file + ": index.json too large");
                    Files.write(tmp.resolve("index.json"), r.data().readAllBytes());
                } else if (name.startsWith("blobs/sha256/") && Digest.looksLike("sha256:" + name.substring(13))) {
                    Digest d = new Digest("sha256", name.substring(13));
                    Path t = l.newTemp("blob-");
                    try (VerifyingInputStream v = new VerifyingInputStream(r.data(), d, e.size(), file + ": " + name)) {
                        Files.copy(v, t, StandardCopyOption.REPLACE_EXISTING);
                    }
                    l.commit(t, d);
                }
            }
            if (!sawLayout) throw new ImageException(file + ": not an oci-archive (no oci-layout file in it)");
            return l;
        } catch (LayerException e) {
            throw new ImageException(file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ImageException("cannot read " + file + ": " + Layout.message(e), e);
        }
    }

    /** Writes {@code layout} (whole) as an oci-archive. */
    public static void writeOci(Layout layout, Path file) throws ImageException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16); TarWriter w = new TarWriter(out)) {
            w.file("oci-layout", 0644, Files.readAllBytes(layout.dir().resolve("oci-layout")));
            w.file("index.json", 0644, Files.readAllBytes(layout.dir().resolve("index.json")));
            w.write(dir("blobs/"), null);
            w.write(dir("blobs/sha256/"), null);
            try (var s = Files.list(layout.dir().resolve("blobs/sha256"))) {
                for (Path p : s.sorted().toList()) {
                    long size = Files.size(p);
                    try (InputStream in = Files.newInputStream(p)) {
                        w.write(new TarEntry("blobs/sha256/" + p.getFileName(), TarEntry.Type.FILE, 0644, 0, 0, size, 0, 0, "", 0, 0, Map.of()), in);
                    }
                }
            }
        } catch (IOException e) {
            throw new ImageException("cannot write " + file + ": " + Layout.message(e), e);
        }
        move(tmp, file);
    }

    private static TarEntry dir(String name) {
        return new TarEntry(name, TarEntry.Type.DIRECTORY, 0755, 0, 0, 0, 0, 0, "", 0, 0, Map.of());
    }

    private static void move(Path tmp, Path file) throws ImageException {
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // reported below
            }
            throw new ImageException("cannot write " + file + ": " + Layout.message(e), e);
        }
    }

    /**
     * Reads a docker-archive into {@code tmp} (a new layout) as an OCI image named {@code ref}
     * ("" means the archive's first image; else a RepoTag such as busybox:latest).
     */
    public static Image readDocker(Path file, String ref, Path tmp) throws ImageException {
        Layout l = Layout.openOrCreate(tmp);
        Map<String, Path> files = new HashMap<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            TarReader r = new TarReader(in);
            TarEntry e;
            int n = 0;
            while ((e = r.next()) != null) {
                if (e.type() != TarEntry.Type.FILE) continue;
                Path t = l.newTemp("entry-" + (n++) + "-");
                Files.copy(r.data(), t, StandardCopyOption.REPLACE_EXISTING);
                files.put(e.name().replaceFirst("^(\\./|/)+", ""), t);
            }
            Path manifestJson = files.get("manifest.json");
            if (manifestJson == null) throw new ImageException(file + ": not a docker-archive (no manifest.json in it)");
            var top = Json.parse(Files.readString(manifestJson));
            if (!top.isJsonArray() || top.getAsJsonArray().isEmpty()) throw new ImageException(file + ": manifest.json: expected a non-empty array");
            Fields chosen = null;
            List<String> all = new ArrayList<>();
            for (int k = 0; k < top.getAsJsonArray().size(); k++) {
                var el = top.getAsJsonArray().get(k);
                if (!el.isJsonObject()) throw new ImageException(file + ": manifest.json[" + k + "]: expected an object");
                Fields f = new Fields(el.getAsJsonObject(), "manifest.json[" + k + "]");
                List<String> tags = f.strings("RepoTags");
                all.addAll(tags);
                if (chosen == null && (ref.isEmpty() || tags.contains(ref) || matches(tags, ref))) chosen = f;
            }
            if (chosen == null) throw new ImageException(file + ": no image tagged \"" + ref + "\" (it has " + String.join(", ", all) + ")");
            Path configFile = files.get(chosen.requireString("Config"));
            if (configFile == null) throw new ImageException(file + ": " + chosen.path("Config") + ": " + chosen.requireString("Config") + " is not in the archive");
            byte[] configBytes = Files.readAllBytes(configFile);
            ImageConfig config = ImageConfig.parse(configBytes, file + ": " + chosen.requireString("Config"));
            Descriptor configDesc = l.putBlob(configBytes, MediaType.OCI_CONFIG);
            List<String> layerNames = chosen.strings("Layers");
            if (layerNames.size() != config.diffIds().size()) {
                throw new ImageException(file + ": " + chosen.path("Layers") + " has " + layerNames.size() + " layers, the config's rootfs.diff_ids " + config.diffIds().size());
            }
            List<Descriptor> layers = new ArrayList<>();
            for (int k = 0; k < layerNames.size(); k++) {
                Path lf = files.get(layerNames.get(k));
                if (lf == null) throw new ImageException(file + ": " + chosen.path("Layers") + "[" + k + "]: " + layerNames.get(k) + " is not in the archive");
                layers.add(addLayerFile(l, lf, config.diffIds().get(k), file + ": " + layerNames.get(k)));
            }
            Manifest m = new Manifest(MediaType.OCI_MANIFEST, configDesc, layers, Map.of());
            Descriptor md = l.putBlob(m.ociBytes(), MediaType.OCI_MANIFEST);
            String name = ref.isEmpty() ? (chosen.strings("RepoTags").isEmpty() ? "latest" : chosen.strings("RepoTags").get(0)) : ref;
            return new Image(name, md, m, config);
        } catch (LayerException e) {
            throw new ImageException(file + ": " + e.getMessage(), e);
        } catch (JsonException e) {
            throw new ImageException(file + ": manifest.json: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ImageException("cannot read " + file + ": " + Layout.message(e), e);
        } finally {
            for (Path p : files.values()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // temporary
                }
            }
        }
    }

    private static boolean matches(List<String> tags, String ref) {
        try {
            String want = Reference.parse(ref).toString();
            for (String t : tags) if (Reference.parse(t).toString().equals(want)) return true;
        } catch (ImageException ignored) {
            // not a reference
        }
        return false;
    }

    /** Moves a layer file into the layout as a blob, checking its uncompressed content against the diff id. */
    private static Descriptor addLayerFile(Layout l, Path lf, Digest diffId, String what) throws IOException, ImageException {
        Sha256 h = Sha256.create();
        Compression c;
        try (BufferedInputStream in = new BufferedInputStream(Files.newInputStream(lf), 1 << 16)) {
            c = Compression.sniff(in);
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) h.update(buf, 0, n);
        }
        Digest d = h.digest();
        try (InputStream in = Compression.decompressed(Files.newInputStream(lf))) {
            new VerifyingInputStream(in, diffId, -1, what + " (diff id " + diffId + ")").transferTo(OutputStream.nullOutputStream());
        }
        long size = Files.size(lf);
        l.commit(lf, d);
        String type = switch (c) {
            case GZIP -> MediaType.OCI_LAYER_GZIP;
            case ZSTD -> MediaType.OCI_LAYER_ZSTD;
            case NONE -> MediaType.OCI_LAYER;
        };
        return new Descriptor(type, d, size);
    }

    /** Writes one image as a docker-archive (docker save format, layers uncompressed) tagged {@code repoTag}. */
    public static void writeDocker(Layout layout, Image image, String repoTag, Path file) throws ImageException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        List<Path> temps = new ArrayList<>();
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16); TarWriter w = new TarWriter(out)) {
            String configName = image.id().hex() + ".json";
            w.file(configName, 0644, layout.readBlob(image.manifest().config()));
            JsonArray layerNames = new JsonArray();
            List<Digest> diffIds = image.config().diffIds();
            for (int k = 0; k < image.manifest().layers().size(); k++) {
                Descriptor ld = image.manifest().layers().get(k);
                Path plain = layout.newTemp("layer-");
                temps.add(plain);
                try (VerifyingInputStream blob = layout.verifiedBlob(ld); InputStream in = Compression.decompressed(blob)) {
                    Files.copy(in, plain, StandardCopyOption.REPLACE_EXISTING);
                    blob.finish();
                }
                String name = (k < diffIds.size() ? diffIds.get(k).hex() : ld.digest().hex()) + ".tar";
                try (InputStream in = Files.newInputStream(plain)) {
                    w.write(new TarEntry(name, TarEntry.Type.FILE, 0644, 0, 0, Files.size(plain), 0, 0, "", 0, 0, Map.of()), in);
                }
                Files.delete(plain);
                layerNames.add(name);
            }
            JsonObject entry = new JsonObject();
            entry.addProperty("Config", configName);
            JsonArray tags = new JsonArray();
            if (!repoTag.isEmpty()) tags.add(repoTag);
            entry.add("RepoTags", tags);
            entry.add("Layers", layerNames);
            JsonArray manifest = new JsonArray();
            manifest.add(entry);
            w.file("manifest.json", 0644, Json.compact(manifest).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ImageException("cannot write " + file + ": " + Layout.message(e), e);
        } finally {
            for (Path p : temps) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // temporary
                }
            }
        }
        move(tmp, file);
    }

    /** docker's short form of a reference for RepoTags: docker.io/library/busybox:latest is busybox:latest. */
    public static String dockerTag(String name) {
        try {
            Reference r = Reference.parse(name);
            String repo = r.registry().equals(Reference.DOCKER_HUB) ? r.repository().replaceFirst("^library/", "") : r.name();
            return repo + ":" + (r.tag() != null ? r.tag() : "latest");
        } catch (ImageException e) {
            return name.contains(":") ? name : "";
        }
    }
}
