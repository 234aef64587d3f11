package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.ImageConfig;
import brig.spec.SpecDefaults;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Docker's flags and defaults as config.json fields (no root: the policy alone). */
class ContainerConfigTest {
    static RunOptions opts(String entrypoint, List<String> cmd, List<String> env, List<String> capAdd, List<String> capDrop, String network) {
        return new RunOptions("c1", env, null, null, null, entrypoint, -1, 0, -1, -1, 0, null, -1, false, capAdd, capDrop, null, network, false, cmd);
    }

    static ImageConfig image(String json) throws Exception {
        return ImageConfig.parse(("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":" + json + ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}")
                .getBytes(StandardCharsets.UTF_8), "test");
    }

    static JsonObject apply(ImageConfig img, RunOptions o) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        JsonArray env = new JsonArray();
        img.env().forEach(env::add);
        c.getAsJsonObject("process").add("env", env);
        ContainerConfig.apply(c, img, o, List.of(Path.of("/nonexistent")), Map.of("FROM_CALLER", "yes"), 20000);
        return c;
    }

    static List<String> strings(JsonElement a) {
        List<String> out = new ArrayList<>();
        a.getAsJsonArray().forEach(e -> out.add(e.getAsString()));
        return out;
    }

    @Test
    void entrypointAndCmdMergeAsDockers() throws Exception {
        ImageConfig img = image("{\"Entrypoint\":[\"/e\"],\"Cmd\":[\"c\"]}");
        assertEquals(List.of("/e", "c"), strings(apply(img, opts(null, List.of(), List.of(), List.of(), List.of(), "none")).getAsJsonObject("process").get("args")));
        assertEquals(List.of("/e", "x"), strings(apply(img, opts(null, List.of("x"), List.of(), List.of(), List.of(), "none")).getAsJsonObject("process").get("args")));
        assertEquals(List.of("/n"), strings(apply(img, opts("/n", List.of(), List.of(), List.of(), List.of(), "none")).getAsJsonObject("process").get("args")),
                "--entrypoint drops the image's Cmd");
        assertEquals(List.of("x"), strings(apply(img, opts("", List.of("x"), List.of(), List.of(), List.of(), "none")).getAsJsonObject("process").get("args")));
        ContainerException none = assertThrows(ContainerException.class, () -> apply(image("{}"), opts(null, List.of(), List.of(), List.of(), List.of(), "none")));
        assertTrue(none.getMessage().startsWith("no command"), none.getMessage());
    }

    @Test
    void envFlagsOverrideTheImageInOrder() throws Exception {
        ImageConfig img = image("{\"Env\":[\"PATH=/bin\",\"A=image\",\"B=image\"]}");
        JsonObject c = apply(img, opts(null, List.of("x"), List.of("A=flag", "FROM_CALLER", "NOT_SET"), List.of(), List.of(), "none"));
        assertEquals(List.of("PATH=/bin", "B=image", "HOSTNAME=c1", "A=flag", "FROM_CALLER=yes"), strings(c.getAsJsonObject("process").get("env")));
    }

    @Test
    void capabilitiesAndSeccompFollowEachOther() throws Exception {
        JsonObject c = apply(image("{\"Cmd\":[\"x\"]}"), opts(null, List.of(), List.of(), List.of(), List.of(), "none"));
        assertEquals(ContainerConfig.DEFAULT_CAPS, strings(c.getAsJsonObject("process").getAsJsonObject("capabilities").get("bounding")));
        JsonObject s = c.getAsJsonObject("linux").getAsJsonObject("seccomp");
        assertEquals("SCMP_ACT_ERRNO", s.get("defaultAction").getAsString());
        List<String> allowed = strings(s.getAsJsonArray("syscalls").get(0).getAsJsonObject().get("names"));
        assertTrue(allowed.contains("read") && allowed.contains("chroot"), "CAP_SYS_CHROOT is docker's: chroot allowed");
        assertFalse(allowed.contains("mount") || allowed.contains("unshare") || allowed.contains("clone") || allowed.contains("reboot"));
        assertTrue(s.toString().contains("\"clone3\"") && s.toString().contains("\"errnoRet\":38"), "clone3 answers ENOSYS without CAP_SYS_ADMIN");

        JsonObject admin = apply(image("{\"Cmd\":[\"x\"]}"), opts(null, List.of(), List.of(), List.of("sys_admin"), List.of("ALL"), "host"));
        assertEquals(List.of("CAP_SYS_ADMIN"), strings(admin.getAsJsonObject("process").getAsJsonObject("capabilities").get("effective")));
        List<String> adminAllowed = strings(admin.getAsJsonObject("linux").getAsJsonObject("seccomp").getAsJsonArray("syscalls").get(0).getAsJsonObject().get("names"));
        assertTrue(adminAllowed.containsAll(Set.of("mount", "unshare", "clone", "setns")));
        assertFalse(adminAllowed.contains("chroot"), "CAP_SYS_CHROOT dropped: chroot refused");
        assertFalse(admin.getAsJsonObject("linux").toString().contains("\"network\""), "--network host: no network namespace");

        ContainerException bad = assertThrows(ContainerException.class,
                () -> apply(image("{\"Cmd\":[\"x\"]}"), opts(null, List.of(), List.of(), List.of("NOPE"), List.of(), "none")));
        assertEquals("unknown capability \"NOPE\"", bad.getMessage());
        ContainerException net = assertThrows(ContainerException.class,
                () -> apply(image("{\"Cmd\":[\"x\"]}"), opts(null, List.of(), List.of(), List.of(), List.of(), "bridge")));
        assertTrue(net.getMessage().startsWith("--network bridge"), net.getMessage());
    }

    @Test
    void nofileFitsTheHost() throws Exception {
        JsonObject c = apply(image("{\"Cmd\":[\"x\"]}"), opts(null, List.of(), List.of(), List.of(), List.of(), "none"));
        JsonObject rl = c.getAsJsonObject("process").getAsJsonArray("rlimits").get(0).getAsJsonObject();
        assertEquals(20000, rl.get("hard").getAsLong(), "podman's 1048576 lowered to the host's hard limit");
    }

    @Test
    void sizes() throws Exception {
        assertEquals(100L << 20, Sizes.parse("-m", "100M"));
        assertEquals(100L << 20, Sizes.parse("-m", "100mb"));
        assertEquals(1L << 30, Sizes.parse("-m", "1g"));
        assertEquals(512, Sizes.parse("-m", "512"));
        assertEquals(512, Sizes.parse("-m", "512b"));
        assertEquals(-1, Sizes.parse("--memory-swap", "-1"));
        assertThrows(ContainerException.class, () -> Sizes.parse("-m", "lots"));
    }
}
