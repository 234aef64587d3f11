package brig.runtime;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What Brig keeps on disk about a container (state.json in its directory under the root):
 * the fields of runc's `state` output, plus what Brig needs to find and clean up the
 * container later.
 *
 * @param pidStart the start time of pid (field 22 of /proc/PID/stat), so a reused pid is not
 *     mistaken for the container
 * @param cgroups the container's cgroup directories
 * @param madeCgroups the cgroup directories to remove with it when empty: those made for it
 *     and Brig's default parent, parents first
 * @param start a random token naming the start that made it: a clean-up after that start
 *     died removes only the container that start made (see Runtime.delete)
 * @param hooks the container's hooks as config.json had them at create (start and delete run
 *     them; the config may have changed since)
 */
public record ContainerState(String ociVersion, String id, int pid, long pidStart, String status, Path bundle,
                             Path rootfs, String created, Map<String, String> annotations, List<Path> cgroups,
                             List<Path> madeCgroups, String start, brig.spec.Spec.Hooks hooks) {

    public ContainerState {
        annotations = Map.copyOf(annotations);
        cgroups = List.copyOf(cgroups);
        madeCgroups = List.copyOf(madeCgroups);
        if (hooks == null) hooks = brig.spec.Spec.Hooks.NONE;
    }

    /** A state without hooks. */
    public ContainerState(String ociVersion, String id, int pid, long pidStart, String status, Path bundle, Path rootfs,
                          String created, Map<String, String> annotations, List<Path> cgroups, List<Path> madeCgroups,
                          String start) {
        this(ociVersion, id, pid, pidStart, status, bundle, rootfs, created, annotations, cgroups, madeCgroups, start,
                brig.spec.Spec.Hooks.NONE);
    }

    public ContainerState withStatus(String newStatus) {
        return new ContainerState(ociVersion, id, pid, pidStart, newStatus, bundle, rootfs, created, annotations,
                cgroups, madeCgroups, start, hooks);
    }

    /** The JSON of `state`, as runc prints it. */
    public JsonObject toPublicJson() {
        return toPublicJson("");
    }

    /** The JSON of `state` with an owner, as runc's `list --format json` prints it. */
    public JsonObject toPublicJson(String owner) {
        JsonObject o = new JsonObject();
        o.addProperty("ociVersion", ociVersion);
        o.addProperty("id", id);
        o.addProperty("pid", "stopped".equals(status) ? 0 : pid); // runc's: the pid may name another process by now
        o.addProperty("status", status);
        o.addProperty("bundle", bundle.toString());
        o.addProperty("rootfs", rootfs.toString());
        o.addProperty("created", created);
        if (!annotations.isEmpty()) {
            JsonObject a = new JsonObject();
            annotations.forEach(a::addProperty);
            o.add("annotations", a);
        }
        o.addProperty("owner", owner);
        return o;
    }

    /** On disk: without the status, which is computed when read (StateStore.status). */
    JsonObject toJson() {
        JsonObject o = toPublicJson();
        o.remove("status");
        o.addProperty("pid", pid);
        JsonObject b = new JsonObject();
        b.addProperty("pidStart", pidStart);
        b.add("cgroups", paths(cgroups));
        b.add("madeCgroups", paths(madeCgroups));
        b.addProperty("start", start);
        if (!hooks.isEmpty()) b.add("hooks", Hooks.toJson(hooks));
        o.add("brig", b);
        return o;
    }

    /** Reads what {@link #toJson} wrote. */
    static ContainerState fromJson(JsonObject o) {
        JsonObject b = o.getAsJsonObject("brig");
        Map<String, String> annotations = new LinkedHashMap<>();
        if (o.has("annotations")) o.getAsJsonObject("annotations").entrySet().forEach(e -> annotations.put(e.getKey(), e.getValue().getAsString()));
        return new ContainerState(o.get("ociVersion").getAsString(), o.get("id").getAsString(), o.get("pid").getAsInt(),
                b.get("pidStart").getAsLong(), o.has("status") ? o.get("status").getAsString() : "creating", Path.of(o.get("bundle").getAsString()),
                Path.of(o.get("rootfs").getAsString()), o.get("created").getAsString(), annotations,
                paths(b.getAsJsonArray("cgroups")), paths(b.getAsJsonArray("madeCgroups")),
                b.has("start") ? b.get("start").getAsString() : "",
                b.has("hooks") ? Hooks.fromJson(b.getAsJsonObject("hooks")) : brig.spec.Spec.Hooks.NONE);
    }

    private static List<Path> paths(JsonArray a) {
        List<Path> out = new ArrayList<>();
        a.forEach(e -> out.add(Path.of(e.getAsString())));
        return out;
    }

    private static JsonArray paths(List<Path> paths) {
        JsonArray a = new JsonArray();
        paths.forEach(p -> a.add(p.toString()));
        return a;
    }
}
