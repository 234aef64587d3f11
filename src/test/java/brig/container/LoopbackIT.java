package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.Layout;
import brig.network.Loopback;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * lo in the container's network namespace (issue 12): up under `brig container run`'s default
 * --network none, as docker has it; down under a plain `brig run`, as runc leaves it.
 */
@ExtendWith(NoLeaks.class)
class LoopbackIT {
    @TempDir Path tmp;

    @BeforeEach
    void root() {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "containers need root");
    }

    /** IFF_UP | IFF_LOOPBACK as /sys/class/net/lo/flags shows them; 0x8 is lo down. */
    static final String UP = "0x9", DOWN = "0x8";

    static final String SHOW = "cat /sys/class/net/lo/flags; ip link show lo | head -1; "
            + "ping -c 1 -W 2 127.0.0.1 >/dev/null 2>&1 && echo ping ok || echo ping failed";

    @Test
    void containerRunBringsLoUpAndPingWorks() throws Exception {
        Path store = tmp.resolve("store");
        ContainerImages.busybox(tmp, Layout.openOrCreate(store), "plain", ContainerImages.config("{\"Cmd\":[\"sh\"]}"));
        String name = NoLeaks.PREFIX + "lo";
        Brig.Result r = Brig.run(tmp, List.of("--root", tmp.resolve("state").toString(), "container", "run", "--store", store.toString(),
                "--rm", "--pull=never", "--name", name, "plain", "sh", "-c", SHOW), null, java.util.Map.of(), 60);
        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(UP, lines[0], r.out());
        assertTrue(lines[1].startsWith("1: lo: <LOOPBACK,UP,LOWER_UP>"), r.out());
        // busybox ping opens a raw socket: docker's capability set has CAP_NET_RAW (ping_group_range is "1 0" here).
        assertEquals("ping ok", lines[2], r.out());
    }

    @Test
    void aPlainBundleKeepsLoDownAsRunc() throws Exception {
        Brig.Result r = TestBundle.busybox(tmp).sh(SHOW).run().expect(0);
        String[] lines = r.out().split("\n");
        assertEquals(DOWN, lines[0], r.out());
        assertTrue(lines[1].startsWith("1: lo: <LOOPBACK>"), r.out());
        assertEquals("ping failed", lines[2], r.out());
    }

    @Test
    void theAnnotationWorksInAUserNamespaceToo() throws Exception {
        // The new network namespace belongs to the new user namespace: its root has CAP_NET_ADMIN there.
        TestBundle b = TestBundle.busybox(tmp).sh("cat /sys/class/net/lo/flags");
        b.set("annotations", "{\"" + Loopback.ANNOTATION + "\":\"up\"}");
        b.userNamespace(0, 65536);
        assertEquals(UP + "\n", b.run().expect(0).out());
    }

    @Test
    void explainNamesTheStepAndAnUnknownValueIsRefused() throws Exception {
        TestBundle b = TestBundle.busybox(tmp).sh("true");
        Brig.Result plain = b.run("--explain").expect(0);
        assertFalse(plain.out().contains("loopback"), plain.out());
        b.set("annotations", "{\"" + Loopback.ANNOTATION + "\":\"up\"}");
        Brig.Result up = b.run("--explain").expect(0);
        assertTrue(up.out().contains(". bring the loopback interface lo up in the new network namespace (ioctl SIOCSIFFLAGS IFF_UP)\n"),
                up.out());
        b.set("annotations", "{\"" + Loopback.ANNOTATION + "\":\"on\"}");
        Brig.Result bad = b.run();
        assertEquals(1, bad.exit(), bad.out());
        assertEquals("brig: " + b.dir().resolve("config.json") + ": annotations.brig.network.loopback: \"on\" is not a value Brig knows (only \"up\")\n",
                bad.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "nothing left half-made");
    }
}
