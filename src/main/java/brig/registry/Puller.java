package brig.registry;

import brig.image.Descriptor;
import brig.image.Digest;
import brig.image.ImageConfig;
import brig.image.ImageException;
import brig.image.Index;
import brig.image.Layout;
import brig.image.Manifest;
import brig.image.MediaType;
import brig.image.Platform;
import brig.image.Reference;
import brig.image.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Copies an image from a registry into an OCI layout: picks the platform's manifest from an
 * index or manifest list, fetches config and layers (several at once, blobs already in the
 * layout skipped, each verified against its digest as it streams and resumed with a Range
 * request when a connection breaks), then names the manifest in index.json. Docker v2s2
 * manifests are stored in OCI form (same blobs), as skopeo does, so OCI tools read the store.
 */
public final class Puller {
    private Puller() {}

    static final int PARALLEL = 4;

    /** What was pulled: the manifest as stored, and the image's config. */
    public record Pulled(Descriptor manifest, Digest configDigest, ImageConfig config) {}

    public static Pulled pull(RegistryClient client, Reference ref, Platform platform, Layout dest, String refName, Progress progress)
            throws ImageException {
        try (Session s = start(client, ref, platform, dest, progress)) {
            return s.finish(refName);
        }
    }

    /**
     * A pull under way: manifest and config are here, the layers are downloading (one future
     * each, in manifest order), so that unpacking can start on a layer as soon as it is in.
     */
    public static final class Session implements AutoCloseable {
        public final Reference ref;
        public final Manifest manifest;
        public final ImageConfig config;
        public final List<Future<Void>> layers;
        private final RegistryClient.Fetched chosen;
        private final Layout dest;
        private final ExecutorService pool;
        private final FileLock shared;

        private Session(Reference ref, Manifest manifest, ImageConfig config, RegistryClient.Fetched chosen, Layout dest,
                ExecutorService pool, List<Future<Void>> layers, FileLock shared) {
            this.ref = ref;
            this.manifest = manifest;
            this.config = config;
            this.chosen = chosen;
            this.dest = dest;
            this.pool = pool;
            this.layers = layers;
            this.shared = shared;
        }

        /** Waits for every layer, stores the manifest and names it. */
        public Pulled finish(String refName) throws ImageException {
            for (Future<Void> f : layers) await(f);
            Descriptor stored = manifest.mediaType().equals(MediaType.DOCKER_MANIFEST)
                    ? dest.putBlob(manifest.ociBytes(), MediaType.OCI_MANIFEST)
                    : dest.putBlob(chosen.bytes(), MediaType.OCI_MANIFEST);
            Descriptor named = new Descriptor(stored.mediaType(), stored.digest(), stored.size(), java.util.Map.of(), null);
            dest.tag(named, refName);
            return new Pulled(named, manifest.config().digest(), config);
        }

        /** The image as pulled so far (its blobs may still be arriving). */
        public brig.image.Image image() {
            return new brig.image.Image(ref.toString(), new Descriptor(chosen.mediaType(), chosen.digest(), chosen.bytes().length), manifest, config);
        }

        @Override
        public void close() {
            layers.forEach(j -> j.cancel(true));
            pool.shutdownNow();
            Layout.unlock(shared);
        }
    }

    /** Waits for a layer download; its failure as the ImageException it was. */
    public static void await(Future<?> f) throws ImageException {
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ImageException ie) throw ie;
            throw new ImageException("pull failed: " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.CancellationException e) {
            throw new ImageException("pull cancelled");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException("interrupted");
        }
    }

    public static Session start(RegistryClient client, Reference ref, Platform platform, Layout dest, Progress progress) throws ImageException {
        String repo = ref.repository();
        RegistryClient.Fetched top = client.manifest(repo, ref.manifestRef());
        RegistryClient.Fetched chosen = top;
        boolean fromIndex = false;
        if (MediaType.isIndex(top.mediaType())) {
            Descriptor d = Index.parse(top.bytes(), top.mediaType(), "index of " + ref).select(platform, ref.toString());
            chosen = client.manifest(repo, d.digest().toString());
            fromIndex = true;
        }
        Manifest m = Manifest.parse(chosen.bytes(), chosen.mediaType(), "manifest of " + ref);
        FileLock shared = null;
        ExecutorService pool = null;
        try {
            shared = dest.writing(); // keeps rmi's garbage collection away from blobs not yet named
            fetch(client, repo, m.config(), dest, null);
            ImageConfig config = ImageConfig.parse(dest.readBlob(m.config()), "config of " + ref);
            if (!fromIndex && !config.os().isEmpty() && !platform.accepts(config.platform())) {
                progress.note("warning: " + ref + " is an image for " + config.platform() + ", not " + platform);
            }
            pool = Executors.newFixedThreadPool(Math.max(1, Math.min(PARALLEL, m.layers().size())), r -> {
                Thread t = new Thread(r, "brig-pull");
                t.setDaemon(true);
                return t;
            });
            List<Future<Void>> jobs = new ArrayList<>();
            for (Descriptor l : m.layers()) {
                Progress.Bar bar = progress.bar(l.digest().shortId(), l.size());
                jobs.add(pool.submit(() -> {
                    fetch(client, repo, l, dest, bar);
                    return null;
                }));
            }
            return new Session(ref, m, config, chosen, dest, pool, jobs, shared);
        } catch (IOException e) {
            if (pool != null) pool.shutdownNow();
            Layout.unlock(shared);
            throw new ImageException("cannot write to " + dest.dir() + ": " + e.getMessage(), e);
        } catch (ImageException | RuntimeException e) {
            if (pool != null) pool.shutdownNow();
            Layout.unlock(shared);
            throw e;
        }
    }

    /** Downloads one blob into the layout, resuming a partial download, verifying size and digest. */
    static void fetch(RegistryClient client, String repo, Descriptor d, Layout dest, Progress.Bar bar) throws ImageException {
        String what = "blob " + d.digest() + " of " + client.registry() + "/" + repo;
        if (dest.hasBlob(d)) {
            if (bar != null) bar.done("already present");
            return;
        }
        try {
            Path partial = dest.partialPath(d.digest());
            try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                    FileLock lock = ch.lock()) {
                if (dest.hasBlob(d)) { // another pull fetched it while we waited
                    if (bar != null) bar.done("already present");
                    return;
                }
                Sha256 h = Sha256.create();
                long have = ch.size();
                if (have > d.size()) {
                    ch.truncate(0);
                    have = 0;
                }
                byte[] buf = new byte[1 << 16];
                if (have > 0) { // resume what an earlier, interrupted pull left
                    ByteBuffer bb = ByteBuffer.wrap(buf);
                    long pos = 0;
                    while (pos < have) {
                        bb.clear();
                        int n = ch.read(bb, pos);
                        if (n <= 0) break;
                        h.update(buf, 0, n);
                        pos += n;
                    }
                }
                int failures = 0;
                while (true) {
                    try (RegistryClient.Response r = client.blob(repo, d.digest(), have)) {
                        if (r.status() == 200 && have > 0) { // no Range support: start over
                            ch.truncate(0);
                            have = 0;
                            h = Sha256.create();
                        } else if (r.status() == 416) {
                            ch.truncate(0);
                            have = 0;
                            h = Sha256.create();
                            if (++failures >= RegistryClient.ATTEMPTS) throw new RegistryException(what + ": range not satisfiable");
                            continue;
                        } else if (r.status() == 404) {
                            throw new RegistryException(what + " not found (HTTP 404)");
                        } else if (r.status() != 200 && r.status() != 206) {
                            throw RegistryClient.error("GET", r);
                        }
                        if (r.status() == 206) {
                            String range = r.header("Content-Range").orElse("");
                            if (!range.startsWith("bytes " + have + "-")) throw new RegistryException(what + ": unexpected Content-Range \"" + range + "\"");
                        }
                        ch.position(have);
                        InputStream in = r.body();
                        while (true) {
                            int n = in.read(buf);
                            if (n < 0) break;
                            if (have + n > d.size()) {
                                ch.truncate(0);
                                throw new RegistryException(what + ": more than the " + d.size() + " bytes its descriptor gives");
                            }
                            h.update(buf, 0, n);
                            ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                            while (bb.hasRemaining()) ch.write(bb);
                            have += n;
                            if (bar != null) bar.set(have);
                        }
                        if (have < d.size()) throw new IOException("connection closed after " + have + " of " + d.size() + " bytes");
                        break;
                    } catch (IOException e) {
                        if (++failures >= RegistryClient.ATTEMPTS) {
                            throw new RegistryException("GET " + what + ": " + RegistryClient.describe(e) + " (gave up after " + failures + " attempts)", e);
                        }
                        RegistryClient.backoff(failures, null); // then resume from what we have
                    }
                }
                Digest got = h.digest();
                if (!got.equals(d.digest())) {
                    ch.truncate(0);
                    throw new RegistryException(what + ": digest mismatch: got " + got);
                }
                dest.commit(partial, d.digest());
                if (bar != null) bar.done("done");
            } finally {
                if (dest.hasBlob(d)) Files.deleteIfExists(partial);
            }
        } catch (IOException e) {
            throw new ImageException("cannot write " + what + " into " + dest.dir() + ": " + e.getMessage(), e);
        }
    }
}
