package brig.registry;

import brig.json.Json;
import brig.json.JsonException;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A user name and password for a registry, from the files podman, skopeo and docker keep them
 * in: --authfile, $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
 * ~/.config/containers/auth.json, ~/.docker/config.json ("auths" entries, "auth" being
 * base64 of user:password). Credential helpers are not run.
 */
public record Credentials(String user, String password) {

    public String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "Credentials[" + user + "]"; // never the password
    }

    /** The files searched, in order; {@code env} is the caller's environment. */
    static List<Path> files(Path authFile, java.util.Map<String, String> env) {
        List<Path> out = new ArrayList<>();
        if (authFile != null) {
            out.add(authFile);
            return out;
        }
        String file = env.get("REGISTRY_AUTH_FILE");
        if (file != null && !file.isEmpty()) out.add(Path.of(file));
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty()) out.add(Path.of(xdg, "containers/auth.json"));
        String home = env.get("HOME");
        if (home != null && !home.isEmpty()) {
            out.add(Path.of(home, ".config/containers/auth.json"));
            String dockerConfig = env.get("DOCKER_CONFIG");
            out.add(dockerConfig != null && !dockerConfig.isEmpty() ? Path.of(dockerConfig, "config.json") : Path.of(home, ".docker/config.json"));
        }
        return out;
    }

    /**
     * Credentials for {@code registry} (as written in references, docker.io for Docker Hub) and
     * repository, or null. An entry for host/namespace beats one for the host alone. The
     * files are {@code authFile} or, when null, those {@code env} (the caller's environment)
     * names, as podman and docker find them.
     */
    public static Credentials find(Path authFile, java.util.Map<String, String> env, String registry, String repository) throws RegistryException {
        for (Path f : files(authFile, env)) {
            if (!Files.isRegularFile(f)) {
                if (authFile != null) throw new RegistryException("credentials file " + f + " does not exist");
                continue;
            }
            JsonObject auths;
            try {
                JsonElement e = Json.parse(Files.readString(f));
                if (!e.isJsonObject()) throw new RegistryException(f + ": expected a JSON object");
                JsonElement a = e.getAsJsonObject().get("auths");
                if (a == null || !a.isJsonObject()) continue;
                auths = a.getAsJsonObject();
            } catch (IOException | JsonException x) {
                throw new RegistryException("cannot read credentials file " + f + ": " + x.getMessage());
            }
            Credentials best = null;
            int bestLen = -1;
            for (String key : auths.keySet()) {
                String k = normalize(key);
                String full = registry + "/" + repository;
                boolean match = k.equals(registry) || (full.startsWith(k + "/") && k.startsWith(registry + "/")) || full.equals(k);
                if (!match || k.length() <= bestLen) continue;
                JsonElement v = auths.get(key);
                if (!v.isJsonObject()) throw new RegistryException(f + ": auths." + key + ": expected an object");
                Credentials c = decode(v.getAsJsonObject(), f + ": auths." + key);
                if (c != null) {
                    best = c;
                    bestLen = k.length();
                }
            }
            if (best != null) return best;
        }
        return null;
    }

    /** "https://index.docker.io/v1/" is docker.io; schemes and trailing slashes go. */
    static String normalize(String key) {
        String k = key;
        if (k.startsWith("https://")) k = k.substring(8);
        else if (k.startsWith("http://")) k = k.substring(7);
        while (k.endsWith("/")) k = k.substring(0, k.length() - 1);
        if (k.endsWith("/v1") || k.endsWith("/v2")) k = k.substring(0, k.length() - 3);
        if (k.equals("index.docker.io") || k.equals("registry-1.docker.io")) k = "docker.io";
        return k;
    }

    private static Credentials decode(JsonObject o, String where) throws RegistryException {
        if (o.has("auth") && o.get("auth").isJsonPrimitive() && !o.get("auth").getAsString().isEmpty()) {
            String text;
            try {
                text = new String(Base64.getDecoder().decode(o.get("auth").getAsString().trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new RegistryException(where + ".auth: not base64");
            }
            int colon = text.indexOf(':');
            if (colon < 0) throw new RegistryException(where + ".auth: expected base64 of user:password");
            return new Credentials(text.substring(0, colon), text.substring(colon + 1));
        }
        if (o.has("username") && o.has("password")) return new Credentials(o.get("username").getAsString(), o.get("password").getAsString());
        return null;
    }
}
