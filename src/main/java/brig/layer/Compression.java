package brig.layer;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** How a layer blob is compressed. Told by its first bytes, which cannot lie the way a media type can. */
public enum Compression {
    NONE, GZIP, ZSTD;

    /** The compression a media type names (for writing descriptors). */
    public static Compression ofMediaType(String mediaType) {
        if (mediaType.endsWith("+gzip") || mediaType.endsWith(".tar.gzip")) return GZIP;
        if (mediaType.endsWith("+zstd")) return ZSTD;
        return NONE;
    }

    /**
     * A stream of the layer's tar bytes, whatever the compression of {@code in}. The output is
     * unbounded here (a small blob may inflate to terabytes): its reader bounds it. Data that is
     * written is checked against the free space (Extractor); what is read but written nowhere
     * is capped where it is read: extended headers and skipped entry data (TarReader), bytes
     * after the archive's end (Unpacker). Memory is bounded too: zstd frames may not ask for a
     * window above libzstd's default limit (128 MiB), gzip's is 32 KiB.
     */
    public static InputStream decompressed(InputStream in) throws IOException {
        BufferedInputStream b = new BufferedInputStream(in, 1 << 16);
        return switch (sniff(b)) {
            case GZIP -> new GZIPInputStream(b, 1 << 16);
            case ZSTD -> Zstd.decompress(b);
            case NONE -> b;
        };
    }

    /** Looks at the first bytes of {@code in} without consuming them. */
    public static Compression sniff(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] m = in.readNBytes(4);
        in.reset();
        if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) return GZIP;
        if (m.length == 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f && (m[3] & 0xff) == 0xfd) {
            return ZSTD;
        }
        return NONE;
    }
}
