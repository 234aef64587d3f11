package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.container.ContainerConfig;
import brig.container.RunOptions;
import brig.helper.Plan;
import brig.helper.Step;
import brig.image.ImageConfig;
import brig.network.Loopback;
import brig.rootfs.RootfsException;
import brig.spec.SpecDefaults;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** lo up: asked for by Brig's annotation, which `brig container run --network none` writes (no root). */
class LoopbackPlanTest {

    static void annotate(JsonObject c, String value) {
        JsonObject a = new JsonObject();
        a.addProperty(Loopback.ANNOTATION, value);
        c.add("annotations", a);
    }

    @Test
    void aPlainBundleKeepsLoDownAsRunc() throws Exception {
        Plan p = PlannerTest.plan(c -> {});
        assertEquals(-1, PlannerTest.index(p, Step.LoopbackUp.class));
    }

    @Test
    void theAnnotationBringsLoUpInTheNewNamespaceBeforeCapabilitiesDrop() throws Exception {
        Plan p = PlannerTest.plan(c -> annotate(c, "up"));
        int up = PlannerTest.index(p, Step.LoopbackUp.class);
        assertTrue(up > PlannerTest.index(p, Step.Clone.class), "after the network namespace exists");
        assertTrue(up > PlannerTest.index(p, Step.Await.class), "after brig's go-ahead (id maps written)");
        assertTrue(up < PlannerTest.index(p, Step.BoundingSet.class), "while the process still has CAP_NET_ADMIN");
        assertTrue(up < PlannerTest.index(p, Step.SetCapabilities.class));
        assertTrue(up < PlannerTest.index(p, Step.Seccomp.class) || PlannerTest.index(p, Step.Seccomp.class) < 0);
        assertEquals(1, p.steps().stream().filter(s -> s instanceof Step.LoopbackUp).count());
        String explain = p.steps().get(up).explain();
        assertTrue(explain.contains("loopback interface lo up"), explain);
        assertEquals("bring the loopback interface lo up in the new network namespace (ioctl SIOCSIFFLAGS IFF_UP): "
                + "ioctl SIOCSIFFLAGS lo: EPERM: operation not permitted",
                p.steps().get(up).failure("ioctl SIOCSIFFLAGS", "lo", brig.syscalls.Errno.EPERM));
    }

    @Test
    void anUnknownValueIsRefusedByName() {
        RootfsException e = assertThrows(RootfsException.class, () -> PlannerTest.plan(c -> annotate(c, "down")));
        assertEquals("annotations.brig.network.loopback", e.field());
        assertTrue(e.getMessage().contains("\"down\" is not a value Brig knows"), e.getMessage());
    }

    @Test
    void theHostsNetworkNamespaceIsNotTouched() {
        RootfsException e = assertThrows(RootfsException.class, () -> PlannerTest.plan(c -> {
            annotate(c, "up");
            JsonArray ns = new JsonArray();
            for (JsonElement n : c.getAsJsonObject("linux").getAsJsonArray("namespaces")) {
                if (!n.getAsJsonObject().get("type").getAsString().equals("network")) ns.add(n);
            }
            c.getAsJsonObject("linux").add("namespaces", ns);
        }));
        assertTrue(e.getMessage().contains("network namespace of the container's own"), e.getMessage());
    }

    static JsonObject containerConfig(String network) throws Exception {
        ImageConfig img = ImageConfig.parse(("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}").getBytes(StandardCharsets.UTF_8), "test");
        JsonObject c = SpecDefaults.config(false, 0, 0);
        RunOptions o = new RunOptions("c1", List.of(), null, null, null, null, -1, 0, -1, -1, 0, null, -1, false,
                List.of(), List.of(), null, network, false, List.of());
        ContainerConfig.apply(c, img, o, List.of(Path.of("/nonexistent")), Map.of(), 20000);
        return c;
    }

    @Test
    void containerRunAsksForLoUpWithNetworkNoneOnly() throws Exception {
        JsonObject none = containerConfig("none");
        assertEquals("up", none.getAsJsonObject("annotations").get(Loopback.ANNOTATION).getAsString());
        JsonObject host = containerConfig("host");
        assertFalse(host.has("annotations") && host.getAsJsonObject("annotations").has(Loopback.ANNOTATION));
    }
}
