package brig.image;

import brig.json.Fields;
import brig.json.Json;
import brig.json.JsonException;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** An image manifest, OCI or Docker v2 schema 2: the config blob and the layers, bottom first. */
public record Manifest(String mediaType, Descriptor config, List<Descriptor> layers, Map<String, String> annotations) {

    /**
     * Parses a manifest document; {@code hint} is the media type it was served or listed with
     * (OCI manifests may leave theirs out), {@code where} names it in errors.
     */
    public static Manifest parse(byte[] bytes, String hint, String where) throws ImageException {
        JsonObject o = object(bytes, where);
        try {
            Fields f = new Fields(o, "");
            String type = f.string("mediaType", hint == null || hint.isEmpty() ? MediaType.OCI_MANIFEST : hint);
            if (type.equals(MediaType.DOCKER_SCHEMA1) || type.equals(MediaType.DOCKER_SCHEMA1_PLAIN) || f.integer("schemaVersion", 0, 10).orElse(0L) == 1) {
                throw new ImageException(where + ": Docker schema 1 manifests are not supported (the image is too old; push it again with a current client)");
            }
            if (MediaType.isIndex(type)) throw new ImageException(where + ": is an index, not a manifest");
            if (!MediaType.isManifest(type)) throw new ImageException(where + ": mediaType: unsupported manifest type \"" + type + "\"");
            if (f.integer("schemaVersion", 0, 10).orElse(2L) != 2) throw new ImageException(where + ": schemaVersion: expected 2");
            Descriptor config = Descriptor.parse(f.object("config").orElseThrow(() -> new JsonException("config", "required but missing")));
            List<Descriptor> layers = Descriptor.parseAll(f.objects("layers"));
            for (int k = 0; k < layers.size(); k++) {
                if (!MediaType.isLayer(layers.get(k).mediaType())) {
                    throw new ImageException(where + ": layers[" + k + "].mediaType: unsupported layer type \"" + layers.get(k).mediaType() + "\"");
                }
            }
            return new Manifest(type, config, layers, f.stringMap("annotations"));
        } catch (JsonException e) {
            throw new ImageException(where + ": " + e.getMessage());
        }
    }

    static JsonObject object(byte[] bytes, String where) throws ImageException {
        try {
            JsonElement e = Json.parse(new String(bytes, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) throw new ImageException(where + ": expected a JSON object");
            return e.getAsJsonObject();
        } catch (JsonException e) {
            throw new ImageException(where + ": " + e.getMessage());
        }
    }

    /** The document's media type, from its own field, or null when it has none. */
    public static String typeOf(byte[] bytes) {
        try {
            JsonElement e = Json.parse(new String(bytes, StandardCharsets.UTF_8));
            if (e.isJsonObject() && e.getAsJsonObject().has("mediaType")) return e.getAsJsonObject().get("mediaType").getAsString();
            if (e.isJsonObject() && e.getAsJsonObject().has("manifests")) return MediaType.OCI_INDEX;
        } catch (JsonException | RuntimeException ignored) {
            // not JSON: the caller reports it
        }
        return null;
    }

    /** This manifest in OCI form (Docker media types renamed; blobs unchanged), as compact JSON bytes. */
    public byte[] ociBytes() {
        JsonObject o = new JsonObject();
        o.addProperty("schemaVersion", 2);
        o.addProperty("mediaType", MediaType.OCI_MANIFEST);
        String ct = config.mediaType().equals(MediaType.DOCKER_CONFIG) ? MediaType.OCI_CONFIG : config.mediaType();
        o.add("config", config.withMediaType(ct).json());
        JsonArray a = new JsonArray();
        for (Descriptor l : layers) a.add(l.withMediaType(MediaType.ociLayer(l.mediaType())).json());
        o.add("layers", a);
        if (!annotations.isEmpty()) o.add("annotations", new Descriptor("x", config.digest(), 0, annotations, null).json().get("annotations"));
        return Json.compact(o).getBytes(StandardCharsets.UTF_8);
    }

    public long size() {
        return config.size() + layers.stream().mapToLong(Descriptor::size).sum();
    }
}
