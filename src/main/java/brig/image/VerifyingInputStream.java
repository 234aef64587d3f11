package brig.image;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Passes a blob's bytes through while hashing them, and fails at the end (or as soon as there
 * are too many) if they are not the descriptor's size and digest. Readers act on the data as it
 * streams, so whatever they made from it must be discarded when this throws.
 */
public final class VerifyingInputStream extends FilterInputStream {
    /** The blob was not what its descriptor promised. */
    public static final class MismatchException extends IOException {
        private static final long serialVersionUID = 1L;

        public MismatchException(String message) {
            super(message);
        }
    }

    private final Sha256 hash = Sha256.create();
    private final Digest expected;
    private final long size;
    private final String what;
    private long count;
    private boolean checked;

    /** @param size the expected size, or -1 if unknown (then only the digest is checked) */
    public VerifyingInputStream(InputStream in, Digest expected, long size, String what) {
        super(in);
        this.expected = expected;
        this.size = size;
        this.what = what;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n < 0) {
            check();
            return -1;
        }
        count += n;
        if (size >= 0 && count > size) throw new MismatchException(what + ": more than the " + size + " bytes its descriptor gives");
        hash.update(b, off, n);
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
        int r = read(buf, 0, buf.length);
        return Math.max(r, 0);
    }

    /** Reads what is left and checks; returns the digest. */
    public Digest finish() throws IOException {
        byte[] buf = new byte[1 << 16];
        while (read(buf, 0, buf.length) >= 0) {
            // drain
        }
        return expected;
    }

    private void check() throws IOException {
        if (checked) return;
        checked = true;
        if (size >= 0 && count != size) throw new MismatchException(what + ": size " + count + " bytes, but its descriptor gives " + size);
        Digest got = hash.digest();
        if (!got.equals(expected)) throw new MismatchException(what + ": digest mismatch: got " + got);
    }

    public long count() { return count; }

    @Override
    public boolean markSupported() {
        return false;
    }
}
