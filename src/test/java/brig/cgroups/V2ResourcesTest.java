package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import brig.spec.Spec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** V2Resources for what a config cannot say but a plan for a live cgroup (`update`) can. */
class V2ResourcesTest {
    private static Spec.Resources memory(Long limit, Long swap) {
        return new Spec.Resources(List.of(), new Spec.Memory(limit, null, swap, null, null, null, false), null, null, null, List.of(),
                null, Map.of(), Map.of());
    }

    @Test
    void aSwapLimitWithoutAMemoryLimitIsRefusedNamingTheField() {
        // memory.swap.max is swap alone: swap - limit cannot be made without the limit.
        CgroupException e = assertThrows(CgroupException.class, () -> V2Resources.writes(memory(null, 209715200L), "memory"));
        assertEquals("linux.resources.memory.swap: cgroup v2 limits swap alone (memory.swap.max = swap - limit), so a swap limit "
                + "needs memory.limit too", e.getMessage());
        assertThrows(CgroupException.class, () -> V2Resources.writes(memory(-1L, 209715200L), "memory"));
    }

    @Test
    void swapEqualToTheLimitIsNoSwapAndUnlimitedSwapNeedsNoLimit() throws Exception {
        assertEquals(List.of("memory.swap.max=0", "memory.max=104857600"), show(V2Resources.writes(memory(104857600L, 104857600L), "memory")));
        assertEquals(List.of("memory.swap.max=max"), show(V2Resources.writes(memory(null, -1L), "memory")));
    }

    private static List<String> show(List<CgroupWrite> ws) {
        return ws.stream().map(w -> w.file() + "=" + w.value()).toList();
    }
}
