package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.ImageConfig;
import brig.json.Json;
import brig.spec.SpecDefaults;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** -v, --tmpfs and --init as config.json mounts and args (no root: the policy alone). */
class VolumesConfigTest {
    @TempDir Path tmp;

    static RunOptions opts(List<String> volumes, List<String> tmpfs, Path init) {
        return new RunOptions("c1", List.of(), null, null, null, null, -1, 0, -1, -1, 0, null, -1, false, List.of(), List.of(), null, "none",
                false, List.of("sh"), volumes, tmpfs, init);
    }

    static JsonObject apply(RunOptions o) throws Exception {
        ImageConfig img = ContainerConfigTest.image("{}");
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("process").add("env", new JsonArray());
        ContainerConfig.apply(c, img, o, List.of(Path.of("/nonexistent")), Map.of(), 20000);
        return c;
    }

    /** The mount at {@code dest}, or null. */
    static JsonObject mount(JsonObject config, String dest) {
        JsonObject found = null;
        for (JsonElement e : config.getAsJsonArray("mounts")) {
            if (e.getAsJsonObject().get("destination").getAsString().equals(dest)) {
                if (found != null) throw new AssertionError("two mounts at " + dest);
                found = e.getAsJsonObject();
            }
        }
        return found;
    }

    static List<String> destinations(JsonObject config) {
        List<String> out = new ArrayList<>();
        config.getAsJsonArray("mounts").forEach(e -> out.add(e.getAsJsonObject().get("destination").getAsString()));
        return out;
    }

    @Test
    void bindIsDockers() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        JsonObject c = apply(opts(List.of(src + ":/data", src + "/:/ro/./x/:ro", src + ":/shared:rshared,ro"), List.of(), null));
        assertEquals(Json.parseQuietly("{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"" + src + "\",\"options\":[\"rbind\",\"rprivate\"]}"),
                mount(c, "/data"), "docker's options for a -v: rbind, rprivate");
        assertEquals(Json.parseQuietly("{\"destination\":\"/ro/x\",\"type\":\"bind\",\"source\":\"" + src + "\",\"options\":[\"rbind\",\"ro\",\"rprivate\"]}"),
                mount(c, "/ro/x"));
        assertEquals(Json.parseQuietly("[\"rbind\",\"ro\",\"rshared\"]"), mount(c, "/shared").get("options"));
        assertTrue(destinations(c).containsAll(List.of("/proc", "/dev", "/sys")), "the defaults stay");
    }

    @Test
    void missingSourceIsMadeOnlyForAConfigThatIsTaken() throws Exception {
        Path missing = tmp.resolve("a/b");
        apply(opts(List.of(missing + ":/data"), List.of(), null));
        assertTrue(Files.isDirectory(missing), "docker's -v makes a missing source as a directory");

        Path notMade = tmp.resolve("not/made");
        assertThrows(ContainerException.class, () -> apply(opts(List.of(notMade + ":/data"), List.of("/x:bogus"), null)));
        assertFalse(Files.exists(notMade), "a refused config makes nothing on the host");
    }

    @Test
    void badVolumesAreRefusedNamingTheFlag() {
        assertEquals("-v data:/data: \"data\" is not an absolute path, and named volumes are not supported yet: give an absolute host path",
                assertThrows(ContainerException.class, () -> apply(opts(List.of("data:/data"), List.of(), null))).getMessage());
        assertEquals("-v ./dir:/data: \"./dir\" is not an absolute path, and named volumes are not supported yet: give an absolute host path",
                assertThrows(ContainerException.class, () -> apply(opts(List.of("./dir:/data"), List.of(), null))).getMessage());
        assertEquals("-v /data: anonymous volumes are not supported yet: give a host directory, -v /HOST/DIR:/data",
                assertThrows(ContainerException.class, () -> apply(opts(List.of("/data"), List.of(), null))).getMessage());
        assertEquals("-v /a:data: the destination \"data\" must be an absolute path",
                assertThrows(ContainerException.class, () -> apply(opts(List.of("/a:data"), List.of(), null))).getMessage());
        assertEquals("-v /a:/: the destination cannot be / (the container's root)",
                assertThrows(ContainerException.class, () -> apply(opts(List.of("/a:/"), List.of(), null))).getMessage());
        assertTrue(assertThrows(ContainerException.class, () -> apply(opts(List.of("/a:/b:rx"), List.of(), null))).getMessage()
                .startsWith("-v /a:/b:rx: unknown mode \"rx\""));
        assertEquals("duplicate mount point: /b",
                assertThrows(ContainerException.class, () -> apply(opts(List.of("/a:/b"), List.of("/b"), null))).getMessage());
    }

    @Test
    void tmpfsHasDockersDefaultsThenTheUsersOptions() throws Exception {
        JsonObject c = apply(opts(List.of(), List.of("/scratch", "/run:size=64m,exec,mode=1777,size=32m", "/dev/shm:size=1m"), null));
        assertEquals(Json.parseQuietly("{\"destination\":\"/scratch\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\"]}"),
                mount(c, "/scratch"));
        assertEquals(Json.parseQuietly("[\"nosuid\",\"nodev\",\"rprivate\",\"exec\",\"mode=1777\",\"size=32m\"]"), mount(c, "/run").get("options"),
                "exec replaces noexec, the last size= wins");
        assertEquals(Json.parseQuietly("[\"noexec\",\"nosuid\",\"nodev\",\"rprivate\",\"size=1m\"]"), mount(c, "/dev/shm").get("options"),
                "a --tmpfs replaces the default mount at its destination (mount() refuses two)");
        assertEquals("--tmpfs run: the destination \"run\" must be an absolute path",
                assertThrows(ContainerException.class, () -> apply(opts(List.of(), List.of("run"), null))).getMessage());
    }

    @Test
    void nestedMountsComeParentsFirst() throws Exception {
        JsonObject c = apply(opts(List.of("/a:/data/sub/deeper", "/b:/data/sub", "/c:/data"), List.of("/data/sub/t"), null));
        List<String> d = destinations(c);
        List<String> ours = d.subList(d.size() - 4, d.size());
        assertEquals(List.of("/data", "/data/sub", "/data/sub/deeper", "/data/sub/t"), ours.stream().sorted().toList());
        assertTrue(ours.indexOf("/data") < ours.indexOf("/data/sub") && ours.indexOf("/data/sub") < ours.indexOf("/data/sub/deeper")
                && ours.indexOf("/data/sub") < ours.indexOf("/data/sub/t"), ours.toString());
    }

    @Test
    void initIsBoundReadOnlyAndRunsTheCommand() throws Exception {
        Path tini = Files.writeString(tmp.resolve("tini-static"), "");
        tini.toFile().setExecutable(true);
        JsonObject c = apply(opts(List.of(), List.of(), tini));
        assertEquals(Json.parseQuietly("[\"/sbin/docker-init\",\"--\",\"sh\"]"), c.getAsJsonObject("process").get("args"));
        assertEquals(Json.parseQuietly("{\"destination\":\"/sbin/docker-init\",\"type\":\"bind\",\"source\":\"" + tini + "\",\"options\":[\"bind\",\"ro\"]}"),
                mount(c, "/sbin/docker-init"));
        assertEquals("--init: " + tmp.resolve("absent") + " is not installed: it comes with Debian's tini package (apt-get install tini)",
                assertThrows(ContainerException.class, () -> apply(opts(List.of(), List.of(), tmp.resolve("absent")))).getMessage());
        assertEquals(null, apply(opts(List.of(), List.of(), null)).getAsJsonArray("mounts").asList().stream()
                .filter(m -> m.getAsJsonObject().get("destination").getAsString().equals("/sbin/docker-init")).findAny().orElse(null));
    }
}
