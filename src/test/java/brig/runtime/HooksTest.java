package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.cgroups.ContainerCgroup;
import brig.cgroups.Hierarchy;
import brig.cgroups.ResourcePlan;
import brig.helper.Plan;
import brig.helper.Step;
import brig.json.Json;
import brig.json.JsonException;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hooks as planned: where each kind sits in the plan and in `--explain`, without root. */
class HooksTest {
    private static final String ALL = """
            {"prestart":[{"path":"/h/pre","args":["pre","a"],"env":["A=1"]}],
             "createRuntime":[{"path":"/h/cr"},{"path":"/h/cr2","timeout":5}],
             "createContainer":[{"path":"/h/cc","env":["X=1","Y=2"]}],
             "startContainer":[{"path":"/bin/sc","args":["sc"]}],
             "poststart":[{"path":"/h/ps"}],
             "poststop":[{"path":"/h/stop"}]}""";

    private static Runtime.Prepared prepared(String hooks, Planner.Mode mode) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("process").addProperty("terminal", false);
        if (hooks != null) c.add("hooks", Json.parseQuietly(hooks));
        Spec spec = SpecReader.parse(c);
        ContainerCgroup cg = ContainerCgroup.resolve(List.of(new Hierarchy("memory", Path.of("/sys/fs/cgroup/memory"), "/")), "/brig/x");
        Path fifo = mode == Planner.Mode.CREATE ? Path.of("/run/brig/x/exec.fifo") : null;
        List<HostStep> host = Planner.host(spec, cg, ResourcePlan.NONE, true, fifo);
        Plan plan = Planner.plan(spec, new Planner.Context(Path.of("/b"), Path.of("/b/rootfs"), mode, false, 0,
                Path.of("/run/brig/x/exec.fifo"), cg, 40), host);
        return new Runtime.Prepared("x", Path.of("/b"), spec, Path.of("/b/rootfs"), cg, ResourcePlan.NONE, host, plan, mode);
    }

    /** The lines of `--explain` that are about hooks (and the pause), in order, without step numbers. */
    private static List<String> hookLines(Runtime.Prepared p) {
        return p.explain().lines().filter(l -> l.contains("hook") || l.contains("mounts are done") || l.contains("start-report")
                || l.contains("execve") || l.contains("pivot_root into")).map(l -> l.replaceFirst("^ *\\d+\\. ", "")).toList();
    }

    @Test
    void runExplainsEveryHookWhereItHappens() throws Exception {
        assertEquals(List.of(
                "tell brig the mounts are done",
                "wait while brig runs hooks.prestart[0], hooks.createRuntime[0], hooks.createRuntime[1]",
                "host after the mounts: run hooks.prestart[0]: /h/pre a (argv[0] pre) with 1 environment variable, the state (status creating) on stdin",
                "host after the mounts: run hooks.createRuntime[0]: /h/cr with 0 environment variables, the state (status creating) on stdin",
                "host after the mounts: run hooks.createRuntime[1]: /h/cr2 with 0 environment variables, timeout 5 s, the state (status creating) on stdin",
                "run hooks.createContainer[0]: /h/cc with 2 environment variables, the state (status creating, pid as the container sees it) on stdin",
                "pivot_root into the rootfs and detach the old root",
                "run hooks.startContainer[0]: /bin/sc (argv[0] sc) with 0 environment variables, the state (status created, pid as the container sees it) on stdin",
                "execve sh with 2 environment variables",
                "host after execve: run hooks.poststart[0]: /h/ps with 0 environment variables, the state (status running) on stdin; a failure is a warning",
                "host after delete: run hooks.poststop[0]: /h/stop with 0 environment variables, the state (status stopped) on stdin; a failure is a warning"),
                hookLines(prepared(ALL, Planner.Mode.RUN)));
    }

    @Test
    void createWaitsForStartBeforeTheStartContainerHooksAndOpensTheReportFifo() throws Exception {
        Runtime.Prepared p = prepared(ALL, Planner.Mode.CREATE);
        List<Step> steps = p.plan().steps();
        int report = PlannerTest.index(p.plan(), Step.OpenStartReport.class), pause = PlannerTest.index(p.plan(), Step.Pause.class);
        int pivot = PlannerTest.index(p.plan(), Step.PivotRoot.class), wait = PlannerTest.index(p.plan(), Step.WaitStart.class);
        int exec = PlannerTest.index(p.plan(), Step.Exec.class);
        assertTrue(report < pause && pause < pivot && pivot < wait && wait < exec, p.plan().explain());
        assertEquals(new Step.RunHook("hooks.createContainer[0]", "/h/cc", List.of("/h/cc"), List.of("X=1", "Y=2"), 0, 0, true),
                steps.get(pause + 2));
        assertEquals(new Step.RunHook("hooks.startContainer[0]", "/bin/sc", List.of("sc"), List.of(), 0, 1, false), steps.get(exec - 1));
        assertTrue(p.explain().contains("host: make the fifo /run/brig/x/start-report.fifo (mode 0622) that start reads the outcome of the start from\n"),
                p.explain());
    }

    @Test
    void withoutHooksThePlanHasNoneOfThis() throws Exception {
        for (Planner.Mode mode : Planner.Mode.values()) {
            Runtime.Prepared p = prepared(null, mode);
            assertEquals(List.of("pivot_root into the rootfs and detach the old root", "execve sh with 2 environment variables"),
                    hookLines(p), mode.toString());
            assertEquals(-1, PlannerTest.index(p.plan(), Step.Pause.class));
        }
        // Only hooks at start make create open the report fifo.
        Runtime.Prepared p = prepared("{\"poststop\":[{\"path\":\"/x\"}]}", Planner.Mode.CREATE);
        assertEquals(-1, PlannerTest.index(p.plan(), Step.OpenStartReport.class));
    }

    @Test
    void badHooksAreOneLineNamingTheField() {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.add("hooks", Json.parseQuietly("{\"poststart\":[{\"path\":\"/ok\"},{\"path\":\"rel\"}]}"));
        assertEquals("hooks.poststart[1].path: must be an absolute path, got \"rel\"",
                assertThrows(JsonException.class, () -> SpecReader.parse(c)).getMessage());
        c.add("hooks", Json.parseQuietly("{\"prestart\":[{\"path\":\"/x\",\"timeout\":0}]}"));
        assertEquals("hooks.prestart[0].timeout: must be greater than zero, got 0",
                assertThrows(JsonException.class, () -> SpecReader.parse(c)).getMessage());
        c.add("hooks", Json.parseQuietly("{\"createRuntime\":[{\"args\":[\"x\"]}]}"));
        assertEquals("hooks.createRuntime[0].path: required but missing",
                assertThrows(JsonException.class, () -> SpecReader.parse(c)).getMessage());
    }

    @Test
    void theStateKeepsTheHooksAsCreateReadThem() throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.add("hooks", Json.parseQuietly(ALL));
        Spec.Hooks hooks = SpecReader.parse(c).hooks();
        ContainerState s = new ContainerState("1.2.0", "x", 7, 1, "creating", Path.of("/b"), Path.of("/b/rootfs"), "t",
                Map.of(), List.of(), List.of(), "s", hooks);
        assertEquals(s, ContainerState.fromJson(Json.parseQuietly(Json.compact(s.toJson())).getAsJsonObject()));
        assertTrue(!s.toPublicJson().toString().contains("hooks"), "hooks are Brig's, not in runc's state");
    }

    @Test
    void aFailedHookIsOneLineWithItsFieldAndPath() {
        Hooks.HookException e = new Hooks.HookException("hooks.createRuntime[0]", "/h/cr", "exit", 3, 0);
        assertEquals("hooks.createRuntime[0] /h/cr: exit status 3", e.getMessage());
        assertEquals("hooks.createRuntime[0]", e.field());
        assertEquals("/h/cr", e.path());
        assertEquals("", e.syscall());
        assertEquals(0, e.errno());
        e = new Hooks.HookException("hooks.prestart[1]", "/nope", "execve", 2, 0);
        assertEquals("hooks.prestart[1] /nope: execve: ENOENT: no such file or directory", e.getMessage());
        assertEquals("execve", e.syscall());
        assertEquals(2, e.errno());
        assertEquals("hooks.poststart[0] /h: still running after its timeout of 2 s (hooks.poststart[0].timeout): killed",
                new Hooks.HookException("hooks.poststart[0]", "/h", "timeout", 2, 2).getMessage());
    }
}
