package brig.testing;

import brig.json.Json;
import brig.spec.SpecDefaults;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * A busybox bundle in a test's temporary directory, with runc's default config (no terminal),
 * and its own state root, so that what a test leaves behind is easy to find.
 */
public final class TestBundle {
    private final Path dir;
    private final JsonObject config;
    private final String id;

    private TestBundle(Path dir) {
        this.dir = dir;
        this.config = SpecDefaults.config(false, 0, 0);
        config.getAsJsonObject("process").addProperty("terminal", false);
        this.id = NoLeaks.PREFIX + UUID.randomUUID().toString().substring(0, 8);
    }

    public static TestBundle busybox(Path dir) throws IOException {
        TestBundle b = new TestBundle(dir);
        Busybox.rootfs(dir.resolve("rootfs"));
        return b;
    }

    public Path dir() { return dir; }

    public Path rootfs() { return dir.resolve("rootfs"); }

    public Path stateRoot() { return dir.resolve("state"); }

    public String id() { return id; }

    public JsonObject config() { return config; }

    public JsonObject process() { return config.getAsJsonObject("process"); }

    public JsonObject linux() { return config.getAsJsonObject("linux"); }

    /** Runs the command with /bin/sh -c. */
    public TestBundle sh(String script) {
        return args("/bin/sh", "-c", script);
    }

    public TestBundle args(String... args) {
        JsonArray a = new JsonArray();
        for (String s : args) a.add(s);
        process().add("args", a);
        return this;
    }

    public TestBundle edit(Consumer<JsonObject> edit) {
        edit.accept(config);
        return this;
    }

    /** Adds to the JSON array at "linux.namespaces" etc. */
    public TestBundle add(String arrayPath, String json) {
        JsonObject o = config;
        String[] parts = arrayPath.split("\\.");
        for (int k = 0; k < parts.length - 1; k++) {
            if (!o.has(parts[k])) o.add(parts[k], new JsonObject());
            o = o.getAsJsonObject(parts[k]);
        }
        String last = parts[parts.length - 1];
        if (!o.has(last)) o.add(last, new JsonArray());
        o.getAsJsonArray(last).add(Json.parseQuietly(json));
        return this;
    }

    public TestBundle set(String path, String json) {
        JsonObject o = config;
        String[] parts = path.split("\\.");
        for (int k = 0; k < parts.length - 1; k++) {
            if (!o.has(parts[k])) o.add(parts[k], new JsonObject());
            o = o.getAsJsonObject(parts[k]);
        }
        JsonElement v = Json.parseQuietly(json);
        o.add(parts[parts.length - 1], v);
        return this;
    }

    public TestBundle userNamespace(long hostId, long size) {
        add("linux.namespaces", "{\"type\":\"user\"}");
        set("linux.uidMappings", "[{\"containerID\":0,\"hostID\":" + hostId + ",\"size\":" + size + "}]");
        set("linux.gidMappings", "[{\"containerID\":0,\"hostID\":" + hostId + ",\"size\":" + size + "}]");
        return this;
    }

    public void write() {
        try {
            Files.writeString(dir.resolve("config.json"), Json.pretty(config));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** brig --root STATE run --bundle DIR [flags] ID, with the config as it is now. */
    public Brig.Result run(String... flags) {
        return run(null, 60, flags);
    }

    public Brig.Result run(byte[] stdin, int timeout, String... flags) {
        write();
        List<String> args = new ArrayList<>(List.of("--root", stateRoot().toString(), "run", "--bundle", dir.toString()));
        args.addAll(List.of(flags));
        args.add(id);
        return Brig.run(dir, args, stdin, Map.of(), timeout);
    }
}
