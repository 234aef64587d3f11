package brig.cli;

import brig.layer.TarEntry;
import brig.layer.TarWriter;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * The image verbs' part of the AOT training run: import, unpack, images, inspect, copy and rmi
 * on a small layer, so their classes and FFM bindings (libc, libcrypto) start from the cache.
 * A pull and an unpack from docker:// go through a small registry served from this JVM.
 */
final class ImageTraining {
    private ImageTraining() {}

    /**
     * A registry just good enough for the training pull: /v2/, manifests by tag (the layout's
     * only image) and blobs, from the layout {@code store}; one request per connection.
     */
    private static void serve(ServerSocket server, Path store) {
        while (!server.isClosed()) {
            try (Socket c = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.ISO_8859_1));
                String line = in.readLine();
                while (true) {
                    String h = in.readLine();
                    if (h == null || h.isEmpty()) break;
                }
                if (line == null) continue;
                String path = line.split(" ")[1];
                byte[] body = null;
                String type = "application/octet-stream";
                if (path.equals("/v2/")) {
                    body = "{}".getBytes(StandardCharsets.UTF_8);
                    type = "application/json";
                } else if (path.contains("/manifests/")) {
                    var d = brig.image.Layout.open(store).manifests().get(0);
                    body = Files.readAllBytes(store.resolve("blobs/sha256/" + d.digest().hex()));
                    type = d.mediaType();
                } else if (path.contains("/blobs/sha256:")) {
                    Path b = store.resolve("blobs/sha256/" + path.substring(path.indexOf("sha256:") + 7));
                    if (Files.exists(b)) body = Files.readAllBytes(b);
                }
                OutputStream out = c.getOutputStream();
                String head = (body == null ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                        : "HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Length: " + body.length
                        + "\r\nDocker-Distribution-API-Version: registry/2.0\r\n") + "Connection: close\r\n\r\n";
                out.write(head.getBytes(StandardCharsets.ISO_8859_1));
                if (body != null) out.write(body);
                out.flush();
            } catch (Exception e) {
                // closed: training is over
            }
        }
    }

    static void run(Invocation inv, Path dir) throws Exception {
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
        Main.run(inv, List.of("import", "--store", s, tar.toString(), "train"));
        Main.run(inv, List.of("images", "--store", s));
        Main.run(inv, List.of("inspect", "--store", s, "train"));
        Main.run(inv, List.of("unpack", "--store", s, "train", dir.resolve("bundle").toString()));
        Main.run(inv, List.of("copy", "oci:" + s + ":localhost/train:latest", "oci-archive:" + dir.resolve("train-oci.tar")));
        Thread t;
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            t = Thread.ofPlatform().daemon().start(() -> serve(server, store));
            String ref = "127.0.0.1:" + server.getLocalPort() + "/localhost/train:latest";
            Main.run(inv, List.of("pull", "-q", "--store", dir.resolve("pulled").toString(), ref));
            Main.run(inv, List.of("unpack", "-q", "--store", dir.resolve("pulled2").toString(), "docker://" + ref, dir.resolve("bundle2").toString()));
        }
        t.join(1000);
        Main.run(inv, List.of("rmi", "--store", s, "train"));
    }
}
