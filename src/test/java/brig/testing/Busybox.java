package brig.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Root filesystems made from Debian's busybox-static: /bin/busybox and a link per applet. */
public final class Busybox {
    private Busybox() {}

    public static final Path BINARY = Path.of("/bin/busybox");

    /** Fills {@code rootfs} with busybox and its applets, plus /etc/passwd and /etc/group. */
    public static Path rootfs(Path rootfs) throws IOException {
        if (!Files.isRegularFile(BINARY)) throw new AssertionError("busybox-static is not installed: .ci/run installs what the tests need");
        Path bin = Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(BINARY, bin.resolve("busybox"));
        Process list = new ProcessBuilder(BINARY.toString(), "--list").start();
        for (String applet : new String(list.getInputStream().readAllBytes()).split("\n")) {
            if (applet.isBlank() || applet.equals("busybox")) continue;
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        Path etc = Files.createDirectories(rootfs.resolve("etc"));
        Files.writeString(etc.resolve("passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        Files.writeString(etc.resolve("group"), "root:x:0:\nnogroup:x:65534:\n");
        for (String d : List.of("root", "tmp", "proc", "sys", "dev")) Files.createDirectories(rootfs.resolve(d));
        return rootfs;
    }
}
