package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Image references are read as docker reads them. */
class ReferenceTest {
    static String canon(String s) throws ImageException {
        return Reference.parse(s).toString();
    }

    @Test
    void shortNamesAreDockerHubLibrary() throws Exception {
        assertEquals("docker.io/library/busybox:latest", canon("busybox"));
        assertEquals("docker.io/library/busybox:1.36", canon("docker://busybox:1.36"));
        assertEquals("docker.io/bitnami/redis:7", canon("bitnami/redis:7"));
        assertEquals("docker.io/library/alpine:latest", canon("index.docker.io/library/alpine"));
        assertEquals("registry-1.docker.io", Reference.parse("busybox").apiHost());
    }

    @Test
    void registriesAreNamedByADotAColonOrLocalhost() throws Exception {
        assertEquals("127.0.0.1:5000/busybox:latest", canon("127.0.0.1:5000/busybox"));
        assertEquals("localhost/app:v1", canon("localhost/app:v1"));
        assertEquals("quay.io/a/b/c:latest", canon("quay.io/a/b/c"));
        assertEquals("127.0.0.1:5000", Reference.parse("127.0.0.1:5000/x").apiHost());
    }

    @Test
    void digests() throws Exception {
        String d = "sha256:" + "a".repeat(64);
        Reference r = Reference.parse("localhost:5000/app@" + d);
        assertEquals(d, r.manifestRef());
        assertEquals("localhost:5000/app@" + d, r.toString());
        assertEquals("localhost:5000/app:v1@" + d, canon("localhost:5000/app:v1@" + d));
    }

    @Test
    void badReferencesSayWhy() {
        assertTrue(assertThrows(ImageException.class, () -> Reference.parse("Busybox")).getMessage().contains("lowercase"));
        assertTrue(assertThrows(ImageException.class, () -> Reference.parse("busybox@sha256:abc")).getMessage().contains("invalid digest"));
        assertTrue(assertThrows(ImageException.class, () -> Reference.parse("busybox:bad/tag!")).getMessage().contains("invalid"));
    }

    @Test
    void platforms() throws Exception {
        assertEquals(new Platform("linux", "arm64", "v8"), Platform.parse("linux/arm64/v8"));
        assertEquals("amd64", Platform.parse("linux/x86_64").architecture());
        assertTrue(Platform.parse("linux/arm64").accepts(new Platform("linux", "arm64", "v8")));
        assertTrue(Platform.parse("linux/arm64/v8").accepts(new Platform("linux", "arm64", "")));
        assertTrue(assertThrows(ImageException.class, () -> Platform.parse("linux")).getMessage().contains("os/arch"));
    }

    @Test
    void transports() throws Exception {
        assertEquals(new Transport.Oci(java.nio.file.Path.of("/x/y"), "a:b"), Transport.parse("oci:/x/y:a:b", true));
        assertEquals(new Transport.Store("busybox"), Transport.parse("busybox", true));
        assertEquals(new Transport.DockerArchive(java.nio.file.Path.of("f.tar"), ""), Transport.parse("docker-archive:f.tar", true));
        assertTrue(assertThrows(ImageException.class, () -> Transport.parse("ftp://host/thing", true)).getMessage().contains("unknown transport"));
    }
}
