package brig.registry;

import brig.image.Archives;
import brig.image.Descriptor;
import brig.image.Image;
import brig.image.ImageException;
import brig.image.Images;
import brig.image.Layout;
import brig.image.Platform;
import brig.image.Transport;
import brig.image.Unpacker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * `copy SRC DST` between registries (docker://), OCI layouts (oci:), oci-archive: and
 * docker-archive: files. The image goes through an OCI layout: the destination's own when it is
 * one, a temporary one otherwise. One platform's image is copied (chosen from an index).
 */
public final class Copier {
    private Copier() {}

    /** Makes a registry client for a reference (credentials and TLS policy are the caller's). */
    public interface Clients {
        RegistryClient client(brig.image.Reference ref) throws ImageException;
    }

    public static Image copy(Transport src, Transport dst, Platform platform, Clients clients, Progress progress) throws ImageException {
        Path tmp = null;
        try {
            // 1. The source as a layout and an image in it.
            Layout srcLayout;
            Image image;
            switch (src) {
                case Transport.Registry r -> {
                    Layout into;
                    String name;
                    if (dst instanceof Transport.Oci o) {
                        into = Layout.openOrCreate(o.dir());
                        name = o.ref().isEmpty() ? defaultRefName(r.ref()) : o.ref();
                    } else {
                        tmp = Files.createTempDirectory("brig-copy-");
                        into = Layout.openOrCreate(tmp.resolve("layout"));
                        name = r.ref().toString();
                    }
                    Puller.Pulled p = Puller.pull(clients.client(r.ref()), r.ref(), platform, into, name, progress);
                    Image img = into.image(name, p.manifest(), platform);
                    if (dst instanceof Transport.Oci) return img;
                    srcLayout = into;
                    image = img;
                }
                case Transport.Oci o -> {
                    srcLayout = Layout.open(o.dir());
                    image = Images.inLayout(srcLayout, o.ref(), platform);
                }
                case Transport.OciArchive a -> {
                    tmp = Files.createTempDirectory("brig-copy-");
                    srcLayout = Archives.readOci(a.file(), tmp.resolve("layout"));
                    image = Images.inLayout(srcLayout, a.ref(), platform);
                }
                case Transport.DockerArchive a -> {
                    tmp = Files.createTempDirectory("brig-copy-");
                    srcLayout = Layout.openOrCreate(tmp.resolve("layout"));
                    image = Archives.readDocker(a.file(), a.ref(), tmp.resolve("layout"));
                }
                case Transport.Store s -> throw new ImageException("copy needs a transport for " + s.name() + " (docker://, oci:, oci-archive:, docker-archive:)");
            }
            // 2. The destination.
            switch (dst) {
                case Transport.Oci o -> {
                    Layout to = Layout.openOrCreate(o.dir());
                    put(srcLayout, image, to, o.ref().isEmpty() ? simpleName(image.name()) : o.ref());
                }
                case Transport.OciArchive a -> {
                    if (tmp == null) tmp = Files.createTempDirectory("brig-copy-");
                    Layout out = Layout.openOrCreate(tmp.resolve("archive"));
                    put(srcLayout, image, out, a.ref().isEmpty() ? simpleName(image.name()) : a.ref());
                    Files.deleteIfExists(out.dir().resolve(".brig.lock"));
                    Archives.writeOci(out, a.file());
                }
                case Transport.DockerArchive a -> Archives.writeDocker(srcLayout, image, a.ref().isEmpty() ? Archives.dockerTag(image.name()) : a.ref(), a.file());
                case Transport.Registry r -> Pusher.push(srcLayout, image, clients.client(r.ref()), r.ref(), progress);
                case Transport.Store s -> throw new ImageException("copy needs a transport for " + s.name() + " (docker://, oci:, oci-archive:, docker-archive:)");
            }
            return image;
        } catch (IOException e) {
            throw new ImageException("copy failed: " + e.getMessage(), e);
        } finally {
            if (tmp != null) Unpacker.removeTree(tmp);
        }
    }

    /** Copies an image's blobs and manifest into another layout and names it. */
    static void put(Layout from, Image image, Layout to, String refName) throws ImageException {
        java.nio.channels.FileLock l = null;
        try {
            l = to.writing();
            for (Descriptor d : image.manifest().layers()) to.copyBlobFrom(from, d);
            to.copyBlobFrom(from, image.manifest().config());
            to.copyBlobFrom(from, image.descriptor());
            to.tag(new Descriptor(image.descriptor().mediaType(), image.descriptor().digest(), image.descriptor().size()), refName);
        } catch (IOException e) {
            throw new ImageException("cannot write to " + to.dir() + ": " + e.getMessage(), e);
        } finally {
            Layout.unlock(l);
        }
    }

    /** An oci: name from a registry reference, as skopeo would be given it: the tag, or the digest. */
    static String defaultRefName(brig.image.Reference r) {
        return r.tag() != null ? r.tag() : r.digest().toString();
    }

    static String simpleName(String name) {
        int slash = name.lastIndexOf('/'), colon = name.lastIndexOf(':');
        return colon > slash ? name.substring(colon + 1) : (name.isEmpty() ? "latest" : name);
    }
}
