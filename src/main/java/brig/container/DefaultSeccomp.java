package brig.container;

import brig.json.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The seccomp policy `brig container run` applies unless told otherwise: docker's default
 * profile's rules (an allow-list, EPERM for the rest, calls conditioned on the container's
 * capabilities, argument filters on clone, personality and socket), kept in Brig's own
 * resource {@code brig/container/default-seccomp.json} and written here as an OCI
 * {@code linux.seccomp} for the capabilities the container ends up with.
 */
public final class DefaultSeccomp {
    private DefaultSeccomp() {}

    private static final String RESOURCE = "/brig/container/default-seccomp.json";
    private static final int ENOSYS = 38;

    /** linux.seccomp for a container whose bounding set is {@code caps}. */
    public static JsonObject forCaps(Set<String> caps) {
        JsonObject p = load();
        JsonObject s = new JsonObject();
        s.addProperty("defaultAction", "SCMP_ACT_ERRNO");
        s.addProperty("defaultErrnoRet", p.get("defaultErrno").getAsInt());
        s.add("architectures", strings(architectures()));
        JsonArray rules = new JsonArray();
        List<String> allow = new ArrayList<>();
        for (JsonElement e : p.getAsJsonArray("allow")) allow.add(e.getAsString());
        for (Map.Entry<String, JsonElement> c : p.getAsJsonObject("withCap").entrySet()) {
            if (!caps.contains(c.getKey())) continue;
            for (JsonElement e : c.getValue().getAsJsonArray()) if (!allow.contains(e.getAsString())) allow.add(e.getAsString());
        }
        rules.add(rule(allow, null));
        // One rule per persona: conditions within a rule are all required (AND).
        for (JsonElement v : p.getAsJsonArray("personalities")) rules.add(rule(List.of("personality"), cond(0, v.getAsLong(), 0, "SCMP_CMP_EQ")));
        JsonArray socketArgs = new JsonArray();
        for (JsonElement v : p.getAsJsonArray("socketFamiliesRefused")) socketArgs.add(cond(0, v.getAsLong(), 0, "SCMP_CMP_NE").get(0));
        rules.add(rule(List.of("socket"), socketArgs));
        if (!caps.contains("CAP_SYS_ADMIN")) {
            // clone without namespace flags; clone3's flags are in memory a filter cannot read,
            // so it answers ENOSYS and libc falls back to clone.
            rules.add(rule(List.of("clone"), cond(0, p.get("cloneNamespaceFlags").getAsLong(), 0, "SCMP_CMP_MASKED_EQ")));
            JsonObject clone3 = new JsonObject();
            clone3.add("names", strings(List.of("clone3")));
            clone3.addProperty("action", "SCMP_ACT_ERRNO");
            clone3.addProperty("errnoRet", ENOSYS);
            rules.add(clone3);
        }
        s.add("syscalls", rules);
        return s;
    }

    private static JsonObject load() {
        try (InputStream in = DefaultSeccomp.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + RESOURCE);
            return Json.parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (IOException | brig.json.JsonException e) {
            throw new IllegalStateException("cannot read resource " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** The native ABI and its compat ones, which a container could otherwise use to go around the filter's names. */
    private static List<String> architectures() {
        return switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
            case "aarch64" -> List.of("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
            default -> List.of();
        };
    }

    private static JsonObject rule(List<String> names, JsonArray args) {
        JsonObject r = new JsonObject();
        r.add("names", strings(names));
        r.addProperty("action", "SCMP_ACT_ALLOW");
        if (args != null) r.add("args", args);
        return r;
    }

    private static JsonArray cond(int index, long value, long valueTwo, String op) {
        JsonObject a = new JsonObject();
        a.addProperty("index", index);
        a.addProperty("value", value);
        a.addProperty("valueTwo", valueTwo);
        a.addProperty("op", op);
        JsonArray arr = new JsonArray();
        arr.add(a);
        return arr;
    }

    static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
