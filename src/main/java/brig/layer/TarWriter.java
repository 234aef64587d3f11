package brig.layer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Writes tar archives: ustar headers, with a PAX header first when a name, link, number or
 * xattr does not fit ustar. Used for archives of layouts (oci-archive, docker-archive) and by
 * the tests to build layers, hostile ones included: names are written as given.
 */
public final class TarWriter implements AutoCloseable {
    private final OutputStream out;
    private final byte[] zeros = new byte[TarReader.BLOCK];

    public TarWriter(OutputStream out) {
        this.out = out;
    }

    /** Writes one entry; {@code data} must hold exactly {@code e.size()} bytes for regular files. */
    public void write(TarEntry e, InputStream data) throws IOException {
        byte[] name = e.name().getBytes(StandardCharsets.UTF_8), link = e.linkName().getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream paxBytes = new java.io.ByteArrayOutputStream();
        if (name.length > 100) record(paxBytes, "path", name);
        if (link.length > 100) record(paxBytes, "linkpath", link);
        if (e.size() > 077777777777L) record(paxBytes, "size", Long.toString(e.size()).getBytes(StandardCharsets.US_ASCII));
        if (e.mtimeNanos() % 1_000_000_000L != 0 || e.mtimeNanos() < 0) {
            record(paxBytes, "mtime", new java.math.BigDecimal(e.mtimeNanos()).movePointLeft(9).toPlainString().getBytes(StandardCharsets.US_ASCII));
        }
        for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) record(paxBytes, "SCHILY.xattr." + x.getKey(), x.getValue());
        if (paxBytes.size() > 0) {
            byte[] p = paxBytes.toByteArray();
            out.write(header("PaxHeaders/" + (e.name().length() > 80 ? e.name().substring(0, 80) : e.name()), 'x', 0644, 0, 0, p.length, 0, "", 0, 0));
            out.write(p);
            pad(p.length);
        }
        char type = switch (e.type()) {
            case FILE -> '0';
            case HARDLINK -> '1';
            case SYMLINK -> '2';
            case CHAR -> '3';
            case BLOCK -> '4';
            case DIRECTORY -> '5';
            case FIFO -> '6';
        };
        long size = e.type() == TarEntry.Type.FILE ? e.size() : 0;
        out.write(header(e.name(), type, e.mode(), e.uid(), e.gid(), size, Math.floorDiv(e.mtimeNanos(), 1_000_000_000L), e.linkName(),
                e.devMajor(), e.devMinor()));
        if (size > 0) {
            long copied = data.transferTo(new OutputStream() {
                long left = size;

                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    if (len > left) throw new IOException("tar entry " + e.name() + ": more data than its size " + size);
                    out.write(b, off, len);
                    left -= len;
                }
            });
            if (copied != size) throw new IOException("tar entry " + e.name() + ": " + copied + " bytes of data for size " + size);
            pad(size);
        }
    }

    /** Writes a regular file from bytes in memory. */
    public void file(String name, int mode, byte[] content) throws IOException {
        write(new TarEntry(name, TarEntry.Type.FILE, mode, 0, 0, content.length, 0, 0, "", 0, 0, Map.of()),
                new java.io.ByteArrayInputStream(content));
    }

    private void pad(long size) throws IOException {
        int p = (int) ((TarReader.BLOCK - size % TarReader.BLOCK) % TarReader.BLOCK);
        out.write(zeros, 0, p);
    }

    private static void record(java.io.ByteArrayOutputStream o, String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int body = 1 + k.length + 1 + value.length + 1; // " key=value\n"
        int len = body + Integer.toString(body).length();
        if (Integer.toString(len).length() != Integer.toString(body).length()) len++;
        o.writeBytes((len + " ").getBytes(StandardCharsets.US_ASCII));
        o.writeBytes(k);
        o.write('=');
        o.writeBytes(value);
        o.write('\n');
    }

    private static byte[] header(String name, char type, int mode, int uid, int gid, long size, long mtime, String link, int major, int minor) {
        byte[] h = new byte[TarReader.BLOCK];
        put(h, 0, 100, name);
        octal(h, 100, 8, mode);
        octal(h, 108, 8, uid);
        octal(h, 116, 8, gid);
        octal(h, 124, 12, Math.min(size, 077777777777L));
        octal(h, 136, 12, Math.max(0, Math.min(mtime, 077777777777L)));
        h[156] = (byte) type;
        put(h, 157, 100, link);
        put(h, 257, 6, "ustar");
        h[263] = '0';
        h[264] = '0';
        octal(h, 329, 8, major);
        octal(h, 337, 8, minor);
        for (int k = 148; k < 156; k++) h[k] = ' ';
        long sum = 0;
        for (byte b : h) sum += b & 0xff;
        octal(h, 148, 7, sum);
        return h;
    }

    private static void put(byte[] h, int off, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(b, 0, h, off, Math.min(len, b.length));
    }

    private static void octal(byte[] h, int off, int len, long v) {
        String s = Long.toOctalString(v);
        while (s.length() < len - 1) s = "0" + s;
        put(h, off, len - 1, s);
    }

    @Override
    public void close() throws IOException {
        out.write(zeros);
        out.write(zeros);
        out.flush();
    }
}
