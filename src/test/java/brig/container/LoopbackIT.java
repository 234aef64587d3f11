package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.Layout;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import brig.testing.Tools;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * lo in the container's network namespace (issue 12): the kernel makes a new one with lo down;
 * runc and crun bring it up, and so does Brig, under `brig run` and `brig container run`'s
 * default --network none alike (docker's behaviour too). A namespace the config joins is left
 * as it is.
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
    void containerRunHasLoUpAndPingWorks() throws Exception {
        Path store = tmp.resolve("store");
        ContainerImages.busybox(tmp, Layout.openOrCreate(store), "plain", ContainerImages.config("{\"Cmd\":[\"sh\"]}"));
        Brig.Result r = Brig.run(tmp, List.of("--root", tmp.resolve("state").toString(), "container", "run", "--store", store.toString(),
                "--rm", "--pull=never", "--name", NoLeaks.PREFIX + "lo", "plain", "sh", "-c", SHOW), null, Map.of(), 60);
        assertEquals(0, r.exit(), r.err());
        // busybox ping opens a raw socket: docker's capability set has CAP_NET_RAW (ping_group_range is "1 0" here).
        assertEquals(List.of(UP, "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue qlen 1000", "ping ok"), List.of(r.out().split("\n")));
    }

    @Test
    void aPlainBundleGetsLoUpAsUnderRunc() throws Exception {
        TestBundle b = TestBundle.busybox(tmp).sh("cat /sys/class/net/lo/flags");
        assertEquals(UP + "\n", b.run().expect(0).out());
        Tools.require("runc", "/usr/sbin/runc");
        b.write();
        String id = b.id() + "-runc";
        try {
            Brig.Result runc = Brig.exec(b.dir(), List.of("runc", "--root", tmp.resolve("runc").toString(), "run", id), null,
                    Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 60);
            assertEquals(UP + "\n", runc.out(), "runc: " + runc.err());
        } finally {
            Brig.exec(b.dir(), List.of("runc", "--root", tmp.resolve("runc").toString(), "delete", "--force", id), null,
                    Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 30);
        }
    }

    @Test
    void upInAUserNamespaceToo() throws Exception {
        // The new network namespace belongs to the new user namespace: its root has CAP_NET_ADMIN there.
        TestBundle b = TestBundle.busybox(tmp).sh("cat /sys/class/net/lo/flags").userNamespace(0, 65536);
        assertEquals(UP + "\n", b.run().expect(0).out());
    }

    @Test
    void aJoinedNamespaceIsLeftAsItIs() throws Exception {
        // A network namespace of another process's, lo down: joining it must not change it.
        Process holder = new ProcessBuilder("unshare", "--net", "sleep", "100").start();
        try {
            Path ns = Path.of("/proc/" + holder.pid() + "/ns/net");
            for (int k = 0; k < 100 && java.nio.file.Files.readSymbolicLink(ns).equals(java.nio.file.Files.readSymbolicLink(Path.of("/proc/self/ns/net"))); k++) {
                Thread.sleep(20); // unshare has not unshared yet
            }
            TestBundle b = TestBundle.busybox(tmp).sh("cat /sys/class/net/lo/flags");
            b.edit(c -> {
                com.google.gson.JsonArray kept = new com.google.gson.JsonArray();
                c.getAsJsonObject("linux").getAsJsonArray("namespaces").forEach(n -> {
                    if (!n.getAsJsonObject().get("type").getAsString().equals("network")) kept.add(n);
                });
                com.google.gson.JsonObject net = new com.google.gson.JsonObject();
                net.addProperty("type", "network");
                net.addProperty("path", ns.toString());
                kept.add(net);
                c.getAsJsonObject("linux").add("namespaces", kept);
            });
            assertEquals(DOWN + "\n", b.run().expect(0).out());
            Brig.Result explain = b.run("--explain").expect(0);
            assertFalse(explain.out().contains("loopback"), explain.out());
        } finally {
            holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void explainNamesTheStep() throws Exception {
        Brig.Result r = TestBundle.busybox(tmp).sh("true").run("--explain").expect(0);
        assertTrue(r.out().contains(". bring the loopback interface lo up in the new network namespace (ioctl SIOCSIFFLAGS IFF_UP)\n"), r.out());
    }
}
