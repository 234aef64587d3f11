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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * `unpack`: an image to a runtime bundle, rootfs/ plus config.json. Each layer streams from its
 * blob through decompression straight into extraction while both its digest and its diff id
 * are checked; if anything fails, what was made is removed again.
 */
public final class Unpacker {
    private Unpacker() {}

    public static void unpack(Layout layout, Image image, Path bundle) throws ImageException {
        unpack(layout, image, bundle, null);
    }

    /**
     * @param ready one future per layer that completes when its blob is in the layout (a pull
     *     under way), or null when all are there
     */
    public static void unpack(Layout layout, Image image, Path bundle, List<? extends Future<?>> ready) throws ImageException {
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
                checkExisting(bundle);
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
            List<LayerStream> streams = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "brig-unpack");
                t.setDaemon(true);
                return t;
            });
            try (Extractor x = new Extractor(rootfs, privileged)) {
                // Layers are decompressed and verified ahead on other threads (two at a time)
                // while this one creates the files: inflating costs about as much as extracting.
                for (int k = 0; k < layers.size(); k++) {
                    LayerStream ls = new LayerStream(layout, layers.get(k), diffIds.get(k), ready == null ? null : ready.get(k));
                    streams.add(ls);
                    if (AHEAD) pool.submit(ls::produce);
                }
                for (LayerStream ls : streams) {
                    try {
                        x.apply(ls, ls.label);
                        ls.drain();
                    } catch (LayerException | IOException e) {
                        throw ls.failure(e);
                    }
                }
            } finally {
                for (LayerStream ls : streams) ls.cancel();
                pool.shutdownNow();
            }
            byte[] json = (Json.pretty(BundleConfig.build(image.config(), rootfs, !privileged, Libc.geteuid(), Libc.getegid())) + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            Files.write(configJson, json);
            done = true;
        } catch (IOException e) {
            throw new ImageException("cannot unpack " + image.name() + " into " + bundle + ": " + Layout.message(e), e);
        } catch (brig.syscalls.SyscallException e) {
            throw new ImageException("cannot unpack " + image.name() + " into " + bundle + ": " + e.getMessage(), e);
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

    /**
     * An existing bundle directory must keep other local users away from the image's setuid
     * programs and device nodes, as the 0700 bundle Brig creates does. Its mode is never
     * changed: an engine or the user made it so (a user-namespaced init must traverse it), so
     * one that does not protect the rootfs is refused instead. It is protected when other
     * users cannot enter it or some directory above it; it must be the unpacking user's and
     * writable by nobody else (who could otherwise swap what Brig unpacks or open it up).
     */
    static void checkExisting(Path bundle) throws ImageException {
        try {
            java.nio.file.LinkOption nofollow = java.nio.file.LinkOption.NOFOLLOW_LINKS;
            if (Files.isSymbolicLink(bundle)) throw new ImageException("bundle " + bundle + " is a symbolic link: refused, name the directory itself");
            if (!Files.isDirectory(bundle, nofollow)) throw new ImageException("bundle " + bundle + " exists and is not a directory");
            int me = Libc.geteuid(), uid = (int) Files.getAttribute(bundle, "unix:uid", nofollow);
            int mode = (int) Files.getAttribute(bundle, "unix:mode", nofollow) & 07777;
            if (uid != me) {
                throw new ImageException("bundle " + bundle + " is owned by uid " + Integer.toUnsignedString(uid) + ", not by the unpacking user (uid "
                        + me + "): refused, its owner could reach the image's setuid programs and device nodes");
            }
            if ((mode & 0022) != 0) {
                throw new ImageException("bundle " + bundle + " is writable by other users (mode " + octal(mode)
                        + "): refused, they could replace the rootfs or open it up to everyone");
            }
            for (Path d = bundle.toRealPath(); d != null; d = d.getParent()) {
                int m = (int) Files.getAttribute(d, "unix:mode", nofollow), owner = (int) Files.getAttribute(d, "unix:uid", nofollow);
                if ((m & 0011) == 0 && (owner == me || owner == 0)) return; // other users cannot enter it, so nothing below
            }
            throw new ImageException("bundle " + bundle + " can be entered by other users (mode " + octal(mode)
                    + ", and by every directory above it): refused, they could reach the image's setuid programs and device nodes;"
                    + " make it 0700 or name a directory that does not exist yet (Brig creates it 0700)");
        } catch (IOException e) {
            throw new ImageException("bundle " + bundle + ": " + Layout.message(e));
        }
    }

    private static String octal(int mode) {
        return String.format("%04o", mode);
    }

    /**
     * A layer's tar bytes, produced by another thread (read, verified against the blob digest,
     * decompressed, verified against the diff id) and handed over in chunks through a bounded
     * queue. A producer failure reaches the reader as an exception at that point in the stream.
     */
    static final boolean AHEAD = !Boolean.getBoolean("brig.unpackInline");

    /** Bytes accepted after a layer's end-of-archive blocks (see {@link LayerStream#drain}). */
    static final long MAX_TRAILING = 16L << 20;

    static final class LayerStream extends InputStream {
        private static final int CHUNK = 1 << 18;
        private static final Object END = new Object();
        private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(24);
        private final Layout layout;
        private final Descriptor layer;
        private final Digest diffId;
        final String label;
        private volatile boolean cancelled;
        private byte[] chunk;
        private int pos, len;
        private boolean ended;
        private ImageException failed;

        private final Future<?> ready;

        LayerStream(Layout layout, Descriptor layer, Digest diffId, Future<?> ready) {
            this.ready = ready;
            this.layout = layout;
            this.layer = layer;
            this.diffId = diffId;
            this.label = layer.digest().toString();
        }

        private VerifyingInputStream directBlob, directDiff;

        /** Waits until the layer's blob is in the layout. */
        private void await() throws ImageException {
            if (ready == null) return;
            try {
                ready.get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof ImageException ie) throw ie;
                throw new ImageException("layer " + label + ": " + e.getCause(), e.getCause());
            } catch (java.util.concurrent.CancellationException e) {
                throw new ImageException("layer " + label + ": download cancelled");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ImageException("interrupted");
            }
        }

        /** No producer thread: read() decompresses on the caller's thread. */
        void direct() throws ImageException {
            await();
            directBlob = layout.verifiedBlob(layer);
            try {
                directDiff = new VerifyingInputStream(Compression.decompressed(directBlob), diffId, -1,
                        "layer " + label + ": uncompressed content (diff id " + diffId + ")");
            } catch (IOException e) {
                throw new ImageException("layer " + label + ": " + e.getMessage(), e);
            }
        }

        void produce() {
            Object last = END;
            try {
                await();
            } catch (ImageException e) {
                put(e);
                return;
            }
            try (VerifyingInputStream blob = layout.verifiedBlob(layer)) {
                try {
                    InputStream tar = Compression.decompressed(blob);
                    VerifyingInputStream diff = new VerifyingInputStream(tar, diffId, -1, "layer " + label + ": uncompressed content (diff id " + diffId + ")");
                    while (!cancelled) {
                        byte[] b = new byte[CHUNK];
                        int n = diff.readNBytes(b, 0, CHUNK);
                        if (n <= 0) break;
                        put(n == CHUNK ? b : Arrays.copyOf(b, n));
                    }
                    blob.finish();
                } catch (IOException e) {
                    if (!(e instanceof VerifyingInputStream.MismatchException)) {
                        // A corrupt blob shows first as a broken gzip stream: report the cause.
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
            } catch (ImageException e) {
                last = e;
            } catch (IOException | RuntimeException e) {
                last = new ImageException("layer " + label + ": " + e.getMessage(), e);
            }
            put(last);
        }

        private void put(Object o) {
            try {
                while (!cancelled && !queue.offer(o, 100, TimeUnit.MILLISECONDS)) {
                    // the extractor is behind: wait for room
                }
            } catch (InterruptedException e) {
                cancelled = true;
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int n) throws IOException {
            if (!AHEAD && directDiff == null && !ended) {
                try {
                    direct();
                } catch (ImageException e) {
                    ended = true;
                    failed = e;
                    throw new IOException(e.getMessage(), e);
                }
            }
            if (directDiff != null) {
                if (ended) return -1;
                try {
                    int r = directDiff.read(b, off, n);
                    if (r < 0) {
                        directBlob.finish();
                        directBlob.close();
                        ended = true;
                    }
                    return r;
                } catch (IOException e) {
                    ended = true;
                    ImageException x = directFailure(e);
                    failed = x;
                    throw new IOException(x.getMessage(), x);
                }
            }
            while (chunk == null || pos == len) {
                if (ended) return -1;
                Object o;
                try {
                    o = queue.take();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted");
                }
                if (o == END) {
                    ended = true;
                    return -1;
                }
                if (o instanceof ImageException e) {
                    ended = true;
                    failed = e;
                    throw new IOException(e.getMessage(), e);
                }
                chunk = (byte[]) o;
                pos = 0;
                len = chunk.length;
            }
            int k = Math.min(n, len - pos);
            System.arraycopy(chunk, pos, b, off, k);
            pos += k;
            return k;
        }

        private ImageException directFailure(IOException e) {
            if (!(e instanceof VerifyingInputStream.MismatchException)) {
                try {
                    directBlob.finish();
                } catch (VerifyingInputStream.MismatchException m) {
                    return new ImageException(m.getMessage(), m);
                } catch (IOException ignored) {
                    // report the first error
                }
            }
            if (e instanceof java.util.zip.ZipException) return new ImageException("layer " + label + ": corrupt gzip data: " + e.getMessage(), e);
            return new ImageException(e.getMessage(), e);
        }

        /**
         * Reads to the end, where the producer reports a digest or diff id mismatch. What
         * follows the tar's end is written nowhere, so nothing else bounds it: a few zero
         * blocks of padding are real (tar pads to its record size, 10 KiB by default), a
         * compressed stream of gigabytes of zeros is a bomb.
         */
        void drain() throws IOException {
            byte[] b = new byte[CHUNK];
            long total = 0;
            for (int n; (n = read(b, 0, b.length)) >= 0; ) {
                total += n; // the tar's end blocks and padding are part of the diff id
                if (total > MAX_TRAILING) {
                    throw new IOException("more than " + MAX_TRAILING + " bytes after the end of its tar archive");
                }
            }
        }

        /** The error to report when applying failed with {@code e}: the producer's, if it had one first. */
        ImageException failure(Exception e) {
            if (failed != null) return failed;
            if (!ended) { // the tar broke; a corrupt blob is the likelier cause: wait for the producer's verdict
                try {
                    drain();
                } catch (IOException ignored) {
                    // failed is set if the producer found something
                }
                if (failed != null) return failed;
            }
            if (e instanceof LayerException) return new ImageException(e.getMessage(), e);
            return new ImageException("layer " + label + ": " + e.getMessage(), e);
        }

        void cancel() {
            cancelled = true;
            queue.clear();
            if (directBlob != null) {
                try {
                    directBlob.close();
                } catch (IOException ignored) {
                    // closing a file we read
                }
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
