package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.rootfs.Overlay;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.Vm;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The copy-on-write rootfs where the container directory is on overlayfs: the cgroup v2
 * guest, whose root is a tmpfs overlay over this host's files. The upper goes on a tmpfs of the
 * container's; a layer store on overlayfs is refused (it would lose the layers' whiteouts).
 */
@ExtendWith(NoLeaks.class)
class CowGuestIT {
    /** Not under /tmp: the guest mounts a fresh /tmp of its own. */
    @TempDir(factory = Vm.GuestDir.class) Path dir;

    @BeforeEach
    void asRoot() {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "needs root");
    }

    @Test
    void anUpperOnOverlayfsGoesOnATmpfs() throws Exception {
        Vm.requireAvailable();
        Layout store = Layout.openOrCreate(dir.resolve("store"));
        CowImages.image(store, "localhost/cow:latest", List.of(CowImages.busyboxLayer(dir), CowImages.deletingLayer()), List.of("sh"));
        String prepare = Vm.javaMain(Prepare.class);

        String id = NoLeaks.PREFIX + "guest";
        String script = String.join("\n",
                "cp -a " + dir.resolve("store") + " /tmp/store",
                prepare + " /tmp/store localhost/cow:latest c1 /var/tmp/cow-containers",
                "echo '--- run'",
                Brig.launcher() + " --root /tmp/state run --bundle /var/tmp/cow-containers/c1 " + id,
                "echo '--- after'",
                "ls -A /var/tmp/cow-containers/c1/scratch | wc -l",
                "echo '--- store on overlayfs'",
                prepare + " " + dir.resolve("store") + " localhost/cow:latest c2 /var/tmp/cow-containers 2>&1 | grep -o 'is on overlayfs, which takes.*'");
        Brig.Result r = Vm.run(dir, script, 600);
        assertEquals(0, r.exit(), r.out() + r.err());
        String out = r.out();
        assertTrue(out.contains("tmpfs upper: true\n"), out + r.err());
        String run = out.substring(out.indexOf("--- run\n") + 8, out.indexOf("--- after"));
        assertEquals("top\nbase-file gone\nc\nwritten\n", run, out + r.err());
        assertTrue(out.contains("--- after\n0\n"), "the tmpfs lived in the container's namespace: " + out);
        assertTrue(out.contains("is on overlayfs, which takes the layers' whiteouts for its own"), out);
    }

    /** In the guest: prepares a container's bundle and sets what it runs. */
    public static final class Prepare {
        public static void main(String[] a) throws Exception {
            Layout l = Layout.open(Path.of(a[0]));
            ContainerBundles.Prepared p = ContainerBundles.prepare(l, Images.inLayout(l, a[1], Platform.host()), a[2], Path.of(a[3]));
            System.out.println("tmpfs upper: " + p.tmpfsUpper());
            JsonObject spec = Json.parseObjectFile(p.bundle().resolve("config.json"));
            spec.getAsJsonObject("process").addProperty("terminal", false);
            JsonArray args = new JsonArray();
            for (String s : List.of("sh", "-c", "cat /etc/top; test -e /etc/base-file || echo base-file gone; ls /opt/keep;"
                    + " echo written > /w; cat /w")) {
                args.add(s);
            }
            spec.getAsJsonObject("process").add("args", args);
            if (!spec.getAsJsonObject("annotations").has(Overlay.TMPFS)) throw new AssertionError("no tmpfs annotation");
            Files.writeString(p.bundle().resolve("config.json"), Json.pretty(spec));
        }
    }
}
