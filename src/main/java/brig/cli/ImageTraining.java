package brig.cli;

import brig.layer.TarEntry;
import brig.layer.TarWriter;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * The image verbs' part of the AOT training run: import, unpack, images, inspect, copy and rmi
 * on a small layer, so their classes and FFM bindings (libc, libcrypto) start from the cache.
 * Network code is trained as far as a local failure takes it.
 */
final class ImageTraining {
    private ImageTraining() {}

    static void run(Path dir) throws Exception {
        Files.createDirectories(dir);
        Path store = dir.resolve("images"), tar = dir.resolve("train.tar.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(tar)); TarWriter w = new TarWriter(out)) {
            w.write(new TarEntry("etc/", TarEntry.Type.DIRECTORY, 0755, 0, 0, 0, 0, 0, "", 0, 0, Map.of()), null);
            w.file("etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n".getBytes());
            w.file("etc/group", 0644, "root:x:0:\n".getBytes());
            w.write(new TarEntry("bin/sh", TarEntry.Type.SYMLINK, 0777, 0, 0, 0, 0, 0, "busybox", 0, 0, Map.of()), new ByteArrayInputStream(new byte[0]));
            w.write(new TarEntry("bin/ln", TarEntry.Type.HARDLINK, 0755, 0, 0, 0, 0, 0, "etc/passwd", 0, 0, Map.of()), new ByteArrayInputStream(new byte[0]));
            w.file("etc/.wh.gone", 0644, new byte[0]);
        }
        String s = store.toString();
        Main.run(List.of("import", "--store", s, tar.toString(), "train"));
        Main.run(List.of("images", "--store", s));
        Main.run(List.of("inspect", "--store", s, "train"));
        Main.run(List.of("unpack", "--store", s, "train", dir.resolve("bundle").toString()));
        Main.run(List.of("copy", "oci:" + s + ":localhost/train:latest", "oci-archive:" + dir.resolve("train-oci.tar")));
        Main.run(List.of("pull", "--store", s, "127.0.0.1:1/train:latest"));
        Main.run(List.of("rmi", "--store", s, "train"));
    }
}
