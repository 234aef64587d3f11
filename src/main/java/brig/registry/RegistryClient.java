package brig.registry;

import brig.image.Digest;
import brig.image.Layout;
import brig.image.MediaType;
import brig.image.Reference;
import brig.json.Json;
import brig.json.JsonException;
import com.google.gson.JsonElement;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A client of one registry, per the OCI distribution spec: /v2/ manifests and blobs, anonymous
 * or bearer-token access negotiated from WWW-Authenticate (with basic credentials from
 * auth.json when there are some), redirects followed without credentials to other hosts,
 * transient failures retried with backoff. HTTPS with verified certificates unless
 * {@code tlsVerify} is false or the registry is on loopback (as docker allows), which also
 * allow plain HTTP. HttpURLConnection rather than java.net.http's client: it is in java.base
 * and starts in ~5 ms against ~300 ms, which every pull pays.
 */
public final class RegistryClient {
    static final String MANIFEST_ACCEPT = String.join(", ", MediaType.OCI_MANIFEST, MediaType.OCI_INDEX,
            MediaType.DOCKER_MANIFEST, MediaType.DOCKER_LIST);
    static final int ATTEMPTS = 5;

    private final String registry;
    private final String host;
    private final boolean tlsVerify;
    private final Credentials credentials;
    private final SSLContext insecure;
    private volatile String scheme;
    private final Map<String, String> tokens = new ConcurrentHashMap<>();
    private volatile boolean basic;

    /** A request body that can be sent again (on a retry). */
    public interface Upload {
        long length();

        InputStream open() throws IOException;

        static Upload of(byte[] b) {
            return new Upload() {
                @Override
                public long length() {
                    return b.length;
                }

                @Override
                public InputStream open() {
                    return new java.io.ByteArrayInputStream(b);
                }
            };
        }
    }

    /** A response whose body the caller reads and closes. */
    public record Response(int status, Map<String, List<String>> headers, InputStream body, URI uri) implements AutoCloseable {
        public Optional<String> header(String name) {
            for (var e : headers.entrySet()) {
                if (e.getKey() != null && e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) return Optional.of(e.getValue().get(0));
            }
            return Optional.empty();
        }

        @Override
        public void close() {
            try {
                body.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }

    public RegistryClient(Reference ref, boolean tlsVerify, Credentials credentials) throws RegistryException {
        this.registry = ref.registry();
        this.host = ref.apiHost();
        this.tlsVerify = tlsVerify;
        this.credentials = credentials;
        this.insecure = tlsVerify ? null : trustAll();
    }

    public String registry() { return registry; }

    private static SSLContext trustAll() throws RegistryException {
        try {
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            return c;
        } catch (java.security.GeneralSecurityException e) {
            throw new RegistryException("cannot set up TLS: " + e.getMessage());
        }
    }

    private boolean plainHttpAllowed() {
        return !tlsVerify || isLoopback();
    }

    /**
     * https, or http where plain HTTP is allowed and the registry speaks it; decided once, by
     * GET /v2/. A loopback registry is asked in plain HTTP first (TLS costs ~300 ms of start-up,
     * and local test registries rarely have it); others in HTTPS first.
     */
    private String scheme() throws RegistryException {
        String s = scheme;
        if (s != null) return s;
        synchronized (this) {
            if (scheme != null) return scheme;
            if (!plainHttpAllowed()) return scheme = "https";
            if (isLoopback() && speaksPlainHttp()) return scheme = "http";
            if (tlsVerify) return scheme = "https"; // loopback speaking TLS: its certificate must verify
            try {
                HttpURLConnection c = open("GET", URI.create("https://" + host + "/v2/"));
                c.setConnectTimeout(10_000);
                c.setReadTimeout(10_000);
                c.getResponseCode();
                drain(c);
                return scheme = "https";
            } catch (IOException e) {
                return scheme = "http";
            }
        }
    }

    private boolean isLoopback() {
        String h = host.startsWith("[") ? host.substring(1, host.indexOf(']')) : host.replaceFirst(":[0-9]+$", "");
        if (h.equals("localhost")) return true;
        try {
            return h.matches("[0-9.]+|[0-9a-fA-F:]+") && InetAddress.getByName(h).isLoopbackAddress();
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether GET /v2/ in plain HTTP gets a registry's answer (not "HTTP request to an HTTPS server"). */
    private boolean speaksPlainHttp() {
        try {
            HttpURLConnection c = open("GET", URI.create("http://" + host + "/v2/"));
            c.setConnectTimeout(10_000);
            c.setReadTimeout(10_000);
            int status = c.getResponseCode();
            boolean registry = c.getHeaderField("Docker-Distribution-API-Version") != null || status == 200 || status == 401;
            drain(c);
            return registry;
        } catch (IOException e) {
            return false;
        }
    }

    private static void drain(HttpURLConnection c) {
        try (InputStream in = c.getResponseCode() >= 400 ? c.getErrorStream() : c.getInputStream()) {
            if (in != null) in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException ignored) {
            // the connection is not reused then
        }
    }

    private HttpURLConnection open(String method, URI uri) throws IOException {
        HttpURLConnection c = (HttpURLConnection) uri.toURL().openConnection(java.net.Proxy.NO_PROXY);
        c.setRequestMethod(method);
        c.setInstanceFollowRedirects(false);
        c.setUseCaches(false);
        c.setConnectTimeout(30_000);
        c.setReadTimeout(300_000);
        c.setRequestProperty("User-Agent", "brig/0.1");
        if (insecure != null && c instanceof HttpsURLConnection https) {
            https.setSSLSocketFactory(insecure.getSocketFactory());
            https.setHostnameVerifier((name, session) -> true);
        }
        return c;
    }

    /** The URL of a /v2/ path on this registry. */
    public URI url(String path) throws RegistryException {
        return URI.create(scheme() + "://" + host + path);
    }

    /**
     * Sends a request, authenticating when challenged, following redirects, and retrying
     * transient failures (connection errors, 5xx, 429) for idempotent methods. Returns any
     * final status; the caller checks it.
     */
    public Response send(String method, URI uri, String scope, Map<String, String> headers, Upload body)
            throws RegistryException {
        boolean idempotent = !method.equals("POST") && !method.equals("PATCH");
        RegistryException last = null;
        String retryAfter = null;
        for (int attempt = 0; attempt < (idempotent ? ATTEMPTS : 1); attempt++) {
            if (attempt > 0) backoff(attempt, retryAfter);
            retryAfter = null;
            try {
                Response r = sendAuthenticated(method, uri, scope, headers, body);
                if (idempotent && (r.status() >= 500 || r.status() == 429 || r.status() == 408) && attempt + 1 < ATTEMPTS) {
                    retryAfter = r.header("Retry-After").orElse(null);
                    last = error(method, r);
                    continue;
                }
                return r;
            } catch (IOException e) {
                last = new RegistryException(method + " " + uri + ": " + describe(e), e);
            }
        }
        throw last;
    }

    static String describe(IOException e) {
        String m = e.getMessage();
        if (e instanceof SSLException) {
            if (m != null && (m.contains("PKIX") || m.contains("certificate") || m.contains("No subject alternative"))) {
                return "TLS certificate not trusted (" + m.replaceFirst(":.*", "") + "); pass --tls-verify=false for a registry you trust";
            }
            return "TLS failed: " + m;
        }
        if (e instanceof java.net.ConnectException) return "connection refused" + (m == null || m.isEmpty() ? "" : " (" + m + ")");
        if (e instanceof java.net.SocketTimeoutException) return "timed out";
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }

    static void backoff(int attempt, String retryAfter) throws RegistryException {
        long ms = Math.min(5000, 200L << Math.min(attempt, 5));
        if (retryAfter != null && retryAfter.matches("[0-9]{1,3}")) ms = Math.min(30_000, Long.parseLong(retryAfter) * 1000);
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException("interrupted");
        }
    }

    private Response sendAuthenticated(String method, URI uri, String scope, Map<String, String> headers, Upload body)
            throws IOException, RegistryException {
        Response r = sendFollowing(method, uri, scope, headers, body);
        if (r.status() != 401) return r;
        Challenge c = Challenge.parse(r.header("WWW-Authenticate").orElse(null));
        r.close();
        if (c == null) throw new RegistryException(method + " " + uri + ": 401 Unauthorized without a WWW-Authenticate challenge");
        if (c.scheme().equals("bearer")) {
            tokens.put(scope, "Bearer " + token(c, scope));
        } else if (c.scheme().equals("basic")) {
            if (credentials == null) throw new RegistryException(registry + ": authentication required: no credentials for it in auth.json (log in with podman login, skopeo login or docker login, or pass --authfile)");
            if (basic) throw new RegistryException(registry + ": authentication failed for user " + credentials.user());
            basic = true;
        } else {
            throw new RegistryException(registry + ": unsupported authentication scheme \"" + c.scheme() + "\"");
        }
        r = sendFollowing(method, uri, scope, headers, body);
        if (r.status() == 401) {
            r.close();
            throw new RegistryException(registry + ": authentication failed" + (credentials == null ? " (anonymous access denied; no credentials in auth.json)" : " for user " + credentials.user()));
        }
        return r;
    }

    private String authorization(String scope) {
        String t = tokens.get(scope);
        if (t != null) return t;
        if (basic && credentials != null) return credentials.basic();
        return null;
    }

    private Response sendFollowing(String method, URI uri, String scope, Map<String, String> headers, Upload body)
            throws IOException, RegistryException {
        URI u = uri;
        boolean sameHost = true;
        for (int hop = 0; hop < 6; hop++) {
            HttpURLConnection c = open(method, u);
            headers.forEach(c::setRequestProperty);
            String auth = sameHost ? authorization(scope) : null;
            if (auth != null) c.setRequestProperty("Authorization", auth);
            if (body != null) {
                c.setDoOutput(true);
                c.setFixedLengthStreamingMode(body.length());
                try (InputStream in = body.open(); OutputStream out = c.getOutputStream()) {
                    in.transferTo(out);
                }
            } else if (method.equals("PUT") || method.equals("POST") || method.equals("PATCH")) {
                c.setDoOutput(true);
                c.setFixedLengthStreamingMode(0);
                c.getOutputStream().close();
            }
            int s = c.getResponseCode();
            String location = c.getHeaderField("Location");
            if ((s == 301 || s == 302 || s == 303 || s == 307 || s == 308) && location != null && (method.equals("GET") || method.equals("HEAD"))) {
                drain(c);
                URI next = u.resolve(location);
                // Credentials go to the registry only, never to a blob store it redirects to.
                sameHost = sameHost && next.getAuthority() != null && next.getAuthority().equals(u.getAuthority());
                u = next;
                continue;
            }
            InputStream in = s >= 400 ? c.getErrorStream() : (method.equals("HEAD") ? null : c.getInputStream());
            return new Response(s, c.getHeaderFields(), in == null ? InputStream.nullInputStream() : in, u);
        }
        throw new RegistryException(method + " " + uri + ": too many redirects");
    }

    private String token(Challenge c, String scope) throws IOException, RegistryException {
        String realm = c.params().get("realm");
        if (realm == null || realm.isEmpty()) throw new RegistryException(registry + ": bearer challenge without a realm");
        StringBuilder q = new StringBuilder(realm).append(realm.contains("?") ? "&" : "?");
        if (c.params().containsKey("service")) q.append("service=").append(URLEncoder.encode(c.params().get("service"), StandardCharsets.UTF_8)).append('&');
        q.append("scope=").append(URLEncoder.encode(scope, StandardCharsets.UTF_8));
        URI uri = URI.create(q.toString());
        if (tlsVerify && uri.getScheme().equals("http") && !plainHttpAllowed()) {
            throw new RegistryException(registry + ": token realm " + realm + " is plain HTTP; use --tls-verify=false to allow it");
        }
        HttpURLConnection conn = open("GET", uri);
        if (credentials != null) conn.setRequestProperty("Authorization", credentials.basic());
        int status = conn.getResponseCode();
        byte[] body;
        try (InputStream in = status >= 400 ? conn.getErrorStream() : conn.getInputStream()) {
            body = in == null ? new byte[0] : in.readNBytes(1 << 20);
        }
        if (status == 401 || status == 403) {
            throw new RegistryException(registry + ": authentication failed" + (credentials == null ? " (no credentials in auth.json)" : " for user " + credentials.user()) + ": token server " + realm + " answered " + status);
        }
        if (status != 200) throw new RegistryException(registry + ": token server " + realm + " answered " + status);
        try {
            JsonElement e = Json.parse(new String(body, StandardCharsets.UTF_8));
            for (String k : new String[] {"token", "access_token"}) {
                if (e.isJsonObject() && e.getAsJsonObject().has(k) && e.getAsJsonObject().get(k).isJsonPrimitive()) return e.getAsJsonObject().get(k).getAsString();
            }
        } catch (JsonException x) {
            throw new RegistryException(registry + ": token server " + realm + " sent malformed JSON: " + x.getMessage());
        }
        throw new RegistryException(registry + ": token server " + realm + " sent no token");
    }

    /** An error from a registry response: status and the registry's own error codes and messages. */
    public static RegistryException error(String what, Response r) {
        String detail = "";
        try (r) {
            byte[] b = r.body().readNBytes(64 << 10);
            JsonElement e = Json.parse(new String(b, StandardCharsets.UTF_8));
            if (e.isJsonObject() && e.getAsJsonObject().has("errors") && e.getAsJsonObject().get("errors").isJsonArray()) {
                StringBuilder sb = new StringBuilder();
                for (JsonElement x : e.getAsJsonObject().getAsJsonArray("errors")) {
                    if (!x.isJsonObject()) continue;
                    var o = x.getAsJsonObject();
                    if (sb.length() > 0) sb.append("; ");
                    if (o.has("code")) sb.append(o.get("code").getAsString());
                    if (o.has("message")) sb.append(": ").append(o.get("message").getAsString());
                }
                detail = sb.toString();
            }
        } catch (IOException | JsonException | RuntimeException ignored) {
            // no JSON error body
        }
        return new RegistryException(what + " " + r.uri() + ": HTTP " + r.status() + (detail.isEmpty() ? "" : " " + detail));
    }

    public static String pullScope(String repository) {
        return "repository:" + repository + ":pull";
    }

    public static String pushScope(String repository) {
        return "repository:" + repository + ":pull,push";
    }

    /** A manifest or index as served: its bytes, media type and digest. */
    public record Fetched(byte[] bytes, String mediaType, Digest digest) {}

    /** GETs a manifest by tag or digest; a digest asked for is verified. */
    public Fetched manifest(String repository, String ref) throws RegistryException {
        String what = registry + "/" + repository + (ref.startsWith("sha256:") ? "@" : ":") + ref;
        try (Response r = send("GET", url("/v2/" + repository + "/manifests/" + ref), pullScope(repository),
                Map.of("Accept", MANIFEST_ACCEPT), null)) {
            if (r.status() == 404) throw new RegistryException("manifest for " + what + " not found (HTTP 404): no such image or tag");
            if (r.status() != 200) throw error("GET", r);
            byte[] b = r.body().readNBytes((int) Layout.MAX_DOCUMENT + 1);
            if (b.length > Layout.MAX_DOCUMENT) throw new RegistryException("manifest for " + what + " is larger than " + Layout.MAX_DOCUMENT + " bytes");
            Digest d = Digest.of(b);
            if (ref.startsWith("sha256:") && !d.toString().equals(ref)) {
                throw new RegistryException("manifest for " + what + ": digest mismatch: got " + d);
            }
            String type = r.header("Content-Type").orElse("").replaceFirst(";.*", "").trim();
            String own = brig.image.Manifest.typeOf(b);
            return new Fetched(b, own != null ? own : type, d);
        } catch (IOException e) {
            throw new RegistryException("GET manifest for " + what + ": " + describe(e), e);
        }
    }

    /** GETs a blob from {@code offset} on (a Range request when not 0). */
    public Response blob(String repository, Digest digest, long offset) throws RegistryException {
        Map<String, String> h = offset > 0 ? Map.of("Range", "bytes=" + offset + "-") : Map.of();
        return send("GET", url("/v2/" + repository + "/blobs/" + digest), pullScope(repository), h, null);
    }
}
