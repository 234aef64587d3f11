package brig.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.Descriptor;
import brig.image.Layout;
import brig.image.Manifest;
import brig.image.MediaType;
import brig.image.Unpacker;
import brig.image.Platform;
import brig.json.Json;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.Tools;
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
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Brig against real clients: images made here from busybox-static are pushed to a loopback
 * docker-registry with skopeo and pulled by Brig; Brig's store and the layers Brig writes are
 * read by skopeo and unpacked by umoci, and layouts umoci writes are unpacked by Brig; Brig's
 * bundle runs under runc (the flow of registry-roundtrip.sh). skopeo, umoci, docker-registry
 * and runc are installed by .ci/run: a missing one fails the class.
 */
@ExtendWith(NoLeaks.class)
class RegistryIT {
    @TempDir
    static Path shared;
    static TestRegistry registry;
    static Path images;

    @BeforeAll
    static void start() throws Exception {
        Tools.require("skopeo", "/usr/bin/skopeo");
        Tools.require("umoci", "/usr/bin/umoci");
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

    /** A listing of a tree (path, type, mode, owner, size, link, and each regular file's SHA-256) to compare two unpackings. */
    static String tree(Path root) {
        String listing = tool(root, "find", ".", "-printf", "%p %y %m %U:%G %s %l\\n").expect(0).out();
        String contents = tool(root, "find", ".", "-type", "f", "-exec", "sha256sum", "{}", "+").expect(0).out();
        return (listing + contents).lines().sorted().reduce("", (a, b) -> a + b + "\n");
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
        Tools.require("runc", "/usr/sbin/runc", "/usr/bin/runc");
        spec.getAsJsonObject("process").addProperty("terminal", false);
        JsonArray args = new JsonArray();
        for (String s : List.of("sh", "-c", "echo hello from $(hostname) as $(id -u)")) args.add(s);
        spec.getAsJsonObject("process").add("args", args);
        Files.writeString(bundle.resolve("config.json"), Json.pretty(spec));
        Path state = tmp.resolve("runc-state");
        String id = NoLeaks.PREFIX + "runc";
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
        assertEquals(0, push.exit(), "skopeo (Debian's, which .ci/run installs) writes Docker manifest lists: " + push.err());
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
        // What Brig pushes from the docker archive is the image Brig reads from it: that, as a layout, is the reference.
        brig("copy", "docker-archive:" + tmp.resolve("d.tar"), "oci:" + tmp.resolve("from-d") + ":x").expect(0);
        brig("copy", "docker-archive:" + tmp.resolve("d.tar"), "docker://" + registry.host() + "/pushed/by-brig:v1").expect(0);
        pushedIsPulled(tmp.resolve("from-d"), "x", registry.host() + "/pushed/by-brig:v1", tmp.resolve("store1"));
        // and straight from a layout
        brig("copy", "oci:" + tmp.resolve("layout") + ":v1", "docker://" + registry.host() + "/pushed/from-layout:v1").expect(0);
        pushedIsPulled(tmp.resolve("layout"), "v1", registry.host() + "/pushed/from-layout:v1", tmp.resolve("store2"));
        // through every transport the layers' contents were kept: the same diff ids as the source image
        String original = Json.compact(Json.parse(skopeo("inspect", "--config", "--tls-verify=false", src)).getAsJsonObject().getAsJsonObject("rootfs"));
        String pushed = Json.compact(Json.parse(skopeo("inspect", "--config", "--tls-verify=false", "docker://" + registry.host() + "/pushed/by-brig:v1"))
                .getAsJsonObject().getAsJsonObject("rootfs"));
        assertEquals(original, pushed, "diff ids of the pushed image");
        brig("unpack", "--store", tmp.resolve("store1").toString(), registry.host() + "/pushed/by-brig:v1", tmp.resolve("b").toString()).expect(0);
        assertEquals("native\n", Files.readString(tmp.resolve("b/rootfs/etc/marker")));
    }

    /**
     * The image named {@code ref} in the layout {@code layoutDir}, which Brig pushed as
     * {@code name}, is what the registry serves (manifest digest and bytes, as skopeo reads
     * them) and what Brig pulls back: manifest digest, config and every layer, byte for byte.
     */
    static void pushedIsPulled(Path layoutDir, String ref, String name, Path store) throws Exception {
        Layout layout = Layout.open(layoutDir);
        Descriptor local = layout.find(ref);
        byte[] manifest = Files.readAllBytes(layout.blobPath(local.digest()));
        JsonObject remote = Json.parse(skopeo("inspect", "--tls-verify=false", "docker://" + name)).getAsJsonObject();
        assertEquals(local.digest().toString(), remote.get("Digest").getAsString(), "the registry names the manifest Brig pushed by its digest");
        assertEquals(new String(manifest, StandardCharsets.UTF_8), skopeo("inspect", "--raw", "--tls-verify=false", "docker://" + name).strip(),
                "the registry serves the manifest's bytes");

        brig("pull", "--store", store.toString(), name).expect(0);
        Layout pulledLayout = Layout.open(store);
        Descriptor pulled = pulledLayout.find(name);
        assertEquals(local.digest(), pulled.digest(), "pulled manifest digest");
        assertEquals(-1, Files.mismatch(layout.blobPath(local.digest()), pulledLayout.blobPath(pulled.digest())), "manifest bytes");
        Manifest m = Manifest.parse(manifest, local.mediaType(), "pushed manifest");
        List<Descriptor> blobs = new ArrayList<>(m.layers());
        blobs.add(m.config());
        assertEquals(3, blobs.size(), "two layers and a config");
        for (Descriptor d : blobs) {
            Path a = layout.blobPath(d.digest()), b = pulledLayout.blobPath(d.digest());
            assertTrue(Files.exists(b), "pulled " + d.digest());
            assertEquals(-1, Files.mismatch(a, b), "blob " + d.digest() + " pushed and pulled byte for byte");
            assertEquals(d.size(), Files.size(b));
        }
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
    static String authJson(String host, String user, String password) {
        String basic = java.util.Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return "{\"auths\":{\"" + host + "\":{\"auth\":\"" + basic + "\"}}}";
    }

    @Test
    void credentialsAreReadFromEachDocumentedAuthFile(@TempDir Path tmp) throws Exception {
        try (TestRegistry secured = new TestRegistry(Files.createDirectories(tmp.resolve("secured")), false, "carol", "h0rse-battery")) {
            skopeo("copy", "-q", "--dest-tls-verify=false", "--dest-creds", "carol:h0rse-battery", "oci:" + images + ":busybox",
                    "docker://" + secured.host() + "/private/busybox:latest");
            String name = secured.host() + "/private/busybox:latest";
            String auth = authJson(secured.host(), "carol", "h0rse-battery");
            // Each place on its own, in an environment where no other place has credentials.
            record Place(String what, String file, List<String> flags, Map<String, String> env) {}
            Path home = tmp.resolve("home"), xdg = tmp.resolve("xdg"), elsewhere = tmp.resolve("elsewhere");
            List<Place> places = List.of(
                    new Place("--authfile", elsewhere + "/flag.json", List.of("--authfile", elsewhere + "/flag.json"), Map.of()),
                    new Place("$REGISTRY_AUTH_FILE", elsewhere + "/env.json", List.of(), Map.of("REGISTRY_AUTH_FILE", elsewhere + "/env.json")),
                    new Place("$XDG_RUNTIME_DIR/containers/auth.json", xdg + "/containers/auth.json", List.of(), Map.of()),
                    new Place("~/.config/containers/auth.json", home + "/.config/containers/auth.json", List.of(), Map.of()),
                    new Place("~/.docker/config.json", home + "/.docker/config.json", List.of(), Map.of()));
            int k = 0;
            for (Place place : places) {
                Files.createDirectories(home);
                Files.createDirectories(xdg);
                Map<String, String> env = new java.util.HashMap<>(place.env());
                env.put("HOME", home.toString());
                env.put("XDG_RUNTIME_DIR", xdg.toString());
                List<String> args = new ArrayList<>(List.of("pull", "--store", tmp.resolve("store" + k++).toString()));
                args.addAll(place.flags());
                args.add(name);
                Path file = Path.of(place.file());
                Files.createDirectories(file.getParent());
                Files.writeString(file, auth);
                Brig.Result ok = Brig.run(null, args, null, env, 120);
                assertEquals(0, ok.exit(), place.what() + " alone gives the credentials: " + ok.err());
                assertTrue(ok.out().trim().matches("sha256:[0-9a-f]{64}"), ok.out());
                Files.delete(file);
                // without it the registry refuses (--authfile naming a missing file is an error of its own)
                if (!place.flags().isEmpty()) args.removeAll(place.flags());
                args.set(2, tmp.resolve("store" + k++).toString());
                Brig.Result refused = Brig.run(null, args, null, env, 120);
                assertEquals(1, refused.exit(), place.what() + " removed: " + refused.err());
                assertTrue(refused.err().contains(secured.host() + ": authentication required"), place.what() + " removed: " + refused.err());
                assertEquals(1, refused.err().lines().count(), refused.err());
            }
            // and a wrong password is refused by the registry, not taken for anonymous access
            Files.writeString(elsewhere.resolve("wrong.json"), authJson(secured.host(), "carol", "wrong"));
            Brig.Result wrong = brig("pull", "--store", tmp.resolve("store-wrong").toString(), "--authfile", elsewhere.resolve("wrong.json").toString(), name);
            assertEquals(1, wrong.exit(), wrong.err());
            assertTrue(wrong.err().contains("authentication failed for user carol"), wrong.err());
        }
    }

    @Test
    void aPullKilledMidLayerIsResumedByTheNextPullWithARangeRequest(@TempDir Path tmp) throws Exception {
        try (FaultyProxy proxy = new FaultyProxy(registry.host(), "dave", "pw")) {
            proxy.stallFirstBlob = true;
            Path auth = tmp.resolve("auth.json");
            Files.writeString(auth, authJson(proxy.host(), "dave", "pw"));
            Path store = tmp.resolve("store");
            String name = proxy.host() + "/busybox:latest";
            ProcessBuilder pb = new ProcessBuilder(Brig.launcher().toString(), "pull", "--store", store.toString(), name);
            pb.environment().clear();
            pb.environment().put("REGISTRY_AUTH_FILE", auth.toString());
            pb.redirectOutput(tmp.resolve("first.out").toFile()).redirectError(tmp.resolve("first.err").toFile());
            Process first = pb.start();
            long half;
            String blob;
            try {
                assertTrue(proxy.stalled.await(60, java.util.concurrent.TimeUnit.SECONDS), "the first pull reached a large layer");
                half = proxy.stalledAt;
                blob = proxy.stalledPath;
                String hex = blob.substring(blob.indexOf("sha256:") + 7);
                Path partial = store.resolve(".brig-tmp/" + hex + ".partial");
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
                while (!(Files.exists(partial) && Files.size(partial) == half)) {
                    assertTrue(first.isAlive(), "the first pull ended by itself: " + Files.readString(tmp.resolve("first.err")));
                    assertTrue(System.nanoTime() < deadline, "the first half of " + blob + " did not reach " + partial);
                    Thread.sleep(20);
                }
            } finally {
                // killed mid-layer, as by the OOM killer or a power cut: no clean-up of its own runs
                first.descendants().forEach(ProcessHandle::destroyForcibly);
                first.destroyForcibly();
                first.waitFor();
                proxy.release.countDown();
            }
            assertEquals("", brig("images", "--store", store.toString(), "-q").expect(0).out(), "the killed pull named nothing");
            long sentBefore = proxy.sent.get(blob).get();
            assertEquals(half, sentBefore);

            Brig.Result second = Brig.run(null, List.of("pull", "--store", store.toString(), name), null, Map.of("REGISTRY_AUTH_FILE", auth.toString()), 120);
            assertEquals(0, second.exit(), second.err());
            assertTrue(proxy.ranges.contains("bytes=" + half + "-"), "the second pull asked for the rest only: " + proxy.ranges);
            long size = Files.size(store.resolve("blobs/sha256/" + blob.substring(blob.indexOf("sha256:") + 7)));
            assertEquals(size - half, proxy.sent.get(blob).get() - sentBefore, "the second pull downloaded only the missing " + (size - half) + " bytes");
            brig("unpack", "--store", store.toString(), name, tmp.resolve("b").toString()).expect(0);
            assertEquals("native\n", Files.readString(tmp.resolve("b/rootfs/etc/marker")));
        }
    }

    /** A rootfs with what layers must carry: modes, owners, setuid, symlinks, hard links, empty dirs, long names. */
    static Path richRootfs(Path dir) throws Exception {
        Path r = brig.testing.Busybox.rootfs(Files.createDirectories(dir));
        Files.writeString(r.resolve("etc/fish"), "blub\n");
        Files.createDirectories(r.resolve("srv/empty"));
        Files.writeString(r.resolve("srv/owned"), "owned\n");
        tool(r, "chown", "1234:5678", "srv/owned").expect(0);
        tool(r, "chmod", "0640", "srv/owned").expect(0);
        Files.writeString(r.resolve("srv/suid"), "#!/bin/sh\n");
        tool(r, "chmod", "4755", "srv/suid").expect(0);
        Files.createSymbolicLink(r.resolve("srv/link"), Path.of("../etc/fish"));
        Files.createLink(r.resolve("srv/hard"), r.resolve("etc/fish"));
        Files.writeString(Files.createDirectories(r.resolve("srv/" + "d".repeat(120))).resolve("f".repeat(130)), "long\n");
        return r;
    }

    @Test
    void umociAndSkopeoReadLayersBrigWrote(@TempDir Path tmp) throws Exception {
        Path src = richRootfs(tmp.resolve("src"));
        Path tar = tmp.resolve("fish.tar");
        tool(tmp, "tar", "--numeric-owner", "-C", src.toString(), "-cf", tar.toString(), ".").expect(0);
        Path store = tmp.resolve("store");
        brig("import", "--store", store.toString(), tar.toString()).expect(0);
        // Brig's own layer blob, copied by Brig into a layout of its own
        brig("copy", "oci:" + store + ":localhost/fish:latest", "oci:" + tmp.resolve("out") + ":fish").expect(0);

        tool(tmp, "umoci", "unpack", "--image", tmp.resolve("out") + ":fish", tmp.resolve("by-umoci").toString()).expect(0);
        assertEquals(tree(src), tree(tmp.resolve("by-umoci/rootfs")), "umoci unpacks Brig's layer into the tree it was made from");
        assertEquals(-1, Files.mismatch(src.resolve("srv/suid"), tmp.resolve("by-umoci/rootfs/srv/suid")));

        // skopeo copies it (verifying every blob against its digest) and its copy unpacks to the same tree
        skopeo("copy", "-q", "oci:" + tmp.resolve("out") + ":fish", "oci:" + tmp.resolve("sk") + ":fish");
        JsonObject inspected = Json.parse(skopeo("inspect", "oci:" + tmp.resolve("out") + ":fish")).getAsJsonObject();
        Layout out = Layout.open(tmp.resolve("out"));
        Manifest m = Manifest.parse(out.readBlob(out.find("fish")), MediaType.OCI_MANIFEST, "Brig's manifest");
        assertEquals(1, m.layers().size());
        assertEquals("[\"" + m.layers().get(0).digest() + "\"]", Json.compact(inspected.get("Layers")), "skopeo sees Brig's layer");
        assertEquals(-1, Files.mismatch(out.blobPath(m.layers().get(0).digest()), tmp.resolve("sk/blobs/sha256/" + m.layers().get(0).digest().hex())),
                "skopeo copied the layer as Brig wrote it");
        tool(tmp, "umoci", "unpack", "--image", tmp.resolve("sk") + ":fish", tmp.resolve("by-umoci-from-skopeo").toString()).expect(0);
        assertEquals(tree(src), tree(tmp.resolve("by-umoci-from-skopeo/rootfs")));
        // and Brig unpacks it the same way
        brig("unpack", "--store", store.toString(), "fish", tmp.resolve("by-brig").toString()).expect(0);
        assertEquals(tree(src), tree(tmp.resolve("by-brig/rootfs")));
    }

    @Test
    void brigReadsALayoutUmociWrote(@TempDir Path tmp) throws Exception {
        String image = tmp.resolve("layout") + ":app";
        tool(tmp, "umoci", "init", "--layout", tmp.resolve("layout").toString()).expect(0);
        tool(tmp, "umoci", "new", "--image", image).expect(0);
        // layer 1: a rich tree
        tool(tmp, "umoci", "unpack", "--image", image, tmp.resolve("b1").toString()).expect(0);
        Path src = richRootfs(tmp.resolve("src"));
        tool(tmp, "cp", "-a", src + "/.", tmp.resolve("b1/rootfs").toString()).expect(0);
        tool(tmp, "umoci", "repack", "--image", image, tmp.resolve("b1").toString()).expect(0);
        // layer 2: deletions (umoci writes whiteouts) and a replaced file
        tool(tmp, "umoci", "unpack", "--image", image, tmp.resolve("b2").toString()).expect(0);
        Files.delete(tmp.resolve("b2/rootfs/etc/fish"));
        Unpacker.removeTree(tmp.resolve("b2/rootfs/srv/empty"));
        Files.writeString(tmp.resolve("b2/rootfs/srv/owned"), "changed\n");
        tool(tmp, "umoci", "repack", "--image", image, tmp.resolve("b2").toString()).expect(0);
        // layer 3: umoci insert
        Files.writeString(tmp.resolve("inserted"), "inserted by umoci\n");
        tool(tmp, "umoci", "insert", "--image", image, tmp.resolve("inserted").toString(), "/etc/inserted").expect(0);
        tool(tmp, "umoci", "config", "--image", image, "--config.cmd", "/bin/sh").expect(0);

        tool(tmp, "umoci", "unpack", "--image", image, tmp.resolve("by-umoci").toString()).expect(0);
        brig("unpack", "oci:" + image, tmp.resolve("by-brig").toString()).expect(0);
        Path r = tmp.resolve("by-brig/rootfs");
        assertEquals(tree(tmp.resolve("by-umoci/rootfs")), tree(r), "Brig unpacks umoci's layers as umoci does");
        assertFalse(Files.exists(r.resolve("etc/fish")), "umoci's whiteout applied");
        assertFalse(Files.exists(r.resolve("srv/empty")), "umoci's whiteout of a directory applied");
        assertEquals("blub\n", Files.readString(r.resolve("srv/hard")), "the hard link's other name stays");
        assertEquals("changed\n", Files.readString(r.resolve("srv/owned")));
        assertEquals("inserted by umoci\n", Files.readString(r.resolve("etc/inserted")));
        assertEquals(04755, Libc.statx(Libc.AT_FDCWD, r.resolve("srv/suid").toString(), Libc.AT_SYMLINK_NOFOLLOW).mode() & 07777);
        assertEquals("[\"/bin/sh\"]", Json.compact(Json.parseObjectFile(tmp.resolve("by-brig/config.json")).getAsJsonObject("process").get("args")));
    }
}
