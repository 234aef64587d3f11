package brig.engines;

import brig.image.Layout;
import brig.testing.Busybox;
import brig.testing.TestImage;
import brig.testing.Tools;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The busybox image the engine tests run, made here from busybox-static (nothing is pulled):
 * one uncompressed layer (the rootfs of {@link Busybox} plus the files engines bind over or
 * expect: /etc/hostname, /etc/hosts, /etc/resolv.conf, a sticky /tmp), a config with PATH and
 * {@code sh}, in an OCI layout named {@code busybox:latest}. skopeo carries it to where each
 * engine reads images.
 */
final class EngineImage {
    static final String NAME = "busybox:latest";

    private final Path layout;

    private EngineImage(Path layout) {
        this.layout = layout;
    }

    /** Builds the image in {@code dir}/layout (scratch files in {@code dir}). */
    static EngineImage build(Path dir) throws Exception {
        Path rootfs = Busybox.rootfs(Files.createDirectories(dir.resolve("rootfs")));
        Path etc = rootfs.resolve("etc");
        Files.writeString(etc.resolve("hostname"), "busybox\n");
        Files.writeString(etc.resolve("hosts"), "");
        Files.writeString(etc.resolve("resolv.conf"), "");
        for (String d : List.of("var", "run", "home", "usr/bin", "usr/sbin", "sbin")) Files.createDirectories(rootfs.resolve(d));
        Cmd.run(dir, Map.of(), 30, "chmod", "1777", rootfs.resolve("tmp").toString()).expect(0);
        Layout l = Layout.openOrCreate(dir.resolve("layout"));
        // Uncompressed: the layer's digest is its diff id.
        TestImage.of(TestImage.tar(rootfs)).arch("amd64").created("2026-01-01T00:00:00Z")
                .config("{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\"}")
                .store(l, NAME);
        return new EngineImage(l.dir());
    }

    /** skopeo copy from this image to {@code destination} (a skopeo transport:reference). */
    void copyTo(String destination, Path home) {
        Tools.require("skopeo", "/usr/bin/skopeo");
        Cmd.run(home, Map.of("HOME", home.toString()), 120, "skopeo", "copy", "-q", "oci:" + layout + ":" + NAME, destination).expect(0);
    }
}
