package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Plan;
import brig.helper.Step;
import brig.json.Json;
import org.junit.jupiter.api.Test;

/** Where the seccomp step goes in the plan: runc's places, both before the start wait. */
class SeccompPlanTest {
    static final String PROFILE = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";

    @Test
    void withNoNewPrivilegesTheFilterComesLastBeforeTheStartWait() throws Exception {
        Plan p = PlannerTest.plan(c -> c.getAsJsonObject("linux").add("seccomp", Json.parseQuietly(PROFILE)), Planner.Mode.CREATE);
        int seccomp = PlannerTest.index(p, Step.Seccomp.class);
        assertEquals(PlannerTest.index(p, Step.CloseFds.class) + 1, seccomp, p.explain());
        assertEquals(seccomp + 1, PlannerTest.index(p, Step.Ready.class), p.explain());
        assertTrue(PlannerTest.index(p, Step.Prctl.class) < seccomp);
        assertTrue(p.explain().contains("install the seccomp filter (default action SCMP_ACT_ALLOW, 1 rules over 1 x86_64 calls,"
                + " sections for x86_64, 11 BPF instructions), as late as possible with no_new_privs set"), p.explain());
    }

    @Test
    void withoutNoNewPrivilegesTheFilterComesBeforeCapabilitiesAndUser() throws Exception {
        Plan p = PlannerTest.plan(c -> {
            c.getAsJsonObject("linux").add("seccomp", Json.parseQuietly(PROFILE));
            c.getAsJsonObject("process").addProperty("noNewPrivileges", false);
        });
        int seccomp = PlannerTest.index(p, Step.Seccomp.class);
        assertEquals(PlannerTest.index(p, Step.BoundingSet.class) - 1, seccomp, p.explain());
        assertTrue(seccomp < PlannerTest.index(p, Step.SetUid.class) && seccomp < PlannerTest.index(p, Step.SetCapabilities.class));
        assertTrue(p.explain().contains("while still privileged: the steps below run under it"), p.explain());
    }

    @Test
    void noProfileNoStep() throws Exception {
        assertEquals(-1, PlannerTest.index(PlannerTest.plan(c -> {}), Step.Seccomp.class));
    }
}
