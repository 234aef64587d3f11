package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;

import brig.json.Json;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * linux.resources.memory.kernelTCP: written to memory.kmem.tcp.limit_in_bytes on a v1 memory
 * hierarchy (v1 kernels still apply it; runtime-tools' linux_cgroups_memory reads it back),
 * ignored on cgroup v2, which has no such limit. "kernel" stays ignored everywhere.
 */
class KernelTcpPlanTest {
    private static final Path FS = Path.of("/sys/fs/cgroup");
    private static final String JSON = "{\"memory\":{\"limit\":104857600,\"kernel\":50593792,\"kernelTCP\":50593792}}";

    private static List<String> plan(List<Hierarchy> hs, ResourcePlan.Host host) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("linux").add("resources", Json.parseQuietly(JSON));
        return ResourcePlan.of(SpecReader.parse(c).linux().resources(), ContainerCgroup.resolve(hs, "/brig/x"), host, -1).explain();
    }

    @Test
    void writtenOnV1() throws Exception {
        List<Hierarchy> hybrid = List.of(new Hierarchy("memory", FS.resolve("memory"), "/"), new Hierarchy("", FS.resolve("unified"), "/"));
        assertEquals(List.of(
                "write 104857600 to /sys/fs/cgroup/memory/brig/x/memory.limit_in_bytes (linux.resources.memory.limit)",
                "write 50593792 to /sys/fs/cgroup/memory/brig/x/memory.kmem.tcp.limit_in_bytes (linux.resources.memory.kernelTCP)",
                "ignored: linux.resources.memory.kernel: kernel memory limits are deprecated by the kernel (as runc, Brig ignores them)"),
                plan(hybrid, new ResourcePlan.Host(Set.of("hugetlb"), p -> true, dir -> Set.of())));
    }

    @Test
    void ignoredOnV2() throws Exception {
        List<String> lines = plan(List.of(new Hierarchy("", FS, "/")),
                new ResourcePlan.Host(Set.of("memory"), p -> true, dir -> Set.of("memory")));
        assertEquals(List.of(
                "write 104857600 to /sys/fs/cgroup/brig/x/memory.max (linux.resources.memory.limit)",
                "ignored: linux.resources.memory.kernel: kernel memory limits are deprecated by the kernel (as runc, Brig ignores them)",
                "ignored: linux.resources.memory.kernelTCP: cgroup v2 has no TCP buffer limit (as runc, Brig ignores it)"),
                lines.subList(lines.size() - 3, lines.size()));
    }
}
