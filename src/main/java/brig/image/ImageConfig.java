package brig.image;

import brig.json.Fields;
import brig.json.JsonException;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The parts of an image configuration (OCI or Docker, the same JSON) that running the image
 * needs; {@code json} keeps the whole document for `brig inspect`.
 */
public record ImageConfig(String os, String architecture, String variant, String created, String user, List<String> env,
        List<String> entrypoint, List<String> cmd, String workingDir, Map<String, String> labels, String stopSignal,
        List<Digest> diffIds, JsonObject json) {

    public static ImageConfig parse(byte[] bytes, String where) throws ImageException {
        JsonObject o = Manifest.object(bytes, where);
        try {
            Fields f = new Fields(o, "");
            Fields c = f.object("config").orElse(new Fields(new JsonObject(), "config"));
            Fields rootfs = f.object("rootfs").orElseThrow(() -> new JsonException("rootfs", "required but missing"));
            String type = rootfs.string("type", "layers");
            if (!type.equals("layers")) throw new JsonException(rootfs.path("type"), "expected \"layers\", got \"" + type + "\"");
            List<Digest> diffIds = new ArrayList<>();
            List<String> ids = rootfs.strings("diff_ids");
            for (int k = 0; k < ids.size(); k++) diffIds.add(Digest.parse(ids.get(k), where + ": rootfs.diff_ids[" + k + "]"));
            return new ImageConfig(f.string("os", ""), Platform.normalizeArch(f.string("architecture", "")), f.string("variant", ""),
                    f.string("created", ""), c.string("User", ""), c.strings("Env"), c.strings("Entrypoint"), c.strings("Cmd"),
                    c.string("WorkingDir", ""), c.stringMap("Labels"), c.string("StopSignal", ""), List.copyOf(diffIds), o);
        } catch (JsonException e) {
            throw new ImageException(where + ": " + e.getMessage());
        }
    }

    public Platform platform() {
        return new Platform(os, architecture, variant);
    }
}
