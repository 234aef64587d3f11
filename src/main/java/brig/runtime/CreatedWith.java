package brig.runtime;

import brig.json.Json;
import com.google.gson.JsonObject;

/**
 * What a container was created with that a later `exec` starts from, kept in its state
 * directory (created.json, see {@link StateStore#writeCreated}): runc too keeps the config a
 * container was created with, so that editing the bundle's config.json afterwards changes
 * nothing for its exec'd processes (their base process, seccomp profile, namespaces).
 *
 * @param config config.json as it was read at create, compact JSON
 * @param keyring the session keyring the container joined ("_ses.ID"), or null when it kept
 *     its caller's (--no-new-keyring)
 */
public record CreatedWith(String config, String keyring) {
    JsonObject toJson() {
        JsonObject o = new JsonObject();
        o.add("config", configJson());
        if (keyring != null) o.addProperty("sessionKeyring", keyring);
        return o;
    }

    static CreatedWith fromJson(JsonObject o) {
        return new CreatedWith(Json.compact(o.getAsJsonObject("config")),
                o.has("sessionKeyring") ? o.get("sessionKeyring").getAsString() : null);
    }

    /** The config as JSON again. */
    public JsonObject configJson() {
        return Json.parseQuietly(config).getAsJsonObject();
    }
}
