package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Plan;
import brig.helper.Step;
import brig.json.Json;
import org.junit.jupiter.api.Test;

/** With a notify agent the process waits, right after loading the filter, until Brig has handed the listener over. */
class NotifyPlanTest {
    static final String PROFILE = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/agent.sock\","
            + "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}";

    @Test
    void lateTheWaitComesRightAfterTheFilterBeforeTheStartWait() throws Exception {
        Plan p = PlannerTest.plan(c -> c.getAsJsonObject("linux").add("seccomp", Json.parseQuietly(PROFILE)), Planner.Mode.CREATE);
        int seccomp = PlannerTest.index(p, Step.Seccomp.class);
        assertTrue(p.steps().get(seccomp + 1) instanceof Step.Await, p.explain());
        assertEquals(seccomp + 2, PlannerTest.index(p, Step.Ready.class), p.explain());
        assertTrue(p.explain().contains("flags NEW_LISTENER, 11 BPF instructions) and pass its notify listener to brig, as late as"
                + " possible"), p.explain());
        assertTrue(p.explain().contains("wait while brig sends the seccomp notify listener to the agent at /run/agent.sock with the"
                + " container process state\n"), p.explain());
    }

    @Test
    void earlyTheSetupStepsRunAfterTheHandOver() throws Exception {
        Plan p = PlannerTest.plan(c -> {
            c.getAsJsonObject("linux").add("seccomp", Json.parseQuietly(PROFILE.replace("{\"defaultAction\"",
                    "{\"listenerMetadata\":\"m\",\"defaultAction\"")));
            c.getAsJsonObject("process").addProperty("noNewPrivileges", false);
        });
        int seccomp = PlannerTest.index(p, Step.Seccomp.class);
        assertTrue(p.steps().get(seccomp + 1) instanceof Step.Await, p.explain());
        assertEquals(seccomp + 2, PlannerTest.index(p, Step.BoundingSet.class), p.explain());
        assertTrue(p.explain().contains("with the container process state and metadata \"m\"\n"), p.explain());
    }
}
