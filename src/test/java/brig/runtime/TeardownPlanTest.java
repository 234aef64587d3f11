package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.spec.Spec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the supervisor is told to remove after a run (brig.runtime.Teardown), and when Java's delete must. */
class TeardownPlanTest {
    private static final Path DIR = Path.of("/run/brig/c1");
    private static final List<Path> CGROUPS = List.of(Path.of("/sys/fs/cgroup/memory/brig/c1"), Path.of("/sys/fs/cgroup/unified/brig/c1"));
    private static final List<Path> MADE = List.of(Path.of("/sys/fs/cgroup/memory/brig"), Path.of("/sys/fs/cgroup/unified/brig"),
            Path.of("/sys/fs/cgroup/memory/brig/c1"), Path.of("/sys/fs/cgroup/unified/brig/c1"));

    @Test
    void theSupervisorRemovesThemInDeletesOrder() {
        Teardown t = Teardown.plan(DIR, 7, 42, "0123456789abcdef", CGROUPS, MADE, Spec.Hooks.NONE, false);
        assertTrue(t.bySupervisor());
        assertNull(t.javaOnly());
        assertEquals(List.of(Path.of("/sys/fs/cgroup/memory/brig"), Path.of("/sys/fs/cgroup/unified/brig")), t.parents(),
                "the container's own directories are not parents");
        byte[] p = t.payload();
        ByteBuffer b = ByteBuffer.wrap(p).order(ByteOrder.nativeOrder());
        assertEquals(7, b.getLong());
        assertEquals(42, b.getLong());
        String rest = new String(p, 16, p.length - 16, StandardCharsets.UTF_8);
        assertTrue(rest.endsWith("\0"));
        assertEquals(List.of("/run/brig/c1", "T\"start\":\"0123456789abcdef\"", "C/sys/fs/cgroup/memory/brig/c1", "C/sys/fs/cgroup/unified/brig/c1",
                "P/sys/fs/cgroup/unified/brig", "P/sys/fs/cgroup/memory/brig", "S"), Arrays.asList(rest.split("\0")),
                "the container's cgroups, the parents deepest first, the state last");
        assertTrue(t.explain().startsWith("after the container exits: the supervisor, holding the lock on /run/brig/c1, removes"), t.explain());
        byte[] marked = t.marking(Path.of("/store/containers/c1/exited")).payload();
        assertTrue(new String(marked, 16, marked.length - 16, StandardCharsets.UTF_8).endsWith("\0S\0E/store/containers/c1/exited\0"),
                "`brig container`'s exited mark, after the state");
    }

    @Test
    void poststopHooksAndSharedMountsAreJavasDelete() {
        Spec.Hook hook = new Spec.Hook("/bin/true", List.of(), List.of(), null);
        Spec.Hooks poststop = new Spec.Hooks(List.of(), List.of(), List.of(), List.of(), List.of(), List.of(hook));
        Teardown t = Teardown.plan(DIR, 7, 42, "0123456789abcdef", CGROUPS, MADE, poststop, false);
        assertFalse(t.bySupervisor());
        assertEquals("after the container exits: brig delete --force removes it (poststop hooks run in Java)", t.explain());
        assertFalse(Teardown.plan(DIR, 7, 42, "0123456789abcdef", CGROUPS, MADE, Spec.Hooks.NONE, true).bySupervisor());
    }
}
