package brig.image;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 for verifying blobs and layer diff ids while they stream. Brig's launcher runs the
 * JVM with C1 only (start-up matters more for runtime verbs), where the JDK's SHA-256 runs at
 * ~145 MB/s against ~1.4 GB/s with C2's intrinsic; so OpenSSL's libcrypto is used through FFM
 * when the machine has it (it does on Debian), and the JDK's otherwise.
 */
public abstract sealed class Sha256 permits Sha256.Jdk, Sha256.OpenSsl {
    public abstract void update(byte[] b, int off, int len);

    public abstract Digest digest();

    /** Bytes hashed so far. */
    public abstract long count();

    public static Sha256 create() {
        if (OpenSsl.AVAILABLE && !Boolean.getBoolean("brig.jdkSha256")) return new OpenSsl();
        return new Jdk();
    }

    static final class Jdk extends Sha256 {
        private final MessageDigest md;
        private long count;

        Jdk() {
            try {
                md = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void update(byte[] b, int off, int len) {
            md.update(b, off, len);
            count += len;
        }

        @Override
        public Digest digest() {
            return Digest.ofBytes(md.digest());
        }

        @Override
        public long count() { return count; }
    }

    /**
     * EVP_Digest* of libcrypto.so.3, all called through one downcall shape (three 64-bit
     * integer arguments, a 64-bit result): the JDK generates a stub class per shape, ~20 ms each
     * at start-up, and the integer registers carry pointers and ints alike on x86-64 and aarch64.
     * One native buffer per hasher; heap bytes are copied in.
     */
    static final class OpenSsl extends Sha256 {
        private static final int CHUNK = 1 << 16;
        private static final MethodHandle CALL;
        private static final MemorySegment NEW, INIT, UPDATE, FINAL, FREE;
        private static final long SHA256_MD;
        static final boolean AVAILABLE;

        static {
            MethodHandle call = null;
            MemorySegment n = null, i = null, u = null, f = null, fr = null;
            long md = 0;
            try {
                Linker l = Linker.nativeLinker();
                SymbolLookup lib = SymbolLookup.libraryLookup("libcrypto.so.3", Arena.global());
                call = l.downcallHandle(FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
                n = lib.findOrThrow("EVP_MD_CTX_new");
                i = lib.findOrThrow("EVP_DigestInit_ex");
                u = lib.findOrThrow("EVP_DigestUpdate");
                f = lib.findOrThrow("EVP_DigestFinal_ex");
                fr = lib.findOrThrow("EVP_MD_CTX_free");
                md = (long) call.invokeExact(lib.findOrThrow("EVP_sha256"), 0L, 0L, 0L);
            } catch (Throwable t) {
                md = 0; // no libcrypto: the JDK's SHA-256 does the work
            }
            CALL = call;
            NEW = n;
            INIT = i;
            UPDATE = u;
            FINAL = f;
            FREE = fr;
            SHA256_MD = md;
            AVAILABLE = md != 0;
        }

        private static long call(MemorySegment fn, long a, long b, long c) {
            try {
                return (long) CALL.invokeExact(fn, a, b, c);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            }
        }

        private final Arena arena = Arena.ofAuto();
        private final MemorySegment buf = arena.allocate(CHUNK, 16);
        private long ctx;
        private long count;

        OpenSsl() {
            ctx = call(NEW, 0, 0, 0);
            if (ctx == 0 || (int) call(INIT, ctx, SHA256_MD, 0) != 1) throw new IllegalStateException("EVP_DigestInit_ex failed");
        }

        @Override
        public void update(byte[] b, int off, int len) {
            while (len > 0) {
                int n = Math.min(len, CHUNK);
                MemorySegment.copy(b, off, buf, ValueLayout.JAVA_BYTE, 0, n);
                if ((int) call(UPDATE, ctx, buf.address(), n) != 1) throw new IllegalStateException("EVP_DigestUpdate failed");
                off += n;
                len -= n;
                count += n;
            }
        }

        @Override
        public Digest digest() {
            MemorySegment out = arena.allocate(64);
            if ((int) call(FINAL, ctx, out.address(), 0) != 1) throw new IllegalStateException("EVP_DigestFinal_ex failed");
            call(FREE, ctx, 0, 0);
            ctx = 0;
            return Digest.ofBytes(out.asSlice(0, 32).toArray(ValueLayout.JAVA_BYTE));
        }

        @Override
        public long count() { return count; }
    }
}
