package brig.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A front for the test registry on 127.0.0.1 that asks for bearer tokens (granted for basic
 * credentials), and can fail the way networks and registries do: a 503 on the first manifest
 * request, a blob transfer cut off halfway or hanging halfway (until the test has killed the
 * client), or corrupted blob bytes. It counts the blob bytes it sends and the Range requests.
 */
final class FaultyProxy implements AutoCloseable {
    static final String TOKEN = "brig-test-token";
    final HttpServer server;
    final String upstream;
    final String user, password;
    volatile boolean failFirstManifest, cutFirstBlob, corruptBlobs, stallFirstBlob;
    /** With stallFirstBlob: counted down once half of the first large blob is sent; the rest waits for {@link #release}. */
    final java.util.concurrent.CountDownLatch stalled = new java.util.concurrent.CountDownLatch(1), release = new java.util.concurrent.CountDownLatch(1);
    volatile String stalledPath;
    volatile long stalledAt;
    /** Blob body bytes sent to clients, by request path. */
    final ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicLong> sent = new ConcurrentHashMap<>();
    final List<String> ranges = new CopyOnWriteArrayList<>();
    final AtomicInteger tokensIssued = new AtomicInteger(), manifestRequests = new AtomicInteger();
    private final ConcurrentHashMap<String, Boolean> cut = new ConcurrentHashMap<>();

    FaultyProxy(String upstream, String user, String password) throws IOException {
        this.upstream = upstream;
        this.user = user;
        this.password = password;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(8));
        server.start();
    }

    String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getRawPath();
            if (path.equals("/token")) {
                String want = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes());
                if (!want.equals(x.getRequestHeaders().getFirst("Authorization"))) {
                    x.sendResponseHeaders(401, -1);
                    return;
                }
                tokensIssued.incrementAndGet();
                byte[] b = ("{\"token\":\"" + TOKEN + "\",\"expires_in\":300}").getBytes();
                x.getResponseHeaders().set("Content-Type", "application/json");
                x.sendResponseHeaders(200, b.length);
                x.getResponseBody().write(b);
                return;
            }
            if (!("Bearer " + TOKEN).equals(x.getRequestHeaders().getFirst("Authorization"))) {
                x.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"http://" + host() + "/token\",service=\"test\",scope=\"repository:x:pull\"");
                x.getResponseHeaders().set("Docker-Distribution-API-Version", "registry/2.0");
                byte[] b = "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}".getBytes();
                x.sendResponseHeaders(401, b.length);
                x.getResponseBody().write(b);
                return;
            }
            if (path.contains("/manifests/") && manifestRequests.incrementAndGet() == 1 && failFirstManifest) {
                x.sendResponseHeaders(503, -1);
                return;
            }
            forward(x, path);
        }
    }

    private void count(String path, long n) {
        sent.computeIfAbsent(path, k -> new java.util.concurrent.atomic.AtomicLong()).addAndGet(n);
    }

    private void forward(HttpExchange x, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create("http://" + upstream + x.getRequestURI()).toURL().openConnection();
        c.setRequestMethod(x.getRequestMethod());
        c.setInstanceFollowRedirects(true);
        for (String h : List.of("Accept", "Range", "Content-Type")) {
            String v = x.getRequestHeaders().getFirst(h);
            if (v != null) c.setRequestProperty(h, v);
        }
        String range = x.getRequestHeaders().getFirst("Range");
        boolean blob = path.contains("/blobs/sha256:") && x.getRequestMethod().equals("GET");
        if (range != null && blob) ranges.add(range);
        int status = c.getResponseCode();
        for (String h : List.of("Content-Type", "Docker-Content-Digest", "Content-Range", "Docker-Distribution-API-Version", "Location")) {
            String v = c.getHeaderField(h);
            if (v != null) x.getResponseHeaders().set(h, v);
        }
        InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
        byte[] body = in == null ? new byte[0] : in.readAllBytes();
        if (x.getRequestMethod().equals("HEAD")) {
            x.sendResponseHeaders(status, -1);
            return;
        }
        if (blob && corruptBlobs && body.length > 10) body[body.length / 2] ^= 0x55;
        if (blob && cutFirstBlob && range == null && body.length > 1000 && cut.putIfAbsent(path, true) == null) {
            x.sendResponseHeaders(status, body.length);
            OutputStream out = x.getResponseBody();
            out.write(body, 0, body.length / 2);
            out.flush();
            count(path, body.length / 2);
            // drop the connection mid-body, as a flaky network does
            throw new IOException("cut off on purpose");
        }
        if (blob && stallFirstBlob && range == null && body.length > 1000 && cut.putIfAbsent(path, true) == null) {
            x.sendResponseHeaders(status, body.length);
            OutputStream out = x.getResponseBody();
            out.write(body, 0, body.length / 2);
            out.flush();
            count(path, body.length / 2);
            stalledPath = path;
            stalledAt = body.length / 2;
            stalled.countDown();
            // hang mid-body, as a stuck network does, until the test has killed the client
            try {
                release.await(120, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("cut off on purpose");
        }
        if (blob) count(path, body.length);
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) x.getResponseBody().write(body);
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
