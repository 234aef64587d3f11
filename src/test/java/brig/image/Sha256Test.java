package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The libcrypto and JDK SHA-256 agree, on known vectors and across chunk boundaries. */
class Sha256Test {
    static Digest hash(Sha256 h, byte[] b, int step) {
        for (int off = 0; off < b.length; off += step) h.update(b, off, Math.min(step, b.length - off));
        return h.digest();
    }

    @Test
    void knownVectors() {
        assertEquals("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digest.of(new byte[0]).toString());
        assertEquals("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Digest.of("abc".getBytes(StandardCharsets.US_ASCII)).toString());
    }

    @Test
    void nativeAndJdkAgree() {
        byte[] b = new byte[300_001];
        new java.util.Random(7).nextBytes(b);
        Digest jdk = hash(new Sha256.Jdk(), b, 4096);
        assertEquals(jdk, hash(Sha256.create(), b, 1));
        assertEquals(jdk, hash(Sha256.create(), b, 70_000));
        assertEquals(jdk, hash(Sha256.create(), b, b.length));
    }
}
