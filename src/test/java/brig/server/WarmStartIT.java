package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `start` (and `delete`'s poststop hooks) from the resident server: on twin containers, one
 * started warm and one cold, the same stdout, stderr and exit status, the hooks' output in the
 * caller's streams and the hooks run in the caller's working directory; the container runs.
 */
@ExtendWith(NoLeaks.class)
class WarmStartIT extends WarmCallTest {
    /** Host hooks that show where they run and write to both streams; one that fails (a warning). */
    private static final String HOST_HOOKS = "\"poststart\":["
            + "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"read -r s; echo poststart in $(pwd); echo poststart err >&2\"]},"
            + "{\"path\":\"/bin/false\"}],"
            + "\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo poststop in $(pwd); echo poststop err >&2\"]}]";

    private TestBundle container(String hooks) throws IOException {
        TestBundle b = TestBundle.busybox(dir.resolve("b" + ids.size())).args("sleep", "100");
        b.set("hooks", hooks);
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), COLD, List.of("create", "--bundle", b.dir().toString(), b.id())).expect(0);
        return b;
    }

    @Test
    void startAndDeleteAnswerAsCold() throws Exception {
        // A startContainer hook (the container's process runs it) makes start wait for the execve.
        String hooks = "{\"startContainer\":[{\"path\":\"/bin/true\"}]," + HOST_HOOKS + "}";
        TestBundle a = container(hooks), b = container(hooks);
        Brig.Result started = both(a, b, "start", "ID").expect(0);
        assertEquals("poststart in " + dir + "\n", started.out());
        assertEquals("poststart err\nbrig: warning: hooks.poststart[1] /bin/false: exit status 1\n", started.err());
        assertTrue(brig.brig(dir, WARM, List.of("state", a.id())).expect(0).out().contains("\"status\": \"running\""));
        both(a, b, "start", "ID").expect(1);
        same("start", "nosuch").expect(1);
        same("start").expect(1);
        both(a, b, "kill", "ID", "KILL").expect(0);
        brig.awaitStatus(a.id(), "stopped");
        brig.awaitStatus(b.id(), "stopped");
        both(a, b, "start", "ID").expect(1);
        Brig.Result deleted = both(a, b, "delete", "ID").expect(0);
        assertEquals("poststop in " + dir + "\n", deleted.out());
        assertEquals("poststop err\n", deleted.err());
    }

    @Test
    void aStartWithoutHooksAnswersAsCold() throws Exception {
        TestBundle a = container("{}"), b = container("{}");
        assertEquals(new Brig.Result(0, "", ""), both(a, b, "start", "ID"));
        assertTrue(brig.brig(dir, WARM, List.of("state", a.id())).expect(0).out().contains("\"status\": \"running\""));
        both(a, b, "delete", "--force", "ID").expect(0);
    }

    @Test
    void aFailingStartContainerHookFailsStartAsCold() throws Exception {
        String hooks = "{\"startContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 5\"]}]," + HOST_HOOKS + "}";
        TestBundle a = container(hooks), b = container(hooks);
        Brig.Result r = both(a, b, "start", "ID").expect(1);
        assertTrue(r.err().contains("hooks.startContainer[0]"), r.err());
        assertEquals("", r.out(), "no poststart after a failed start");
        brig.awaitStatus(a.id(), "stopped");
        both(a, b, "delete", "ID").expect(0);
    }

    /** The command on {@code a} warm and on {@code b} cold (ID names it): the same answer, but for the id. */
    private Brig.Result both(TestBundle a, TestBundle b, String... args) {
        long before = served();
        Brig.Result warm = Brig.run(dir, with(a.id(), args), null, WARM, 60);
        assertEquals(before + 1, served(), "served warm: " + List.of(args));
        Brig.Result cold = Brig.run(dir, with(b.id(), args), null, COLD, 60);
        assertEquals(before + 1, served(), "cold did not use the server: " + List.of(args));
        assertEquals(new Brig.Result(cold.exit(), cold.out().replace(b.id(), a.id()), cold.err().replace(b.id(), a.id())), warm,
                "warm and cold differ for " + List.of(args));
        return warm;
    }

    private Brig.Result same(String... args) {
        long before = served();
        Brig.Result warm = Brig.run(dir, with("", args), null, WARM, 60);
        assertEquals(before + 1, served(), "served warm: " + List.of(args));
        Brig.Result cold = Brig.run(dir, with("", args), null, COLD, 60);
        assertEquals(cold, warm, "warm and cold differ for " + List.of(args));
        return warm;
    }

    private List<String> with(String id, String... args) {
        List<String> full = new ArrayList<>(List.of("--root", brig.root().toString()));
        for (String x : args) full.add(x.equals("ID") ? id : x);
        return full;
    }
}
