package brig.layer;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * zstd decompression through the system's libzstd.so.1 (FFM). Debian's dpkg depends on it, so
 * it is on every machine Brig runs on, and unlike a JNI wrapper it needs no native library
 * unpacked into /tmp (which may be noexec).
 */
final class Zstd {
    private Zstd() {}

    // One downcall shape for all five functions (three 64-bit integers in, one out): the JDK
    // makes a stub class per shape, ~20 ms each, and the integer registers carry both.
    private static MethodHandle call;
    private static MemorySegment create, decompress, free, isError, errorName;

    private static synchronized void link() throws IOException {
        if (call != null) return;
        try {
            Linker l = Linker.nativeLinker();
            SymbolLookup lib = SymbolLookup.libraryLookup("libzstd.so.1", Arena.global());
            decompress = lib.findOrThrow("ZSTD_decompressStream");
            free = lib.findOrThrow("ZSTD_freeDStream");
            isError = lib.findOrThrow("ZSTD_isError");
            errorName = lib.findOrThrow("ZSTD_getErrorName");
            create = lib.findOrThrow("ZSTD_createDStream");
            call = l.downcallHandle(FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
            throw new IOException("zstd layers need libzstd.so.1 (Debian package libzstd1): " + e.getMessage());
        }
    }

    private static long call(MemorySegment fn, long a, long b, long c) throws IOException {
        try {
            return (long) call.invokeExact(fn, a, b, c);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("zstd: " + t, t);
        }
    }

    /** A stream of the decompressed bytes of {@code in} (one or more zstd frames). */
    static InputStream decompress(InputStream in) throws IOException {
        link();
        return new Decompressor(in);
    }

    private static final class Decompressor extends InputStream {
        private static final int IN = 1 << 17, OUT = 1 << 17;
        private final InputStream in;
        private final Arena arena = Arena.ofShared();
        private final MemorySegment inBuf = arena.allocate(IN), outBuf = arena.allocate(OUT);
        // ZSTD_inBuffer / ZSTD_outBuffer: { void *ptr; size_t size; size_t pos; }
        private final MemorySegment inDesc = arena.allocate(24, 8), outDesc = arena.allocate(24, 8);
        private final byte[] heap = new byte[IN];
        private long ds;
        private long outPos, outLen; // decompressed bytes available in outBuf
        private long lastResult; // 0 when the last frame ended cleanly
        private boolean inputEnded, closed;

        Decompressor(InputStream in) throws IOException {
            this.in = in;
            ds = call(create, 0, 0, 0);
            if (ds == 0) throw new IOException("ZSTD_createDStream failed");
            inDesc.set(JAVA_LONG, 0, inBuf.address());
            inDesc.set(JAVA_LONG, 8, 0L);
            inDesc.set(JAVA_LONG, 16, 0L);
            outDesc.set(JAVA_LONG, 0, outBuf.address());
            outDesc.set(JAVA_LONG, 8, (long) OUT);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) return 0;
            while (outPos == outLen) {
                if (!fill()) return -1;
            }
            int n = (int) Math.min(len, outLen - outPos);
            MemorySegment.copy(outBuf, ValueLayout.JAVA_BYTE, outPos, b, off, n);
            outPos += n;
            return n;
        }

        /** Decompresses more; false at the clean end of the input. */
        private boolean fill() throws IOException {
            long inPos = inDesc.get(JAVA_LONG, 16), inSize = inDesc.get(JAVA_LONG, 8);
            if (inPos == inSize) {
                if (inputEnded) {
                    if (lastResult != 0) throw new IOException("zstd: truncated input");
                    return false;
                }
                int n = in.read(heap, 0, IN);
                if (n < 0) {
                    inputEnded = true;
                    inDesc.set(JAVA_LONG, 8, 0L);
                    inDesc.set(JAVA_LONG, 16, 0L);
                    if (lastResult != 0) throw new IOException("zstd: truncated input");
                    return false;
                }
                MemorySegment.copy(heap, 0, inBuf, ValueLayout.JAVA_BYTE, 0, n);
                inDesc.set(JAVA_LONG, 8, (long) n);
                inDesc.set(JAVA_LONG, 16, 0L);
            }
            outDesc.set(JAVA_LONG, 16, 0L);
            long r = call(decompress, ds, outDesc.address(), inDesc.address());
            if ((int) call(isError, r, 0, 0) != 0) {
                long name = call(errorName, r, 0, 0);
                throw new IOException("zstd: " + MemorySegment.ofAddress(name).reinterpret(256).getString(0));
            }
            lastResult = r;
            outPos = 0;
            outLen = outDesc.get(JAVA_LONG, 16);
            return true;
        }

        @Override
        public void close() throws IOException {
            if (closed) return;
            closed = true;
            call(free, ds, 0, 0);
            arena.close();
            in.close();
        }
    }
}
