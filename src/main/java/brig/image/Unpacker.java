package brig.image;

import brig.json.Json;
import brig.layer.Compression;
import brig.layer.Extractor;
import brig.layer.LayerException;
import brig.syscalls.Libc;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * `unpack`: an image to a runtime bundle, rootfs/ plus config.json. Each layer streams from its
 * blob through decompression straight into extraction while both its digest and its diff id
 * are checked; if anything fails, what was made is removed again.
 */
public final class Unpacker {
    private Unpacker() {}

    public static void unpack(Layout layout, Image image, Path bundle) throws ImageException {
        List<Descriptor> layers = image.manifest().layers();
        List<Digest> diffIds = image.config().diffIds();
        if (layers.size() != diffIds.size()) {
            throw new ImageException("image " + image.name() + ": config rootfs.diff_ids has " + diffIds.size() + " entries for "
                    + layers.size() + " layers");
        }
        boolean created = !Files.exists(bundle, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Path rootfs = bundle.resolve("rootfs"), configJson = bundle.resolve("config.json");
        try {
            if (created) {
                Files.createDirectories(bundle.toAbsolutePath().getParent());
                // 0700, as umoci does: the rootfs may hold setuid programs that host users must not reach.
                Files.createDirectory(bundle, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } else {
                if (!Files.isDirectory(bundle)) throw new ImageException("bundle " + bundle + " exists and is not a directory");
                try (var s = Files.list(bundle)) {
                    if (s.findAny().isPresent()) throw new ImageException("bundle " + bundle + " exists and is not empty");
                }
            }
            Files.createDirectory(rootfs);
        } catch (IOException e) {
            throw new ImageException("cannot create bundle " + bundle + ": " + Layout.message(e));
        }
        boolean done = false;
        try {
            boolean privileged = Libc.geteuid() == 0;
            try (Extractor x = new Extractor(rootfs, privileged)) {
                for (int k = 0; k < layers.size(); k++) apply(layout, x, layers.get(k), diffIds.get(k));
            }
            byte[] json = (Json.pretty(BundleConfig.build(image.config(), rootfs, !privileged, Libc.geteuid(), Libc.getegid())) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            Files.write(configJson, json);
            done = true;
        } catch (IOException e) {
            throw new ImageException("cannot unpack " + image.name() + " into " + bundle + ": " + Layout.message(e), e);
        } finally {
            if (!done) {
                removeTree(rootfs);
                try {
                    Files.deleteIfExists(configJson);
                    if (created) Files.deleteIfExists(bundle);
                } catch (IOException ignored) {
                    // best effort: the error being reported matters more
                }
            }
        }
    }

    private static void apply(Layout layout, Extractor x, Descriptor layer, Digest diffId) throws ImageException, IOException {
        String label = layer.digest().toString();
        try (VerifyingInputStream blob = layout.verifiedBlob(layer)) {
            try {
                InputStream tar = Compression.decompressed(blob);
                VerifyingInputStream diff = new VerifyingInputStream(tar, diffId, -1, "layer " + label + ": uncompressed content (diff id " + diffId + ")");
                x.apply(diff, label);
                diff.finish();
                blob.finish();
            } catch (LayerException | IOException e) {
                if (!(e instanceof VerifyingInputStream.MismatchException)) {
                    // A corrupt blob shows first as a broken tar or gzip stream: report the cause.
                    try {
                        blob.finish();
                    } catch (VerifyingInputStream.MismatchException m) {
                        throw new ImageException(m.getMessage(), m);
                    } catch (IOException ignored) {
                        // the blob itself cannot be read: report the first error
                    }
                }
                if (e instanceof java.util.zip.ZipException) throw new ImageException("layer " + label + ": corrupt gzip data: " + e.getMessage(), e);
                throw new ImageException(e.getMessage(), e);
            }
        }
    }

    /** Deletes a tree without following symlinks out of it. */
    public static void removeTree(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                    if (!(exc instanceof NoSuchFileException)) Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
