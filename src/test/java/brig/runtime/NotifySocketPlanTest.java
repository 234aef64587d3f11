package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.MountFlags;
import brig.helper.Plan;
import brig.helper.Step;
import brig.json.Json;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** NOTIFY_SOCKET in the plan: runc's bind mount after the config's mounts, the variable, the caller's address forms. */
class NotifySocketPlanTest {
    private static final Path DIR = Path.of("/run/brig/x/notify");

    private static Plan plan(JsonObject c, Path notifyDir) throws Exception {
        Spec spec = SpecReader.parse(c);
        brig.cgroups.ContainerCgroup cg = brig.cgroups.ContainerCgroup.resolve(
                List.of(new brig.cgroups.Hierarchy("memory", Path.of("/sys/fs/cgroup/memory"), "/")), "/brig/x");
        return Planner.plan(spec, new Planner.Context(Path.of("/b"), Path.of("/b/rootfs"), Planner.Mode.RUN, false, 0,
                null, cg, 40, 0, null, notifyDir), Planner.host(spec, cg, brig.cgroups.ResourcePlan.NONE, false, null));
    }

    private static JsonObject config() {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("process").addProperty("terminal", false);
        c.getAsJsonArray("mounts").add(Json.parseQuietly("{\"destination\":\"/run\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"));
        c.getAsJsonObject("process").getAsJsonArray("env").add("NOTIFY_SOCKET=/from/the/config");
        return c;
    }

    @Test
    void theDirectoryIsBoundReadOnlyAfterTheConfigsMountsAndTheVariableReplacesTheConfigs() throws Exception {
        Plan p = plan(config(), DIR);
        List<Step> steps = p.steps();
        int run = -1, notify = -1;
        for (int k = 0; k < steps.size(); k++) {
            if (steps.get(k) instanceof Step.Mount m && m.target().equals("/run")) run = k;
            if (steps.get(k) instanceof Step.Mount m && m.target().equals("/run/notify")) notify = k;
        }
        assertTrue(run >= 0 && notify > run, "the notify mount comes after the config's tmpfs on /run: " + p.explain());
        Step.Mount m = (Step.Mount) steps.get(notify);
        assertEquals(DIR.toString(), m.source());
        assertEquals(MountFlags.MS_BIND | MountFlags.MS_RDONLY | MountFlags.MS_NOSUID | MountFlags.MS_NOEXEC | MountFlags.MS_NODEV, m.mountFlags());
        assertEquals(Step.SRC_HOST, m.how());
        Step.Exec exec = p.find(Step.Exec.class);
        assertEquals(1, exec.env().stream().filter(e -> e.startsWith("NOTIFY_SOCKET=")).count(), exec.env().toString());
        assertTrue(exec.env().contains("NOTIFY_SOCKET=/run/notify/notify.sock"), exec.env().toString());
    }

    @Test
    void withoutNotifySocketNothingIsAdded() throws Exception {
        Plan p = plan(config(), null);
        assertTrue(p.steps().stream().noneMatch(s -> s instanceof Step.Mount m && m.target().equals("/run/notify")), p.explain());
        assertTrue(p.find(Step.Exec.class).env().contains("NOTIFY_SOCKET=/from/the/config"));
    }

    @Test
    void theCallersAddressAsRuncTakesIt() throws Exception {
        Path cwd = Path.of("/home/u");
        assertNull(Notify.address(null, cwd));
        assertNull(Notify.address("", cwd));
        assertEquals("/run/systemd/notify", Notify.address("/run/systemd/notify", cwd));
        assertEquals("/home/u/sub/n.sock", Notify.address("sub/n.sock", cwd));
        assertEquals("@abstract-name", Notify.address("@abstract-name", cwd));
        BrigException e = assertThrows(BrigException.class, () -> Notify.address("vsock:2:1234", cwd));
        assertEquals("NOTIFY_SOCKET=vsock:2:1234: a vsock address is not supported (an AF_UNIX path or @name only)", e.getMessage());
    }
}
