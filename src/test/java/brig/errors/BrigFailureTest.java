package brig.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import brig.cgroups.CgroupException;
import brig.helper.HelperException;
import brig.image.ImageException;
import brig.json.JsonException;
import brig.layer.LayerException;
import brig.registry.RegistryException;
import brig.rootfs.RootfsException;
import brig.runtime.BrigException;
import brig.spec.SpecException;
import brig.syscalls.Errno;
import brig.syscalls.SyscallException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every Brig exception has one root, keeps its message, and carries what it is about as typed values. */
class BrigFailureTest {
    @Test
    void everyExceptionHasTheOneRoot() {
        for (Exception e : List.of(new BrigException("x"), new SpecException("x"), new CgroupException("x"), new HelperException("x"),
                new SyscallException("open", "/x", Errno.ENOENT), new RootfsException("mounts[0]", "x"), new ImageException("x"),
                new RegistryException("x"), new LayerException("x"), new JsonException("a", "x"))) {
            assertInstanceOf(BrigFailure.class, e);
        }
    }

    @Test
    void aSyscallFailureCarriesTheCallThePathAndTheErrno() {
        SyscallException e = new SyscallException("openat2", "/run/x", Errno.ENOENT);
        assertEquals("openat2 /run/x: ENOENT: no such file or directory", e.getMessage());
        assertEquals("openat2", e.syscall());
        assertEquals("/run/x", e.path());
        assertEquals(Errno.ENOENT, e.errno());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("", e.field());
        assertEquals("", new SyscallException("clone3", null, Errno.EPERM).path());
    }

    @Test
    void aConfigFailureCarriesTheFileAndTheField() {
        SpecException e = new SpecException(Path.of("/b/config.json"), "process.args", "process.args: must be an array");
        assertEquals("/b/config.json: process.args: must be an array", e.getMessage());
        assertEquals("process.args", e.field());
        assertEquals("/b/config.json", e.path());
        assertEquals(0, e.errno());
        assertEquals("mounts[1].destination", new RootfsException("mounts[1].destination", "x").field());
        assertEquals("mounts[1].destination: x", new RootfsException("mounts[1].destination", "x").getMessage());
        assertEquals("linux.uidMappings[0]", new JsonException("linux.uidMappings[0]", "bad").field());
        assertEquals("", new JsonException(null, "bad").field());
        assertEquals("bad", new JsonException(null, "bad").getMessage());
    }

    @Test
    void theHelpersFailureCarriesItsCall() {
        HelperException e = new HelperException(null, "mount", "/proc", Errno.EPERM);
        assertEquals("brig-helper: mount /proc: EPERM: operation not permitted", e.getMessage());
        assertEquals("mount", e.syscall());
        assertEquals("/proc", e.path());
        assertEquals(Errno.EPERM, e.errno());
    }

    @Test
    void aWrappingFailureReportsItsCausesDetails() {
        SyscallException cause = new SyscallException("mknodat", "dev/null", Errno.EPERM);
        LayerException e = new LayerException("layer 1: entry dev/null: " + cause.getMessage(), cause);
        assertEquals("mknodat", e.syscall());
        assertEquals("dev/null", e.path());
        assertEquals(Errno.EPERM, e.errno());
        ImageException outer = new ImageException("cannot unpack busybox: " + e.getMessage(), e);
        assertEquals(Errno.EPERM, outer.errno());
        assertEquals(0, new BrigException("x", new IllegalStateException()).errno());
    }
}
