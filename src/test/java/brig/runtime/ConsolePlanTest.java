package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Plan;
import brig.helper.Step;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Without root: runc's terminal rules, and what LISTEN_FDS and the keyring do to the plan. */
class ConsolePlanTest {

    private static Plan plan(boolean userns, int listen, int preserve, String keyring) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("process").addProperty("terminal", false);
        if (userns) {
            c.getAsJsonObject("linux").getAsJsonArray("namespaces").add(brig.json.Json.parseQuietly("{\"type\":\"user\"}"));
            c.getAsJsonObject("linux").add("uidMappings", brig.json.Json.parseQuietly("[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"));
            c.getAsJsonObject("linux").add("gidMappings", brig.json.Json.parseQuietly("[{\"containerID\":0,\"hostID\":1000,\"size\":1}]"));
        }
        Spec spec = SpecReader.parse(c);
        brig.cgroups.ContainerCgroup cg = brig.cgroups.ContainerCgroup.resolve(
                List.of(new brig.cgroups.Hierarchy("memory", Path.of("/sys/fs/cgroup/memory"), "/")), "/brig/x");
        return Planner.plan(spec, new Planner.Context(Path.of("/b"), Path.of("/b/rootfs"), Planner.Mode.RUN, false, preserve,
                null, cg, 40, listen, keyring),
                Planner.host(spec, cg, brig.cgroups.ResourcePlan.NONE, false, null));
    }

    @Test
    void runcsRulesForTerminalsAndConsoleSockets() {
        assertEquals("cannot allocate tty if brig will detach without setting console socket", ConsoleSocket.misuse(true, true, false));
        assertEquals("cannot use console socket if brig will not detach or allocate tty", ConsoleSocket.misuse(true, false, true));
        assertEquals("cannot use console socket if brig will not detach or allocate tty", ConsoleSocket.misuse(false, true, true));
        assertNull(ConsoleSocket.misuse(true, true, true));
        assertNull(ConsoleSocket.misuse(false, true, false));
        assertNull(ConsoleSocket.misuse(true, false, false));
    }

    @Test
    void listenFdsComeBeforeThePreservedOnesAndAreAnnounced() throws Exception {
        Plan p = plan(false, 2, 3, null);
        assertEquals(3 + 2 + 3, p.find(Step.CloseFds.class).first());
        List<String> env = p.find(Step.Exec.class).env();
        assertTrue(env.contains("LISTEN_FDS=2") && env.contains("LISTEN_PID=1"), env.toString());
        assertEquals(List.of("a=1", "LISTEN_FDS=1", "LISTEN_PID=1"),
                Planner.listenEnv(List.of("LISTEN_PID=77", "a=1", "LISTEN_FDS=9"), 1), "the config's own values are replaced");
        assertEquals(List.of("LISTEN_PID=77"), Planner.listenEnv(List.of("LISTEN_PID=77"), 0), "none: the config's env as it is");
        assertTrue(plan(false, 0, 0, null).find(Step.Exec.class).env().stream().noneMatch(e -> e.startsWith("LISTEN_")));
    }

    @Test
    void aFreshSessionKeyringAsRuncsWithSearchForTheUserOrOthers() throws Exception {
        Step.JoinKeyring k = plan(false, 0, 0, "_ses.x").find(Step.JoinKeyring.class);
        assertEquals("_ses.x", k.name());
        assertEquals(0x3f1b0000, k.perm()); // the kernel's 0x3f130000 plus user search
        assertEquals(0x3f130008, plan(true, 0, 0, "_ses.x").find(Step.JoinKeyring.class).perm()); // plus other search
        Plan none = plan(false, 0, 0, null);
        assertTrue(none.steps().stream().noneMatch(s -> s instanceof Step.JoinKeyring), "--no-new-keyring");
    }
}
