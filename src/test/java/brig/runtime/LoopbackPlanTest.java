package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Plan;
import brig.helper.Step;
import brig.syscalls.Errno;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/** lo up in a new network namespace, as runc and crun do; never in one the config joins (no root). */
class LoopbackPlanTest {

    static void network(JsonObject c, String path) {
        JsonArray ns = new JsonArray();
        for (JsonElement n : c.getAsJsonObject("linux").getAsJsonArray("namespaces")) {
            if (!n.getAsJsonObject().get("type").getAsString().equals("network")) ns.add(n);
        }
        if (path != null) {
            JsonObject n = new JsonObject();
            n.addProperty("type", "network");
            if (!path.isEmpty()) n.addProperty("path", path);
            ns.add(n);
        }
        c.getAsJsonObject("linux").add("namespaces", ns);
    }

    @Test
    void aNewNetworkNamespaceGetsLoUpBeforeCapabilitiesDrop() throws Exception {
        Plan p = PlannerTest.plan(c -> {});
        int up = PlannerTest.index(p, Step.LoopbackUp.class);
        assertTrue(up > PlannerTest.index(p, Step.Clone.class), "after the network namespace exists");
        // Without a user namespace no id map is awaited: lo comes up before the (late) wait.
        assertTrue(up < PlannerTest.index(p, Step.BoundingSet.class), "while the process still has CAP_NET_ADMIN");
        assertTrue(up < PlannerTest.index(p, Step.SetCapabilities.class));
        assertEquals(1, p.steps().stream().filter(s -> s instanceof Step.LoopbackUp).count());
        Step s = p.steps().get(up);
        assertEquals("bring the loopback interface lo up in the new network namespace (ioctl SIOCSIFFLAGS IFF_UP)", s.explain());
        assertEquals(s.explain() + ": ioctl SIOCSIFFLAGS lo: EPERM: operation not permitted", s.failure("ioctl SIOCSIFFLAGS", "lo", Errno.EPERM));
    }

    @Test
    void aJoinedOrTheHostsNamespaceIsLeftAsItIs() throws Exception {
        assertEquals(-1, PlannerTest.index(PlannerTest.plan(c -> network(c, null)), Step.LoopbackUp.class), "the host's");
        assertEquals(-1, PlannerTest.index(PlannerTest.plan(c -> network(c, "/proc/4242/ns/net")), Step.LoopbackUp.class), "another's");
        assertTrue(PlannerTest.index(PlannerTest.plan(c -> network(c, "")), Step.LoopbackUp.class) >= 0, "a new one");
    }
}
