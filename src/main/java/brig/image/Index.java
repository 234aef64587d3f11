package brig.image;

import brig.json.Fields;
import brig.json.JsonException;
import java.util.List;
import java.util.stream.Collectors;

/** An OCI image index or Docker manifest list: one manifest per platform. */
public record Index(String mediaType, List<Descriptor> manifests) {

    public static Index parse(byte[] bytes, String hint, String where) throws ImageException {
        try {
            Fields f = new Fields(Manifest.object(bytes, where), "");
            String type = f.string("mediaType", hint == null || hint.isEmpty() ? MediaType.OCI_INDEX : hint);
            if (!MediaType.isIndex(type)) throw new ImageException(where + ": mediaType: expected an index, got \"" + type + "\"");
            return new Index(type, Descriptor.parseAll(f.objects("manifests")));
        } catch (JsonException e) {
            throw new ImageException(where + ": " + e.getMessage());
        }
    }

    /** The manifest for {@code want}: an exact variant first, then any of the os and architecture. */
    public Descriptor select(Platform want, String where) throws ImageException {
        Descriptor fallback = null;
        for (Descriptor d : manifests) {
            if (d.platform() == null || !MediaType.isManifest(d.mediaType())) continue;
            if (want.accepts(d.platform())) {
                if (d.platform().variant().equals(want.variant())) return d;
                if (fallback == null) fallback = d;
            }
        }
        if (fallback != null) return fallback;
        if (want.variant().isEmpty()) {
            for (Descriptor d : manifests) {
                if (d.platform() != null && MediaType.isManifest(d.mediaType()) && d.platform().os().equals(want.os())
                        && d.platform().architecture().equals(want.architecture())) return d;
            }
        }
        String have = manifests.stream().filter(d -> d.platform() != null).map(d -> d.platform().toString()).collect(Collectors.joining(", "));
        throw new ImageException(where + ": no image for platform " + want + " (it has " + (have.isEmpty() ? "none" : have) + "); choose one with --platform");
    }
}
