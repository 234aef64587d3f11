package brig.image;

import brig.json.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An OCI image layout directory (oci-layout, index.json, blobs/sha256/...). Brig's image store
 * is one, so skopeo, umoci and others read it as {@code oci:/var/lib/brig/images:NAME}; images
 * are named by the annotation org.opencontainers.image.ref.name in index.json.
 *
 * <p>Concurrency: blobs are written to a temporary file and renamed into place, so readers never
 * see half a blob; index.json is replaced atomically under an exclusive lock on .brig.lock.
 * Writers hold a shared lock on .brig-gc.lock while they add blobs, and garbage collection
 * takes it exclusively, so it never deletes a blob that a pull has fetched but not yet named.
 */
public final class Layout {
    public static final Path DEFAULT_STORE = Path.of("/var/lib/brig/images");
    private static final String LAYOUT_FILE = "oci-layout", INDEX = "index.json", LOCK = ".brig.lock", GC_LOCK = ".brig-gc.lock", TMP = ".brig-tmp";
    /** Manifests, indexes and configs are small; anything bigger is hostile. */
    public static final long MAX_DOCUMENT = 8 << 20;

    private final Path dir;

    private Layout(Path dir) {
        this.dir = dir;
    }

    public Path dir() { return dir; }

    /** An existing layout. */
    public static Layout open(Path dir) throws ImageException {
        if (!Files.isRegularFile(dir.resolve(LAYOUT_FILE))) {
            if (!Files.exists(dir)) throw new ImageException(dir + ": no such image layout (directory does not exist)");
            throw new ImageException(dir + ": not an OCI image layout (no oci-layout file)");
        }
        return new Layout(dir);
    }

    /** The layout at {@code dir}, made (with an empty index) if it does not exist yet. */
    public static Layout openOrCreate(Path dir) throws ImageException {
        try {
            Files.createDirectories(dir.resolve("blobs/sha256"));
            Path marker = dir.resolve(LAYOUT_FILE);
            if (!Files.exists(marker)) writeAtomic(marker, "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            Layout l = new Layout(dir);
            if (!Files.exists(dir.resolve(INDEX))) {
                try (FileLock lock = l.lock(false)) {
                    if (!Files.exists(dir.resolve(INDEX))) l.writeIndex(List.of());
                }
            }
            return l;
        } catch (IOException e) {
            throw new ImageException("cannot create image layout " + dir + ": " + message(e));
        }
    }

    static String message(IOException e) {
        if (e instanceof NoSuchFileException) return e.getMessage() + ": no such file or directory";
        if (e instanceof java.nio.file.AccessDeniedException) return e.getMessage() + ": permission denied";
        return e.getMessage();
    }

    /** Locks index.json for a change. */
    FileLock lock(boolean shared) throws IOException {
        return lock(LOCK, shared);
    }

    /** Held shared while adding blobs not yet named in index.json; garbage collection holds it exclusively. */
    public FileLock writing() throws IOException {
        return lock(GC_LOCK, true);
    }

    private FileLock lock(String name, boolean shared) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(name), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            return ch.lock(0, Long.MAX_VALUE, shared);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** Releases a lock from {@link #lock} and its file. */
    public static void unlock(FileLock l) {
        if (l == null) return;
        try {
            l.release();
            l.channel().close();
        } catch (IOException ignored) {
            // closing the channel drops the lock in any case
        }
    }

    public Path blobPath(Digest d) {
        return dir.resolve("blobs").resolve(d.algorithm()).resolve(d.hex());
    }

    /** Where a blob being downloaded is kept until verified, so that an interrupted pull resumes. */
    public Path partialPath(Digest d) throws IOException {
        return tmpDir().resolve(d.hex() + ".partial");
    }

    Path tmpDir() throws IOException {
        return Files.createDirectories(dir.resolve(TMP));
    }

    /** Whether the blob is here with the descriptor's size (its digest was checked when it was written). */
    public boolean hasBlob(Descriptor d) {
        try {
            return Files.size(blobPath(d.digest())) == d.size();
        } catch (IOException e) {
            return false;
        }
    }

    /** The blob's raw bytes as a stream, unverified. */
    public InputStream openBlob(Descriptor d) throws ImageException {
        try {
            return Files.newInputStream(blobPath(d.digest()));
        } catch (NoSuchFileException e) {
            throw new ImageException(dir + ": blob " + d.digest() + " is missing (blobs/sha256/" + d.digest().hex() + ")");
        } catch (IOException e) {
            throw new ImageException(dir + ": cannot read blob " + d.digest() + ": " + message(e));
        }
    }

    /** The blob as a stream that fails at its end if size or digest are wrong. */
    public VerifyingInputStream verifiedBlob(Descriptor d) throws ImageException {
        return new VerifyingInputStream(openBlob(d), d.digest(), d.size(), dir + ": blob " + d.digest());
    }

    /** A small blob (manifest, config), verified. */
    public byte[] readBlob(Descriptor d) throws ImageException {
        if (d.size() > MAX_DOCUMENT) throw new ImageException(dir + ": blob " + d.digest() + " of " + d.size() + " bytes is too large for a " + d.mediaType());
        try (VerifyingInputStream in = verifiedBlob(d)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ImageException(e.getMessage(), e);
        }
    }

    /** Stores bytes as a blob; returns its descriptor. */
    public Descriptor putBlob(byte[] data, String mediaType) throws ImageException {
        Digest d = Digest.of(data);
        Path target = blobPath(d);
        try {
            if (!(Files.exists(target) && Files.size(target) == data.length)) {
                Path tmp = newTemp("blob-");
                try {
                    Files.write(tmp, data);
                    commit(tmp, d);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        } catch (IOException e) {
            throw new ImageException("cannot write blob " + d + " to " + dir + ": " + message(e));
        }
        return new Descriptor(mediaType, d, data.length);
    }

    /** A temporary file for a blob being written; {@link #commit} moves it into place. */
    public Path newTemp(String prefix) throws IOException {
        return Files.createTempFile(tmpDir(), prefix, ".tmp", java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--")));
    }

    /** Moves a fully written and verified temporary file into place as blob {@code d}. */
    public void commit(Path tmp, Digest d) throws IOException {
        Path target = blobPath(d);
        Files.createDirectories(target.getParent());
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Copies a blob from another layout (a hard link when both are on one file system). */
    public void copyBlobFrom(Layout src, Descriptor d) throws ImageException {
        if (hasBlob(d)) return;
        Path from = src.blobPath(d.digest()), target = blobPath(d.digest());
        try {
            Files.createDirectories(target.getParent());
            try {
                Files.createLink(target, from);
                return;
            } catch (FileAlreadyExistsException e) {
                if (hasBlob(d)) return;
            } catch (IOException | UnsupportedOperationException e) {
                // another file system: copy and verify
            }
            Path tmp = newTemp("blob-");
            try {
                try (VerifyingInputStream in = src.verifiedBlob(d); OutputStream out = Files.newOutputStream(tmp)) {
                    in.transferTo(out);
                }
                commit(tmp, d.digest());
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new ImageException("cannot copy blob " + d.digest() + " into " + dir + ": " + message(e));
        }
    }

    /** The entries of index.json. */
    public List<Descriptor> manifests() throws ImageException {
        Path f = dir.resolve(INDEX);
        try {
            if (Files.size(f) > MAX_DOCUMENT) throw new ImageException(f + ": too large");
            return Index.parse(Files.readAllBytes(f), MediaType.OCI_INDEX, f.toString()).manifests();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new ImageException("cannot read " + f + ": " + message(e));
        }
    }

    private void writeIndex(List<Descriptor> entries) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("schemaVersion", 2);
        o.addProperty("mediaType", MediaType.OCI_INDEX);
        JsonArray a = new JsonArray();
        for (Descriptor d : entries) a.add(d.json());
        o.add("manifests", a);
        writeAtomic(dir.resolve(INDEX), Json.compact(o).getBytes(StandardCharsets.UTF_8));
    }

    private static void writeAtomic(Path file, byte[] data) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp" + ProcessHandle.current().pid());
        Files.write(tmp, data);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Names {@code manifest} {@code refName} in index.json, replacing what had that name. */
    public void tag(Descriptor manifest, String refName) throws ImageException {
        FileLock l = null;
        try {
            l = lock(false);
            List<Descriptor> entries = new ArrayList<>();
            for (Descriptor d : manifests()) if (!d.refName().equals(refName)) entries.add(d);
            Map<String, String> ann = new LinkedHashMap<>(manifest.annotations());
            ann.put(Descriptor.REF_NAME, refName);
            entries.add(new Descriptor(manifest.mediaType(), manifest.digest(), manifest.size(), ann, manifest.platform()));
            writeIndex(entries);
        } catch (IOException e) {
            throw new ImageException("cannot update " + dir.resolve(INDEX) + ": " + message(e));
        } finally {
            unlock(l);
        }
    }

    /** Removes the name; false if no image had it. */
    public boolean untag(String refName) throws ImageException {
        FileLock l = null;
        try {
            l = lock(false);
            List<Descriptor> entries = new ArrayList<>(), all = manifests();
            for (Descriptor d : all) if (!d.refName().equals(refName)) entries.add(d);
            if (entries.size() == all.size()) return false;
            writeIndex(entries);
            return true;
        } catch (IOException e) {
            throw new ImageException("cannot update " + dir.resolve(INDEX) + ": " + message(e));
        } finally {
            unlock(l);
        }
    }

    /** What garbage collection removed. */
    public record Collected(int blobs, long bytes) {}

    /** Deletes every blob no name in index.json reaches (manifests, indexes, configs, layers). */
    public Collected gc() throws ImageException {
        FileLock l = null;
        try {
            l = lock(GC_LOCK, false);
            Set<Digest> live = new HashSet<>();
            for (Descriptor d : manifests()) mark(d, live);
            int n = 0;
            long bytes = 0;
            Path blobs = dir.resolve("blobs/sha256");
            if (Files.isDirectory(blobs)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(blobs)) {
                    for (Path p : ds) {
                        String hex = p.getFileName().toString();
                        if (Digest.looksLike("sha256:" + hex) && live.contains(new Digest("sha256", hex))) continue;
                        bytes += Files.size(p);
                        Files.deleteIfExists(p);
                        n++;
                    }
                }
            }
            Path tmp = dir.resolve(TMP);
            if (Files.isDirectory(tmp)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp)) {
                    for (Path p : ds) Files.deleteIfExists(p);
                }
            }
            return new Collected(n, bytes);
        } catch (IOException e) {
            throw new ImageException("cannot collect garbage in " + dir + ": " + message(e));
        } finally {
            unlock(l);
        }
    }

    private void mark(Descriptor d, Set<Digest> live) throws ImageException {
        if (!live.add(d.digest()) || !hasBlob(d)) return;
        if (MediaType.isIndex(d.mediaType())) {
            for (Descriptor m : Index.parse(readBlob(d), d.mediaType(), "blob " + d.digest()).manifests()) mark(m, live);
        } else if (MediaType.isManifest(d.mediaType())) {
            Manifest m = Manifest.parse(readBlob(d), d.mediaType(), "blob " + d.digest());
            live.add(m.config().digest());
            for (Descriptor layer : m.layers()) live.add(layer.digest());
        }
    }

    /** The index.json entry named {@code refName}, or null. */
    public Descriptor find(String refName) throws ImageException {
        for (Descriptor d : manifests()) if (d.refName().equals(refName)) return d;
        return null;
    }

    /** Loads the image an index.json entry names, choosing {@code platform} from an index. */
    public Image image(String name, Descriptor entry, Platform platform) throws ImageException {
        Descriptor d = entry;
        for (int depth = 0; MediaType.isIndex(d.mediaType()); depth++) {
            if (depth > 4) throw new ImageException(dir + ": image " + name + ": indexes nested too deep");
            d = Index.parse(readBlob(d), d.mediaType(), dir + ": blob " + d.digest()).select(platform, "image " + name);
        }
        Manifest m = Manifest.parse(readBlob(d), d.mediaType(), dir + ": manifest " + d.digest());
        ImageConfig c = ImageConfig.parse(readBlob(m.config()), dir + ": config " + m.config().digest());
        return new Image(name, d, m, c);
    }
}
