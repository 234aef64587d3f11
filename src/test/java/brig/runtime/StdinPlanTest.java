package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Plan;
import brig.helper.Step;
import brig.process.Stdin;
import brig.rootfs.RootfsException;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/** stdin /dev/null: asked for by Brig's annotation, which `brig container run` without -i writes (no root). */
class StdinPlanTest {

    static void annotate(JsonObject c, String value) {
        JsonObject a = new JsonObject();
        a.addProperty(Stdin.ANNOTATION, value);
        c.add("annotations", a);
    }

    @Test
    void aPlainBundleKeepsTheCallersStdinAsRunc() throws Exception {
        assertEquals(-1, PlannerTest.index(PlannerTest.plan(c -> {}), Step.Stdin.class));
    }

    @Test
    void theAnnotationOpensTheContainersDevNullAsStdinInsideTheRootBeforeTheIdentityChanges() throws Exception {
        Plan p = PlannerTest.plan(c -> annotate(c, "null"));
        int in = PlannerTest.index(p, Step.Stdin.class);
        Step.Stdin s = (Step.Stdin) p.steps().get(in);
        assertEquals("/dev/null", s.path());
        assertTrue(in > PlannerTest.index(p, Step.PivotRoot.class), "the container's /dev/null, after pivot_root");
        assertTrue(in < PlannerTest.index(p, Step.SetUid.class), "as root, before the user changes");
        assertTrue(in < PlannerTest.index(p, Step.Exec.class));
        assertEquals("open /dev/null as the program's stdin (fd 0) in place of the caller's: open /dev/null: ENOENT: no such file or directory",
                s.failure("open", "/dev/null", brig.syscalls.Errno.ENOENT));
    }

    @Test
    void anUnknownValueOrATerminalIsRefusedByName() {
        RootfsException e = assertThrows(RootfsException.class, () -> PlannerTest.plan(c -> annotate(c, "caller")));
        assertEquals("annotations.brig.process.stdin: \"caller\" is not a value Brig knows (only \"null\")", e.getMessage());
        e = assertThrows(RootfsException.class, () -> PlannerTest.plan(c -> {
            annotate(c, "null");
            c.getAsJsonObject("process").addProperty("terminal", true);
        }));
        assertTrue(e.getMessage().contains("the terminal is the program's stdin"), e.getMessage());
    }
}
