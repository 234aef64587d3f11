package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Both SHA-256 implementations (libcrypto's through FFM, and the JDK's fallback) give the
 * FIPS 180-2 digests, whatever the chunking; the libcrypto one is used whenever the machine has
 * libcrypto, so a broken FFM binding cannot hide behind the fallback.
 */
class Sha256Test {
    /** FIPS 180-2 / NIST test vectors: input, repetitions, digest. */
    static final Object[][] VECTORS = {
        {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"a", 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    };

    static Digest hash(Sha256 h, byte[] b, int step) {
        for (int off = 0; off < b.length; off += step) h.update(b, off, Math.min(step, b.length - off));
        assertEquals(b.length, h.count(), "bytes counted");
        return h.digest();
    }

    /** Every implementation this machine can run, by name. */
    static List<Object[]> implementations() {
        List<Object[]> out = new ArrayList<>();
        out.add(new Object[] {"JDK", (Supplier<Sha256>) Sha256.Jdk::new});
        if (Sha256.OpenSsl.AVAILABLE) out.add(new Object[] {"libcrypto", (Supplier<Sha256>) Sha256.OpenSsl::new});
        out.add(new Object[] {"Sha256.create()", (Supplier<Sha256>) Sha256::create});
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyImplementationGivesTheKnownDigestsInAnyChunking() {
        for (Object[] impl : implementations()) {
            Supplier<Sha256> make = (Supplier<Sha256>) impl[1];
            for (Object[] v : VECTORS) {
                byte[] b = ((String) v[0]).repeat((Integer) v[1]).getBytes(StandardCharsets.US_ASCII);
                String want = "sha256:" + v[2];
                String what = impl[0] + " on " + b.length + " bytes of \"" + ((String) v[0]).substring(0, Math.min(8, ((String) v[0]).length())) + "\"";
                assertEquals(want, hash(make.get(), b, Math.max(1, b.length)).toString(), what + " in one piece");
                assertEquals(want, hash(make.get(), b, 63).toString(), what + " in 63-byte pieces");
                if (b.length > 70_000) assertEquals(want, hash(make.get(), b, 70_000).toString(), what + " across the native buffer's size");
            }
            // one bit changes the digest: an implementation that hashes nothing (or only part) fails
            byte[] x = "abd".getBytes(StandardCharsets.US_ASCII);
            assertNotEquals("sha256:" + VECTORS[1][2], hash(make.get(), x, 3).toString(), impl[0] + " hashes its input");
        }
        assertEquals("sha256:" + VECTORS[1][2], Digest.of("abc".getBytes(StandardCharsets.US_ASCII)).toString());
    }

    @Test
    void libcryptoIsUsedWhenTheMachineHasIt() {
        boolean present = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/usr/lib").stream()
                .anyMatch(d -> Files.exists(Path.of(d, "libcrypto.so.3")));
        assertEquals(present, Sha256.OpenSsl.AVAILABLE, "libcrypto.so.3 " + (present ? "is" : "is not") + " installed");
        assertEquals(present && !Boolean.getBoolean("brig.jdkSha256"), Sha256.create() instanceof Sha256.OpenSsl, "create() picks libcrypto when it is there");
    }

    @Test
    void libcryptoAndJdkAgreeOnRandomData() {
        byte[] b = new byte[300_001];
        new java.util.Random(7).nextBytes(b);
        Digest jdk = hash(new Sha256.Jdk(), b, 4096);
        assertEquals(jdk, Digest.of(b));
        for (int step : new int[] {1, 65_535, 65_536, 65_537, b.length}) assertEquals(jdk, hash(Sha256.create(), b, step), "step " + step);
        byte[] c = Arrays.copyOf(b, b.length);
        c[150_000] ^= 1;
        assertNotEquals(jdk, hash(Sha256.create(), c, 65_536), "a flipped bit in the middle changes the digest");
    }
}
