package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import brig.helper.Plan;
import brig.helper.Step;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A config without "process" (runtime-spec: required only by start), planned without root. */
class SpecConformancePlanTest {

    /** create: everything but the program; the process's last step is the wait for start. */
    @Test
    void createWithoutProcessPlansNoProgram() throws Exception {
        Plan p = PlannerTest.plan(c -> c.remove("process"), Planner.Mode.CREATE);
        List<Step> steps = p.steps();
        assertEquals(Step.WaitStart.class, steps.get(steps.size() - 1).getClass());
        assertEquals(Step.Ready.class, steps.get(steps.size() - 2).getClass());
        assertEquals(-1, PlannerTest.index(p, Step.Exec.class));
        assertEquals(-1, PlannerTest.index(p, Step.FindExecutable.class));
        assertEquals(true, PlannerTest.index(p, Step.PivotRoot.class) >= 0, p.explain());
    }

    /** run has to start the program at once: it cannot be planned without one. */
    @Test
    void runWithoutProcessIsNotPlanned() {
        assertThrows(IllegalArgumentException.class, () -> PlannerTest.plan(c -> c.remove("process"), Planner.Mode.RUN));
    }
}
