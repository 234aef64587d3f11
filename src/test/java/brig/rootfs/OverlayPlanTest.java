package brig.rootfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Step;
import brig.json.Json;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The copy-on-write rootfs as config.json asks for it and as planned (no root, nothing mounted). */
class OverlayPlanTest {
    @TempDir Path tmp;

    Spec spec(Map<String, String> annotations, boolean mountNamespace) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        JsonObject a = new JsonObject();
        annotations.forEach(a::addProperty);
        c.add("annotations", a);
        if (!mountNamespace) {
            JsonArray kept = new JsonArray();
            for (var n : c.getAsJsonObject("linux").getAsJsonArray("namespaces")) {
                if (!n.getAsJsonObject().get("type").getAsString().equals("mount")) kept.add(n);
            }
            c.getAsJsonObject("linux").add("namespaces", kept);
        }
        return SpecReader.parse(Json.parse(Json.compact(c)).getAsJsonObject());
    }

    Map<String, String> layers(int n) throws Exception {
        List<String> lowers = new ArrayList<>();
        for (int k = 0; k < n; k++) lowers.add(Files.createDirectories(tmp.resolve("layers/sha256/" + "0123456789abcdef".repeat(4) + k)).toString());
        return Map.of(Overlay.LOWERDIRS, String.join(":", lowers), Overlay.UPPERDIR, Files.createDirectories(tmp.resolve("c/upper")).toString(),
                Overlay.WORKDIR, Files.createDirectories(tmp.resolve("c/work")).toString());
    }

    @Test
    void noAnnotationsNoOverlay() throws Exception {
        assertNull(Overlay.of(spec(Map.of(), true)));
        RootfsException e = assertThrows(RootfsException.class, () -> Overlay.of(spec(Map.of(Overlay.UPPERDIR, "/x"), true)));
        assertEquals("annotations.brig.overlay.upperdir: given without brig.overlay.lowerdirs", e.getMessage());
    }

    @Test
    void layersTopFirstThroughLowerdirPlus() throws Exception {
        Overlay o = Overlay.of(spec(layers(3), true));
        List<Step> steps = o.steps("/b/rootfs", true);
        assertEquals(1, steps.size());
        Step.Overlay s = assertInstanceOf(Step.Overlay.class, steps.get(0));
        assertEquals(o.lowerdirs(), s.lowerdirs());
        assertEquals("", s.legacyData());
        assertEquals(List.of("/b/rootfs", o.upperdir(), o.workdir(), ""), s.strings().subList(0, 4));
        assertEquals(3L, s.ints()[0]);
    }

    @Test
    void withoutLowerdirPlusOneOptionStringOfAtMostAPage() throws Exception {
        Overlay o = Overlay.of(spec(layers(3), true));
        Step.Overlay s = (Step.Overlay) o.steps("/b/rootfs", false).get(0);
        assertEquals("lowerdir=" + String.join(":", o.lowerdirs()) + ",upperdir=" + o.upperdir() + ",workdir=" + o.workdir(), s.legacyData());
        Overlay many = Overlay.of(spec(layers(60), true));
        assertEquals(1, many.steps("/b/rootfs", true).size(), "lowerdir+ has no such limit");
        RootfsException e = assertThrows(RootfsException.class, () -> many.steps("/b/rootfs", false));
        assertTrue(e.getMessage().startsWith("annotations.brig.overlay.lowerdirs: 60 layers do not fit in overlay's mount options ("), e.getMessage());
        assertTrue(e.getMessage().endsWith("this kernel lacks lowerdir+ (Linux 6.8), so a chain is limited to about 40 layers"), e.getMessage());
    }

    @Test
    void badAnnotationsNameTheField() throws Exception {
        Map<String, String> ok = layers(1);
        RootfsException noNs = assertThrows(RootfsException.class, () -> Overlay.of(spec(ok, false)));
        assertTrue(noNs.getMessage().startsWith("annotations.brig.overlay.lowerdirs: an overlay rootfs needs a mount namespace"), noNs.getMessage());
        Map<String, String> missing = new java.util.HashMap<>(ok);
        missing.put(Overlay.LOWERDIRS, ok.get(Overlay.LOWERDIRS) + ":" + tmp.resolve("nope"));
        RootfsException e = assertThrows(RootfsException.class, () -> Overlay.of(spec(missing, true)));
        assertEquals("annotations.brig.overlay.lowerdirs: " + tmp.resolve("nope") + ": ENOENT: no such directory", e.getMessage());
        Map<String, String> relative = new java.util.HashMap<>(ok);
        relative.put(Overlay.UPPERDIR, "upper");
        assertEquals("annotations.brig.overlay.upperdir: upper is not an absolute path",
                assertThrows(RootfsException.class, () -> Overlay.of(spec(relative, true))).getMessage());
        Map<String, String> outside = new java.util.HashMap<>(ok);
        outside.put(Overlay.TMPFS, Files.createDirectories(tmp.resolve("scratch")).toString());
        assertTrue(assertThrows(RootfsException.class, () -> Overlay.of(spec(outside, true))).getMessage()
                .startsWith("annotations.brig.overlay.upperdir: "));
    }

    @Test
    void aTmpfsForTheUpperIsMountedFirst() throws Exception {
        Path scratch = Files.createDirectories(tmp.resolve("scratch"));
        Map<String, String> a = new java.util.HashMap<>(layers(2));
        a.put(Overlay.TMPFS, scratch.toString());
        a.put(Overlay.UPPERDIR, scratch + "/upper");
        a.put(Overlay.WORKDIR, scratch + "/work");
        List<Step> steps = Overlay.of(spec(a, true)).steps("/b/rootfs", true);
        Step.Mount m = assertInstanceOf(Step.Mount.class, steps.get(0));
        assertEquals("tmpfs", m.fstype());
        assertEquals(scratch.toString(), m.target());
        assertTrue((m.how() & Step.TGT_HOST) != 0);
        assertInstanceOf(Step.Overlay.class, steps.get(1));
    }

    @Test
    void kernelReleases() {
        assertTrue(Overlay.atLeast("6.18.44-fc-v669", 6, 5));
        assertTrue(!Overlay.atLeast("6.1.0-28-amd64", 6, 5));
        assertTrue(Overlay.atLeast("7.0", 6, 5));
    }
}
