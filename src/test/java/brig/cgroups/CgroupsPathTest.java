package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where linux.cgroupsPath puts a container, for a process that sits in /user/brig (no root needed). */
class CgroupsPathTest {
    static final Hierarchy MEMORY = new Hierarchy("memory", Path.of("/sys/fs/cgroup/memory"), "/user/brig");
    static final Hierarchy UNIFIED = new Hierarchy("", Path.of("/sys/fs/cgroup/unified"), "/user/brig");

    static List<Path> dirs(String cgroupsPath) throws CgroupException {
        return ContainerCgroup.resolve(List.of(MEMORY, UNIFIED), cgroupsPath).dirs().stream().map(ContainerCgroup.Dir::path).toList();
    }

    @Test
    void anAbsolutePathIsTakenFromEachHierarchysRoot() throws Exception {
        assertEquals(List.of(Path.of("/sys/fs/cgroup/memory/brig/x"), Path.of("/sys/fs/cgroup/unified/brig/x")), dirs("/brig/x"));
    }

    @Test
    void aRelativePathGoesBelowBrigsOwnCgroupOnV1AndBesideItOnCgroup2() throws Exception {
        // On cgroup2 Brig's own cgroup holds a process (Brig): a child of it could get no controllers (EBUSY).
        assertEquals(List.of(Path.of("/sys/fs/cgroup/memory/user/brig/x"), Path.of("/sys/fs/cgroup/unified/user/x")), dirs("x"));
    }

    @Test
    void aProcessInTheRootCgroupPutsARelativePathBelowTheRoot() throws Exception {
        Hierarchy root = new Hierarchy("", Path.of("/sys/fs/cgroup"), "/");
        assertEquals(List.of(Path.of("/sys/fs/cgroup/x")),
                ContainerCgroup.resolve(List.of(root), "x").dirs().stream().map(ContainerCgroup.Dir::path).toList());
    }

    @Test
    void escapesAndSystemdPathsAreRefusedNamingTheField() {
        assertTrue(assertThrows(CgroupException.class, () -> dirs("../x")).getMessage().startsWith("linux.cgroupsPath: "));
        assertTrue(assertThrows(CgroupException.class, () -> dirs("system.slice:brig:x")).getMessage().startsWith("linux.cgroupsPath: "));
    }
}
