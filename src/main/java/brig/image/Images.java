package brig.image;

import java.util.ArrayList;
import java.util.List;

/** Finding images by the names users give them: in the store, or in an OCI layout. */
public final class Images {
    private Images() {}

    /** A store image by name ("busybox" is docker.io/library/busybox:latest) or by id prefix. */
    public static Image find(Layout store, String name, Platform platform) throws ImageException {
        Descriptor d = entry(store, name);
        return store.image(d.refName(), d, platform);
    }

    /** The index.json entry of a store image. */
    public static Descriptor entry(Layout store, String name) throws ImageException {
        Descriptor d = store.find(name);
        if (d != null) return d;
        try {
            d = store.find(Reference.parse(name).toString());
            if (d != null) return d;
            if (!name.contains("/")) { // imported images are localhost/NAME, as podman names them
                d = store.find(Reference.parse("localhost/" + name).toString());
                if (d != null) return d;
            }
        } catch (ImageException notAReference) {
            if (!Reference.looksLikeId(name)) throw notAReference;
        }
        if (Reference.looksLikeId(name)) {
            String hex = name.startsWith("sha256:") ? name.substring(7) : name;
            List<Descriptor> hits = new ArrayList<>();
            for (Descriptor e : store.manifests()) {
                if (e.digest().hex().startsWith(hex) || configDigest(store, e).hex().startsWith(hex)) hits.add(e);
            }
            if (hits.size() == 1) return hits.get(0);
            if (hits.stream().map(Descriptor::digest).distinct().count() == 1) return hits.get(0);
            if (hits.size() > 1) throw new ImageException("image id " + name + " is ambiguous: it starts " + hits.size() + " images' ids");
        }
        throw new ImageException("image \"" + name + "\" is not in the store " + store.dir() + " (see brig images; get it with brig pull)");
    }

    private static Digest configDigest(Layout store, Descriptor e) {
        try {
            if (!MediaType.isManifest(e.mediaType())) return e.digest();
            return Manifest.parse(store.readBlob(e), e.mediaType(), "").config().digest();
        } catch (ImageException x) {
            return e.digest();
        }
    }

    /** The image {@code ref} names in an OCI layout; with no ref, the layout's only image. */
    public static Image inLayout(Layout layout, String ref, Platform platform) throws ImageException {
        if (ref.isEmpty()) {
            List<Descriptor> all = layout.manifests();
            if (all.size() != 1) {
                throw new ImageException("oci:" + layout.dir() + " holds " + all.size() + " images: name one as oci:" + layout.dir() + ":REF");
            }
            return layout.image(all.get(0).refName(), all.get(0), platform);
        }
        Descriptor d = layout.find(ref);
        if (d == null) throw new ImageException("oci:" + layout.dir() + ": no image named \"" + ref + "\" in its index.json");
        return layout.image(ref, d, platform);
    }

    /**
     * Resolves an image location given to unpack or inspect: a store name, or oci:DIR[:REF]
     * (a relative DIR from {@code cwd}).
     */
    public static Located locate(String text, java.nio.file.Path cwd, Layout store, Platform platform) throws ImageException {
        Transport t = Transport.parse(text, true).resolvedAgainst(cwd);
        return switch (t) {
            case Transport.Store s -> new Located(store, find(store, s.name(), platform));
            case Transport.Oci o -> {
                Layout l = Layout.open(o.dir());
                yield new Located(l, inLayout(l, o.ref(), platform));
            }
            default -> throw new ImageException(text + ": copy it into the store or an oci: layout first (brig copy)");
        };
    }

    /** An image and the layout that holds its blobs. */
    public record Located(Layout layout, Image image) {}
}
