package brig.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.Descriptor;
import brig.image.Layout;
import brig.image.Platform;
import brig.json.Json;
import brig.syscalls.Libc;
import brig.testing.Brig;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Brig against real clients: images made here from busybox-static are pushed to a loopback
 * docker-registry with skopeo and pulled by Brig; Brig's store is read by skopeo and unpacked
 * by umoci; Brig's bundle runs under runc (the flow of registry-roundtrip.sh).
 */
@org.junit.jupiter.api.extension.ExtendWith(brig.testing.NoLeaks.class)
class RegistryIT {
    @TempDir
    static Path shared;
    static TestRegistry registry;
    static Path images;

    @BeforeAll
    static void start() throws Exception {
        for (String tool : List.of("skopeo", "umoci")) {
            Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/" + tool)), tool + " is not installed (.ci/run installs it)");
        }
        registry = new TestRegistry(Files.createDirectories(shared.resolve("registry")));
        // One layout with a single-platform image and a two-platform index, pushed three ways.
        images = shared.resolve("images");
        Layout l = Layout.openOrCreate(images);
        Path work = Files.createDirectories(shared.resolve("work"));
        String host = Platform.host().architecture();
        Descriptor amd = TestImages.busybox(l, work, host, "native");
        Descriptor arm = TestImages.busybox(l, work, host.equals("arm64") ? "amd64" : "arm64", "foreign");
        l.tag(amd, "busybox");
        l.tag(TestImages.index(l, List.of(amd, arm), List.of(host, host.equals("arm64") ? "amd64" : "arm64")), "multi");
        skopeo("copy", "-q", "--dest-tls-verify=false", "oci:" + images + ":busybox", "docker://" + registry.host() + "/busybox:latest");
        skopeo("copy", "-q", "--dest-tls-verify=false", "--format", "v2s2", "oci:" + images + ":busybox", "docker://" + registry.host() + "/docker/busybox:v2s2");
        skopeo("copy", "-q", "--all", "--dest-tls-verify=false", "oci:" + images + ":multi", "docker://" + registry.host() + "/multi:latest");
    }

    @AfterAll
    static void stop() throws Exception {
        if (registry != null) registry.close();
    }

    static String skopeo(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("skopeo"));
        cmd.addAll(List.of(args));
        Brig.Result r = Brig.exec(null, cmd, null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "HOME", shared.toString()), 120);
        if (r.exit() != 0) throw new AssertionError("skopeo " + String.join(" ", args) + ": " + r.err());
        return r.out();
    }

    static Brig.Result brig(String... args) {
        return Brig.run(null, List.of(args), null, Map.of(), 120);
    }

    static Brig.Result tool(Path cwd, String... cmd) {
        return Brig.exec(cwd, List.of(cmd), null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "HOME", shared.toString()), 120);
    }

    /** A listing of a tree (path, type, mode, owner, size, link) to compare two unpackings. */
    static String tree(Path root) {
        return tool(root, "find", ".", "-printf", "%p %y %m %U:%G %s %l\\n").expect(0).out().lines().sorted().reduce("", (a, b) -> a + b + "\n");
    }

    @Test
    void skopeoPushesBrigPullsUnpacksAndRuncRunsIt(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "needs root");
        Path store = tmp.resolve("store");
        String name = registry.host() + "/busybox:latest";
        Brig.Result pull = brig("pull", "--store", store.toString(), name).expect(0);
        assertTrue(pull.out().trim().matches("sha256:[0-9a-f]{64}"), pull.out());
        assertEquals("", pull.err(), "quiet when stderr is not a terminal");
        assertTrue(brig("images", "--store", store.toString()).expect(0).out().contains(registry.host() + "/busybox"));
        assertTrue(brig("inspect", "--store", store.toString(), name).expect(0).out().contains("\"org.example.marker\": \"native\""));

        // skopeo and umoci read Brig's store
        String digest = Json.parse(skopeo("inspect", "oci:" + store + ":" + name)).getAsJsonObject().get("Digest").getAsString();
        assertTrue(Files.exists(store.resolve("blobs/sha256/" + digest.substring(7))));
        tool(tmp, "umoci", "unpack", "--image", store + ":" + name, tmp.resolve("umoci").toString()).expect(0);

        Path bundle = tmp.resolve("bundle");
        brig("unpack", "--store", store.toString(), name, bundle.toString()).expect(0);
        assertEquals(tree(tmp.resolve("umoci/rootfs")), tree(bundle.resolve("rootfs")), "Brig unpacks what umoci unpacks");
        assertEquals("native\n", Files.readString(bundle.resolve("rootfs/etc/marker")));

        JsonObject spec = Json.parseObjectFile(bundle.resolve("config.json"));
        assertEquals("[\"sh\"]", Json.compact(spec.getAsJsonObject("process").get("args")));
        assertEquals("native", spec.getAsJsonObject("annotations").get("org.example.marker").getAsString());
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/runc")), "runc is not installed (.ci/run installs it)");
        spec.getAsJsonObject("process").addProperty("terminal", false);
        JsonArray args = new JsonArray();
        for (String s : List.of("sh", "-c", "echo hello from $(hostname) as $(id -u)")) args.add(s);
        spec.getAsJsonObject("process").add("args", args);
        Files.writeString(bundle.resolve("config.json"), Json.pretty(spec));
        Path state = tmp.resolve("runc-state");
        String id = "brig-it-" + ProcessHandle.current().pid();
        try {
            Brig.Result run = tool(bundle, "runc", "--root", state.toString(), "run", "--bundle", bundle.toString(), id);
            assertEquals(0, run.exit(), run.err());
            assertEquals("hello from brig as 0", run.out().trim());
        } finally {
            tool(tmp, "runc", "--root", state.toString(), "delete", "-f", id);
        }
    }

    @Test
    void unpackStraightFromTheRegistry(@TempDir Path tmp) throws Exception {
        Path store = tmp.resolve("store");
        String name = registry.host() + "/busybox:latest";
        brig("unpack", "--store", store.toString(), "docker://" + name, tmp.resolve("b").toString()).expect(0);
        assertEquals("native\n", Files.readString(tmp.resolve("b/rootfs/etc/marker")));
        assertTrue(brig("images", "--store", store.toString()).expect(0).out().contains(registry.host() + "/busybox"), "pulled into the store on the way");
        String digest = Json.parse(skopeo("inspect", "--tls-verify=false", "docker://" + name)).getAsJsonObject().get("Digest").getAsString();
        String byDigest = registry.host() + "/busybox@" + digest;
        brig("pull", "--store", store.toString(), byDigest).expect(0);
        assertEquals(digest, Json.parse(brig("inspect", "--store", store.toString(), byDigest).expect(0).out()).getAsJsonObject().get("Digest").getAsString());
        Brig.Result wrong = brig("pull", "--store", store.toString(), registry.host() + "/busybox@sha256:" + "0".repeat(64)).expect(1);
        assertTrue(wrong.err().contains("not found"), wrong.err());
        Brig.Result missing = brig("unpack", "--store", store.toString(), "docker://" + registry.host() + "/nope", tmp.resolve("c").toString()).expect(1);
        assertTrue(missing.err().contains("not found"), missing.err());
        assertFalse(Files.exists(tmp.resolve("c")));
    }

    @Test
    void dockerV2s2ManifestsAreStoredInOciForm(@TempDir Path tmp) throws Exception {
        Path store = tmp.resolve("store");
        String name = registry.host() + "/docker/busybox:v2s2";
        brig("pull", "--store", store.toString(), name).expect(0);
        JsonObject inspect = Json.parse(brig("inspect", "--store", store.toString(), name).expect(0).out()).getAsJsonObject();
        assertEquals("application/vnd.oci.image.manifest.v1+json", inspect.get("MediaType").getAsString());
        assertEquals("application/vnd.oci.image.layer.v1.tar+gzip", inspect.getAsJsonArray("Layers").get(0).getAsJsonObject().get("MediaType").getAsString());
        skopeo("inspect", "oci:" + store + ":" + name);
        brig("unpack", "--store", store.toString(), name, tmp.resolve("b").toString()).expect(0);
        assertTrue(Files.exists(tmp.resolve("b/rootfs/bin/busybox")));
    }

    @Test
    void indexesArePickedByPlatform(@TempDir Path tmp) throws Exception {
        Path store = tmp.resolve("store");
        String name = registry.host() + "/multi:latest";
        brig("pull", "--store", store.toString(), name).expect(0);
        brig("unpack", "--store", store.toString(), name, tmp.resolve("native").toString()).expect(0);
        assertEquals("native\n", Files.readString(tmp.resolve("native/rootfs/etc/marker")));
        String other = Platform.host().architecture().equals("arm64") ? "linux/amd64" : "linux/arm64";
        brig("pull", "--store", store.toString(), "--platform", other, name).expect(0);
        brig("unpack", "--store", store.toString(), name, tmp.resolve("foreign").toString()).expect(0);
        assertEquals("foreign\n", Files.readString(tmp.resolve("foreign/rootfs/etc/marker")));
        Brig.Result none = brig("pull", "--store", store.toString(), "--platform", "linux/s390x", name).expect(1);
        assertTrue(none.err().contains("no image for platform linux/s390x"), none.err());
        assertEquals(1, none.err().lines().count(), "one line: " + none.err());
    }

    @Test
    void dockerManifestListsArePickedByPlatform(@TempDir Path tmp) throws Exception {
        String name = registry.host() + "/docker/multi:list";
        Brig.Result push = Brig.exec(null, List.of("skopeo", "copy", "-q", "--all", "--format", "v2s2", "--dest-tls-verify=false",
                "oci:" + images + ":multi", "docker://" + name), null, Map.of("PATH", "/usr/bin:/bin", "HOME", shared.toString()), 120);
        Assumptions.assumeTrue(push.exit() == 0, "this skopeo cannot write manifest lists: " + push.err());
        Path store = tmp.resolve("store");
        String other = Platform.host().architecture().equals("arm64") ? "linux/amd64" : "linux/arm64";
        brig("pull", "--store", store.toString(), "--platform", other, name).expect(0);
        brig("unpack", "--store", store.toString(), name, tmp.resolve("b").toString()).expect(0);
        assertEquals("foreign\n", Files.readString(tmp.resolve("b/rootfs/etc/marker")));
    }

    @Test
    void bearerTokensRetriesAndResumedTransfers(@TempDir Path tmp) throws Exception {
        try (FaultyProxy proxy = new FaultyProxy(registry.host(), "alice", "s3cret")) {
            Path store = tmp.resolve("store");
            String name = proxy.host() + "/busybox:latest";
            Brig.Result anonymous = brig("pull", "--store", store.toString(), name).expect(1);
            assertTrue(anonymous.err().contains("authentication failed"), anonymous.err());

            Path auth = tmp.resolve("auth.json");
            String basic = java.util.Base64.getEncoder().encodeToString("alice:wrong".getBytes());
            Files.writeString(auth, "{\"auths\":{\"" + proxy.host() + "\":{\"auth\":\"" + basic + "\"}}}");
            Brig.Result wrong = brig("pull", "--store", store.toString(), "--authfile", auth.toString(), name).expect(1);
            assertTrue(wrong.err().contains("authentication failed for user alice"), wrong.err());

            basic = java.util.Base64.getEncoder().encodeToString("alice:s3cret".getBytes());
            Files.writeString(auth, "{\"auths\":{\"http://" + proxy.host() + "\":{\"auth\":\"" + basic + "\"}}}");
            proxy.failFirstManifest = true;
            proxy.cutFirstBlob = true;
            // credentials found the way podman finds them, through REGISTRY_AUTH_FILE
            Brig.Result ok = Brig.run(null, List.of("pull", "--store", store.toString(), name), null,
                    Map.of("REGISTRY_AUTH_FILE", auth.toString()), 120);
            assertEquals(0, ok.exit(), ok.err());
            assertTrue(proxy.tokensIssued.get() >= 1);
            assertTrue(proxy.manifestRequests.get() >= 2, "the 503 was retried");
            assertFalse(proxy.ranges.isEmpty(), "a cut transfer resumes with a Range request");
            assertTrue(proxy.ranges.get(0).matches("bytes=[1-9][0-9]*-"), proxy.ranges.toString());
            brig("unpack", "--store", store.toString(), name, tmp.resolve("b").toString()).expect(0);
        }
    }

    @Test
    void corruptBlobsFromTheRegistryAreRefused(@TempDir Path tmp) throws Exception {
        try (FaultyProxy proxy = new FaultyProxy(registry.host(), "u", "p")) {
            proxy.corruptBlobs = true;
            Path auth = tmp.resolve("auth.json");
            Files.writeString(auth, "{\"auths\":{\"" + proxy.host() + "\":{\"username\":\"u\",\"password\":\"p\"}}}");
            Path store = tmp.resolve("store");
            Brig.Result r = brig("pull", "--store", store.toString(), "--authfile", auth.toString(), proxy.host() + "/busybox:latest").expect(1);
            assertTrue(r.err().contains("digest mismatch"), r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertEquals("", brig("images", "--store", store.toString(), "-q").expect(0).out(), "nothing named");
        }
    }

    @Test
    void copyBetweenTransportsAndPush(@TempDir Path tmp) throws Exception {
        String src = "docker://" + registry.host() + "/busybox:latest";
        brig("copy", src, "oci:" + tmp.resolve("layout") + ":v1").expect(0);
        skopeo("inspect", "oci:" + tmp.resolve("layout") + ":v1");
        brig("copy", "oci:" + tmp.resolve("layout") + ":v1", "oci-archive:" + tmp.resolve("a.tar") + ":bb").expect(0);
        skopeo("inspect", "oci-archive:" + tmp.resolve("a.tar") + ":bb");
        brig("copy", "oci-archive:" + tmp.resolve("a.tar") + ":bb", "docker-archive:" + tmp.resolve("d.tar") + ":bb:latest").expect(0);
        skopeo("inspect", "docker-archive:" + tmp.resolve("d.tar"));
        brig("copy", "docker-archive:" + tmp.resolve("d.tar"), "docker://" + registry.host() + "/pushed/by-brig:v1").expect(0);
        String pushed = Json.parse(skopeo("inspect", "--tls-verify=false", "docker://" + registry.host() + "/pushed/by-brig:v1"))
                .getAsJsonObject().getAsJsonArray("Layers").toString();
        String original = Json.parse(skopeo("inspect", "--tls-verify=false", src)).getAsJsonObject().getAsJsonArray("Layers").toString();
        assertEquals(2, Json.parse(pushed).getAsJsonArray().size(), pushed);
        assertFalse(original.isEmpty());
        Path store = tmp.resolve("store");
        brig("pull", "--store", store.toString(), registry.host() + "/pushed/by-brig:v1").expect(0);
        brig("unpack", "--store", store.toString(), registry.host() + "/pushed/by-brig:v1", tmp.resolve("b").toString()).expect(0);
        assertEquals("native\n", Files.readString(tmp.resolve("b/rootfs/etc/marker")));
    }

    @Test
    void importImagesRmiAndGarbageCollection(@TempDir Path tmp) throws Exception {
        Path rootfs = brig.testing.Busybox.rootfs(Files.createDirectories(tmp.resolve("rootfs")));
        Files.writeString(rootfs.resolve("etc/fish"), "blub\n");
        Path tar = tmp.resolve("fish.tar");
        tool(tmp, "tar", "--numeric-owner", "-C", rootfs.toString(), "-cf", tar.toString(), ".").expect(0);
        Path store = tmp.resolve("store");
        String id = brig("import", "--store", store.toString(), tar.toString()).expect(0).out().trim();
        assertTrue(id.matches("sha256:[0-9a-f]{64}"), id);
        assertTrue(brig("images", "--store", store.toString()).expect(0).out().contains("localhost/fish"));
        brig("unpack", "--store", store.toString(), "fish", tmp.resolve("b").toString()).expect(0);
        assertEquals("blub\n", Files.readString(tmp.resolve("b/rootfs/etc/fish")));
        brig("unpack", "--store", store.toString(), id.substring(7, 19), tmp.resolve("by-id").toString()).expect(0);

        Files.writeString(tmp.resolve("junk.tar"), "not a tar at all".repeat(100));
        Brig.Result junk = brig("import", "--store", store.toString(), tmp.resolve("junk.tar").toString()).expect(1);
        assertTrue(junk.err().contains("not a tar archive"), junk.err());

        brig("pull", "--store", store.toString(), registry.host() + "/busybox:latest").expect(0);
        brig("pull", "--store", store.toString(), registry.host() + "/docker/busybox:v2s2").expect(0);
        long before = countBlobs(store);
        brig("rmi", "--store", store.toString(), registry.host() + "/busybox:latest").expect(0);
        long after = countBlobs(store);
        // the v2s2 copy, stored in OCI form, has the very same manifest, config and layers: all stay
        assertEquals(before, after, "blobs another image uses stay");
        brig("unpack", "--store", store.toString(), registry.host() + "/docker/busybox:v2s2", tmp.resolve("shared").toString()).expect(0);
        brig("rmi", "--store", store.toString(), registry.host() + "/docker/busybox:v2s2", "fish").expect(0);
        assertEquals(0, countBlobs(store));
        Brig.Result gone = brig("rmi", "--store", store.toString(), "fish").expect(1);
        assertTrue(gone.err().contains("is not in the store"), gone.err());
    }

    static long countBlobs(Path store) throws Exception {
        try (var s = Files.list(store.resolve("blobs/sha256"))) {
            return s.count();
        }
    }

    @Test
    void httpsRegistriesNeedATrustedCertificateUnlessTlsVerifyIsOff(@TempDir Path tmp) throws Exception {
        try (TestRegistry tls = new TestRegistry(Files.createDirectories(tmp.resolve("tls")), true)) {
            skopeo("copy", "-q", "--dest-tls-verify=false", "oci:" + images + ":busybox", "docker://" + tls.host() + "/busybox:latest");
            Path store = tmp.resolve("store");
            Brig.Result refused = brig("pull", "--store", store.toString(), tls.host() + "/busybox:latest").expect(1);
            assertTrue(refused.err().contains("TLS certificate not trusted") && refused.err().contains("--tls-verify=false"), refused.err());
            assertEquals(1, refused.err().lines().count(), refused.err());
            brig("pull", "--store", store.toString(), "--tls-verify=false", tls.host() + "/busybox:latest").expect(0);
            brig("unpack", "--store", store.toString(), tls.host() + "/busybox:latest", tmp.resolve("b").toString()).expect(0);
            assertEquals("native\n", Files.readString(tmp.resolve("b/rootfs/etc/marker")));
        }
    }

    @Test
    void layoutsAndArchivesWrittenBySkopeoAreReadByBrig(@TempDir Path tmp) throws Exception {
        String src = "docker://" + registry.host() + "/busybox:latest";
        skopeo("copy", "-q", "--src-tls-verify=false", src, "oci:" + tmp.resolve("sk") + ":latest");
        skopeo("copy", "-q", "--src-tls-verify=false", src, "oci-archive:" + tmp.resolve("a.tar") + ":bb");
        skopeo("copy", "-q", "--src-tls-verify=false", src, "docker-archive:" + tmp.resolve("d.tar") + ":bb:latest");
        brig("unpack", "oci:" + tmp.resolve("sk") + ":latest", tmp.resolve("b1").toString()).expect(0);
        brig("copy", "oci-archive:" + tmp.resolve("a.tar") + ":bb", "oci:" + tmp.resolve("from-oci-archive") + ":x").expect(0);
        brig("unpack", "oci:" + tmp.resolve("from-oci-archive") + ":x", tmp.resolve("b2").toString()).expect(0);
        brig("copy", "docker-archive:" + tmp.resolve("d.tar"), "oci:" + tmp.resolve("from-docker-archive") + ":y").expect(0);
        brig("unpack", "oci:" + tmp.resolve("from-docker-archive") + ":y", tmp.resolve("b3").toString()).expect(0);
        for (String b : List.of("b1", "b2", "b3")) assertEquals("native\n", Files.readString(tmp.resolve(b).resolve("rootfs/etc/marker")), b);
        assertEquals(tree(tmp.resolve("b1/rootfs")), tree(tmp.resolve("b3/rootfs")));
    }

    @Test
    void errorsAreOneLineAndNameWhatFailed(@TempDir Path tmp) throws Exception {
        Path store = tmp.resolve("store");
        Brig.Result missing = brig("pull", "--store", store.toString(), registry.host() + "/nope:latest").expect(1);
        assertTrue(missing.err().contains("not found"), missing.err());
        Brig.Result refused = brig("pull", "--store", store.toString(), "127.0.0.1:" + TestRegistry.freePort() + "/x").expect(1);
        assertTrue(refused.err().contains("connection refused"), refused.err());
        Brig.Result bad = brig("pull", "--store", store.toString(), "Upper/Case").expect(1);
        assertTrue(bad.err().contains("must be lowercase"), bad.err());
        for (Brig.Result r : List.of(missing, refused, bad)) assertEquals(1, r.err().lines().count(), r.err());
        Brig.Result noImage = brig("unpack", "--store", store.toString(), "busybox", tmp.resolve("x").toString()).expect(1);
        assertTrue(noImage.err().contains("busybox"), noImage.err());
        assertFalse(Files.exists(tmp.resolve("x")));
        assertTrue(new String(Files.readAllBytes(store.resolve("index.json")), StandardCharsets.UTF_8).contains("\"manifests\":[]"));
    }
}
