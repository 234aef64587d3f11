package brig.registry;

import brig.testing.Tools;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
        this(dir, tls, null, null);
    }

    /**
     * @param user with {@code password}: the registry demands HTTP basic authentication
     *     (docker-registry's htpasswd back end), or null for anonymous access
     */
    TestRegistry(Path dir, boolean tls, String user, String password) throws Exception {
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
        String authConfig = "";
        if (user != null) {
            Files.writeString(dir.resolve("htpasswd"), user + ":" + bcrypt(password) + "\n");
            authConfig = "\nauth:\n  htpasswd:\n    realm: brig-test\n    path: " + dir.resolve("htpasswd");
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
                  addr: 127.0.0.1:%d%s%s
                """.formatted(dir.resolve("data"), port, tlsConfig, authConfig));
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
                if (c.getResponseCode() == 200 || (user != null && c.getResponseCode() == 401)) break;
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

    /**
     * A bcrypt hash for htpasswd (docker-registry accepts no other kind), from the C library's
     * crypt(3): libcrypt1 is part of every Debian system, so no tool needs installing.
     */
    static String bcrypt(String password) throws Exception {
        try (Arena a = Arena.ofConfined()) {
            SymbolLookup lib = SymbolLookup.libraryLookup("libcrypt.so.1", a);
            MethodHandle crypt = Linker.nativeLinker().downcallHandle(lib.findOrThrow("crypt"),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MemorySegment out;
            try {
                out = (MemorySegment) crypt.invokeExact(a.allocateFrom(password), a.allocateFrom("$2b$05$brigtestsaltbrigtestsu"));
            } catch (Throwable t) {
                throw new IllegalStateException("crypt(3): " + t, t);
            }
            String hash = out.equals(MemorySegment.NULL) ? "" : out.reinterpret(128).getString(0);
            if (!hash.startsWith("$2b$")) throw new IllegalStateException("crypt(3) made no bcrypt hash: \"" + hash + "\"");
            return hash;
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
