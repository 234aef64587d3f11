package brig.rootfs;

import static brig.helper.MountFlags.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MountOptionsTest {
    @Test
    void splitsFlagsPropagationAndData() {
        MountOptions o = MountOptions.parse(List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", "rslave"));
        assertEquals(MS_NOSUID | MS_NOEXEC, o.flags());
        assertEquals(MS_SLAVE | MS_REC, o.propagation());
        assertEquals("newinstance,ptmxmode=0666,mode=0620,gid=5", o.data());
    }

    @Test
    void laterOptionsWin() {
        MountOptions o = MountOptions.parse(List.of("ro", "rw", "rbind"));
        assertEquals(0, o.flags());
        assertEquals(MS_RDONLY, o.clear());
        assertTrue(o.bind() && o.recursive());
    }

    @Test
    void refusesOptionsNotThereYet() {
        assertEquals("mount option \"idmap\" is not supported yet",
                assertThrows(IllegalArgumentException.class, () -> MountOptions.parse(List.of("idmap"))).getMessage());
    }

    @Test
    void cleansContainerPaths() {
        assertEquals("/etc/x", RootfsPlanner.clean("//etc/./y/../x/"));
        assertEquals("/x", RootfsPlanner.clean("/../../x"));
        assertEquals("/", RootfsPlanner.clean("/"));
    }
}
