package brig.image;

import brig.json.Fields;
import brig.json.JsonException;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An OCI content descriptor: what a blob is, its digest and size, and annotations. */
public record Descriptor(String mediaType, Digest digest, long size, Map<String, String> annotations, Platform platform) {
    public static final String REF_NAME = "org.opencontainers.image.ref.name";

    public Descriptor {
        annotations = Map.copyOf(annotations);
    }

    public Descriptor(String mediaType, Digest digest, long size) {
        this(mediaType, digest, size, Map.of(), null);
    }

    public Descriptor withAnnotations(Map<String, String> a) {
        return new Descriptor(mediaType, digest, size, a, platform);
    }

    public Descriptor withMediaType(String t) {
        return new Descriptor(t, digest, size, annotations, platform);
    }

    public String refName() {
        return annotations.getOrDefault(REF_NAME, "");
    }

    static Descriptor parse(Fields f) throws JsonException, ImageException {
        String type = f.string("mediaType", "");
        Digest d = Digest.parse(f.requireString("digest"), f.path("digest"));
        long size = f.requireInteger("size", 0, Long.MAX_VALUE);
        Map<String, String> ann = f.stringMap("annotations");
        Platform p = f.object("platform").isPresent() ? Platform.of(f.object("platform").get().json()) : null;
        return new Descriptor(type, d, size, ann, p);
    }

    static List<Descriptor> parseAll(List<Fields> list) throws JsonException, ImageException {
        List<Descriptor> out = new java.util.ArrayList<>();
        for (Fields f : list) out.add(parse(f));
        return List.copyOf(out);
    }

    public JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("mediaType", mediaType);
        o.addProperty("digest", digest.toString());
        o.addProperty("size", size);
        if (!annotations.isEmpty()) {
            JsonObject a = new JsonObject();
            new LinkedHashMap<>(annotations).entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> a.addProperty(e.getKey(), e.getValue()));
            o.add("annotations", a);
        }
        if (platform != null) o.add("platform", platform.json());
        return o;
    }
}
