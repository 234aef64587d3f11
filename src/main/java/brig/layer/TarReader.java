package brig.layer;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads tar archives as image layers are written: ustar, GNU (long names, base-256 numbers) and
 * PAX (long names, big sizes, sub-second times, SCHILY.xattr.* kept as raw bytes). Written by
 * hand because the usual Java tar library decodes PAX values as UTF-8 text, which corrupts
 * binary xattrs such as security.capability. Hostile archives get bounded reads: extended
 * headers are capped, numbers are range-checked, truncation is an error.
 */
public final class TarReader {
    static final int BLOCK = 512;
    /**
     * Extended-header bytes (PAX 'x' and 'g' records, GNU 'L' and 'K' long names) accepted before
     * one entry, and in one layer: real ones are a few hundred bytes per entry, but a chain of
     * them is otherwise unbounded and each is held in memory.
     */
    static final int MAX_EXTENDED = 1 << 20;
    static final long MAX_EXTENDED_PER_LAYER = 16L << 20;
    static final int MAX_NAME = 4096;
    static final int MAX_GLOBAL_RECORDS = 256;
    /**
     * Entry data skipped rather than handed to the caller, per layer: what a directory, link or
     * device claims to hold, and whatever data the caller leaves unread (a whiteout's). The data
     * the caller writes is bounded by the free space it checks sizes against; skipped data is
     * written nowhere, so only this bounds what a compression bomb makes the host inflate.
     * Real layers skip only the padding to the next 512-byte block.
     */
    static final long MAX_SKIPPED = 64L << 20;

    private final InputStream in;
    private final byte[] header = new byte[BLOCK];
    private long remaining; // bytes of the current entry's data not yet read
    private long padding; // bytes after the data up to the next block boundary
    private final Map<String, byte[]> globalPax = new HashMap<>();
    private boolean ended;
    private long entries;
    private long extendedInLayer, skipped;

    public TarReader(InputStream in) {
        this.in = in;
    }

    /** The next entry, or null at the end of the archive. Skips the rest of the previous entry's data. */
    public TarEntry next() throws IOException, LayerException {
        if (ended) return null;
        skipRest();
        if (ended) return null;
        Map<String, byte[]> pax = new HashMap<>(globalPax);
        String longName = null, longLink = null;
        long extended = 0; // extended-header bytes before this entry
        while (true) {
            int n = in.readNBytes(header, 0, BLOCK);
            if (n == 0) {
                ended = true;
                return null; // end without the two zero blocks: Go's reader accepts it too
            }
            if (n < BLOCK) throw new LayerException("truncated tar header after entry " + entries);
            if (isZero(header)) {
                ended = true;
                return null;
            }
            checkSum();
            char type = (char) (header[156] & 0xff);
            long size = number(124, 12, "size");
            if (size < 0) throw new LayerException("tar entry " + (entries + 1) + ": invalid size " + size);
            if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
                extended += BLOCK + size; // a chain of empty ones costs its headers
                extendedInLayer += BLOCK + size;
                if (extended > MAX_EXTENDED) {
                    throw new LayerException("tar entry " + (entries + 1) + ": more than " + MAX_EXTENDED
                            + " bytes of extended headers (PAX records, GNU long names)");
                }
                if (extendedInLayer > MAX_EXTENDED_PER_LAYER) {
                    throw new LayerException("more than " + MAX_EXTENDED_PER_LAYER + " bytes of extended headers (PAX records,"
                            + " GNU long names) in one layer, at tar entry " + (entries + 1));
                }
            }
            switch (type) {
                case 'x', 'g' -> {
                    if (size > MAX_EXTENDED) throw new LayerException("tar PAX header of " + size + " bytes is too large (limit " + MAX_EXTENDED + ")");
                    Map<String, byte[]> records = parsePax(readData(size));
                    if (type == 'g') {
                        globalPax.putAll(records);
                        // each entry starts from a copy of them: few, or every entry costs a lot
                        if (globalPax.size() > MAX_GLOBAL_RECORDS) {
                            throw new LayerException("tar entry " + (entries + 1) + ": more than " + MAX_GLOBAL_RECORDS + " global PAX records");
                        }
                    }
                    pax.putAll(records);
                    continue;
                }
                case 'L', 'K' -> {
                    if (size > MAX_NAME) throw new LayerException("tar GNU long " + (type == 'L' ? "name" : "link") + " of " + size + " bytes is too long");
                    String s = cString(readData(size), 0, (int) size);
                    if (type == 'L') longName = s;
                    else longLink = s;
                    continue;
                }
                default -> { }
            }
            entries++;
            return entry(type, size, pax, longName, longLink);
        }
    }

    /** The current entry's data; reads end at its size. */
    public int read(byte[] b, int off, int len) throws IOException {
        if (remaining == 0) return -1;
        int n = in.read(b, off, (int) Math.min(len, remaining));
        if (n < 0) throw new EOFException("unexpected end of layer inside an entry's data (" + remaining + " bytes missing)");
        remaining -= n;
        return n;
    }

    /** An InputStream over the current entry's data. */
    public InputStream data() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return TarReader.this.read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return TarReader.this.read(b, off, len);
            }
        };
    }

    private TarEntry entry(char type, long size, Map<String, byte[]> pax, String longName, String longLink) throws IOException, LayerException {
        String name = cString(header, 0, 100);
        boolean ustar = header[257] == 'u' && header[258] == 's' && header[259] == 't' && header[260] == 'a' && header[261] == 'r';
        boolean posix = ustar && header[262] == 0; // "ustar\0" (POSIX) rather than GNU's "ustar "
        if (posix) {
            String prefix = cString(header, 345, 155);
            if (!prefix.isEmpty()) name = prefix + "/" + name;
        }
        if (longName != null) name = longName;
        String link = longLink != null ? longLink : cString(header, 157, 100);
        int mode = (int) (number(100, 8, "mode") & 07777);
        long uid = number(108, 8, "uid"), gid = number(116, 8, "gid");
        long mtime = number(136, 12, "mtime") * 1_000_000_000L, atime = -1;
        long major = 0, minor = 0;
        if (ustar && (type == '3' || type == '4')) {
            major = number(329, 8, "devmajor");
            minor = number(337, 8, "devminor");
        }
        Map<String, byte[]> xattrs = new LinkedHashMap<>();
        for (var e : pax.entrySet()) {
            String k = e.getKey();
            byte[] v = e.getValue();
            switch (k) {
                case "path" -> name = utf8(v);
                case "linkpath" -> link = utf8(v);
                case "size" -> size = paxLong(k, v, name);
                case "uid" -> uid = paxLong(k, v, name);
                case "gid" -> gid = paxLong(k, v, name);
                case "mtime" -> mtime = paxTime(k, v, name);
                case "atime" -> atime = paxTime(k, v, name);
                case "SCHILY.devmajor" -> major = paxLong(k, v, name);
                case "SCHILY.devminor" -> minor = paxLong(k, v, name);
                default -> {
                    if (k.startsWith("SCHILY.xattr.")) xattrs.put(k.substring(13), v);
                    else if (k.startsWith("LIBARCHIVE.xattr.")) {
                        try {
                            xattrs.put(java.net.URLDecoder.decode(k.substring(17), StandardCharsets.UTF_8), Base64.getDecoder().decode(v));
                        } catch (IllegalArgumentException x) {
                            throw new LayerException("tar entry " + name + ": invalid base64 in " + k);
                        }
                    } else if (k.startsWith("GNU.sparse.")) {
                        throw new LayerException("tar entry " + name + ": sparse files are not supported");
                    }
                }
            }
        }
        if (name.isEmpty()) throw new LayerException("tar entry " + entries + ": empty name");
        if (name.length() > MAX_NAME || link.length() > MAX_NAME) throw new LayerException("tar entry " + name.substring(0, 64) + "...: name too long");
        if (name.indexOf('\0') >= 0 || link.indexOf('\0') >= 0) throw new LayerException("tar entry " + name + ": NUL in name");
        if (uid < 0 || uid > 0xfffffffeL || gid < 0 || gid > 0xfffffffeL) throw new LayerException("tar entry " + name + ": invalid owner " + uid + ":" + gid);
        if (size < 0) throw new LayerException("tar entry " + name + ": invalid size " + size);
        TarEntry.Type t = switch (type) {
            case '0', '\0', '7' -> name.endsWith("/") ? TarEntry.Type.DIRECTORY : TarEntry.Type.FILE;
            case '1' -> TarEntry.Type.HARDLINK;
            case '2' -> TarEntry.Type.SYMLINK;
            case '3' -> TarEntry.Type.CHAR;
            case '4' -> TarEntry.Type.BLOCK;
            case '5' -> TarEntry.Type.DIRECTORY;
            case '6' -> TarEntry.Type.FIFO;
            case 'S' -> throw new LayerException("tar entry " + name + ": GNU sparse files are not supported");
            default -> throw new LayerException("tar entry " + name + ": unsupported entry type '" + type + "'");
        };
        remaining = size;
        padding = (BLOCK - size % BLOCK) % BLOCK;
        // Only files keep their data; a link, device or directory that claims some has it skipped.
        return new TarEntry(name, t, mode, (int) uid, (int) gid, t == TarEntry.Type.FILE ? size : 0, mtime,
                atime < 0 ? mtime : atime, link, (int) major, (int) minor, xattrs);
    }

    private void skipRest() throws IOException, LayerException {
        skipped += remaining;
        if (skipped > MAX_SKIPPED) {
            throw new LayerException("tar entry " + entries + ": more than " + MAX_SKIPPED
                    + " bytes of entry data that is not extracted in one layer (directories, links or devices claiming data)");
        }
        long n = remaining + padding, pad = padding;
        remaining = 0;
        padding = 0;
        while (n > 0) {
            long s = in.skip(n);
            if (s <= 0) {
                if (in.read() < 0) {
                    // The data is all there and only its padding is missing: the archive ends here.
                    // umoci's insert writes layers like that, and Go's reader (umoci's, containerd's) takes them.
                    if (n <= pad) {
                        ended = true;
                        return;
                    }
                    throw new EOFException("unexpected end of layer inside an entry's data");
                }
                s = 1;
            }
            n -= s;
        }
    }

    private byte[] readData(long size) throws IOException {
        byte[] b = in.readNBytes((int) size);
        if (b.length < size) throw new EOFException("unexpected end of layer in an extended header");
        long pad = (BLOCK - size % BLOCK) % BLOCK;
        if (in.readNBytes((int) pad).length < pad) throw new EOFException("unexpected end of layer in an extended header");
        return b;
    }

    /** PAX records: "LEN key=value\n", LEN counting the whole record. Values stay bytes. */
    static Map<String, byte[]> parsePax(byte[] d) throws LayerException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        int p = 0;
        while (p < d.length) {
            if (d[p] == 0) break;
            int sp = p;
            while (sp < d.length && d[sp] >= '0' && d[sp] <= '9' && sp - p < 10) sp++;
            if (sp == p || sp >= d.length || d[sp] != ' ') throw new LayerException("malformed PAX header record at byte " + p);
            int len = Integer.parseInt(new String(d, p, sp - p, StandardCharsets.US_ASCII));
            int end = p + len;
            if (len <= sp - p + 1 || end > d.length || d[end - 1] != '\n') throw new LayerException("malformed PAX header record at byte " + p);
            int eq = sp + 1;
            while (eq < end && d[eq] != '=') eq++;
            if (eq >= end - 1 && eq != end - 1) throw new LayerException("malformed PAX header record at byte " + p);
            String key = new String(d, sp + 1, eq - sp - 1, StandardCharsets.UTF_8);
            byte[] value = java.util.Arrays.copyOfRange(d, Math.min(eq + 1, end - 1), end - 1);
            out.put(key, value);
            p = end;
        }
        return out;
    }

    private static long paxLong(String key, byte[] v, String name) throws LayerException {
        try {
            return Long.parseLong(utf8(v));
        } catch (NumberFormatException e) {
            throw new LayerException("tar entry " + name + ": invalid PAX " + key + " \"" + utf8(v) + "\"");
        }
    }

    private static long paxTime(String key, byte[] v, String name) throws LayerException {
        try {
            BigDecimal d = new BigDecimal(utf8(v));
            return d.movePointRight(9).setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new LayerException("tar entry " + name + ": invalid PAX " + key + " \"" + utf8(v) + "\"");
        }
    }

    private static String utf8(byte[] v) {
        return new String(v, StandardCharsets.UTF_8);
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) if (x != 0) return false;
        return true;
    }

    private void checkSum() throws LayerException {
        long unsigned = 0, signed = 0;
        for (int k = 0; k < BLOCK; k++) {
            int v = k >= 148 && k < 156 ? ' ' : header[k];
            unsigned += v & 0xff;
            signed += k >= 148 && k < 156 ? ' ' : header[k];
        }
        long want;
        try {
            want = number(148, 8, "checksum");
        } catch (LayerException e) {
            throw new LayerException("not a tar archive (bad header checksum after entry " + entries + ")");
        }
        if (want != unsigned && want != signed) throw new LayerException("not a tar archive (bad header checksum after entry " + entries + ")");
    }

    /** An octal field, or GNU base-256 when the top bit of the first byte is set. */
    private long number(int off, int len, String field) throws LayerException {
        if ((header[off] & 0x80) != 0) {
            if ((header[off] & 0xff) == 0xff) throw new LayerException("tar entry " + (entries + 1) + ": negative " + field);
            long v = header[off] & 0x7f;
            for (int k = 1; k < len; k++) {
                if ((v >>> 55) != 0) throw new LayerException("tar entry " + (entries + 1) + ": " + field + " out of range");
                v = (v << 8) | (header[off + k] & 0xff);
            }
            return v;
        }
        long v = 0;
        int k = off, end = off + len;
        while (k < end && (header[k] == ' ' || header[k] == 0)) k++;
        for (; k < end; k++) {
            byte c = header[k];
            if (c == 0 || c == ' ') break;
            if (c < '0' || c > '7') throw new LayerException("tar entry " + (entries + 1) + ": invalid " + field + " field");
            if ((v >>> 60) != 0) throw new LayerException("tar entry " + (entries + 1) + ": " + field + " out of range");
            v = (v << 3) | (c - '0');
        }
        return v;
    }

    private static String cString(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) end++;
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }
}
