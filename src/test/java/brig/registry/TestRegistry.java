package brig.registry;

import brig.testing.Tools;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Debian's docker-registry on 127.0.0.1, a free port and temporary storage, for one test
 * class; stopped (by its pid) and its storage deleted on close.
 */
final class TestRegistry implements AutoCloseable {
    final Path dir;
    final int port;
    private final Process process;

    TestRegistry(Path dir) throws Exception {
        this(dir, false);
    }

    /** @param tls serve HTTPS with a self-signed certificate for 127.0.0.1 (made with openssl) */
    TestRegistry(Path dir, boolean tls) throws Exception {
        Tools.require("docker-registry", "/usr/bin/docker-registry");
        this.dir = dir;
        this.port = freePort();
        Path config = dir.resolve("registry.yml");
        String tlsConfig = "";
        if (tls) {
            Tools.require("openssl", "/usr/bin/openssl");
            Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString())
                    .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile()).start();
            if (p.waitFor() != 0) throw new IllegalStateException("openssl failed: " + Files.readString(dir.resolve("openssl.log")));
            tlsConfig = "\n  tls:\n    certificate: " + dir.resolve("cert.pem") + "\n    key: " + dir.resolve("key.pem");
        }
        Files.writeString(config, """
                version: 0.1
                log:
                  level: error
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: %s
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:%d%s
                """.formatted(dir.resolve("data"), port, tlsConfig));
        process = new ProcessBuilder("docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                if (tls) {
                    try (java.net.Socket sock = new java.net.Socket("127.0.0.1", port)) {
                        break; // listening: TLS set-up is the client's business
                    }
                }
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/v2/").toURL().openConnection();
                if (c.getResponseCode() == 200) break;
            } catch (IOException notYet) {
                // starting
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("docker-registry did not start: " + Files.readString(dir.resolve("registry.log")));
            }
            Thread.sleep(50);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    String host() {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
    }
}
