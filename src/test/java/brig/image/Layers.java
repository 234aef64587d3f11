package brig.image;

import brig.layer.TarEntry;
import brig.layer.TarWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Builds layer tars for tests, hostile ones included (names are written as given). */
final class Layers {
    private final List<Object[]> entries = new ArrayList<>();

    static final long MTIME = 1_600_000_000_000_000_000L;

    Layers file(String name, String content) {
        return file(name, content, 0644, 0, 0);
    }

    Layers file(String name, String content, int mode, int uid, int gid) {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        entries.add(new Object[] {new TarEntry(name, TarEntry.Type.FILE, mode, uid, gid, b.length, MTIME, MTIME, "", 0, 0, Map.of()), b});
        return this;
    }

    Layers file(String name, byte[] b, Map<String, byte[]> xattrs) {
        entries.add(new Object[] {new TarEntry(name, TarEntry.Type.FILE, 0755, 0, 0, b.length, MTIME, MTIME, "", 0, 0, xattrs), b});
        return this;
    }

    Layers dir(String name) {
        return dir(name, 0755);
    }

    Layers dir(String name, int mode) {
        entries.add(new Object[] {new TarEntry(name, TarEntry.Type.DIRECTORY, mode, 0, 0, 0, MTIME, MTIME, "", 0, 0, Map.of()), new byte[0]});
        return this;
    }

    Layers symlink(String name, String target) {
        entries.add(new Object[] {new TarEntry(name, TarEntry.Type.SYMLINK, 0777, 0, 0, 0, MTIME, MTIME, target, 0, 0, Map.of()), new byte[0]});
        return this;
    }

    Layers hardlink(String name, String target) {
        entries.add(new Object[] {new TarEntry(name, TarEntry.Type.HARDLINK, 0644, 0, 0, 0, MTIME, MTIME, target, 0, 0, Map.of()), new byte[0]});
        return this;
    }

    Layers node(String name, TarEntry.Type type, int major, int minor) {
        entries.add(new Object[] {new TarEntry(name, type, 0620, 0, 5, 0, MTIME, MTIME, "", major, minor, Map.of()), new byte[0]});
        return this;
    }

    byte[] tar() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(out)) {
            for (Object[] e : entries) w.write((TarEntry) e[0], new ByteArrayInputStream((byte[]) e[1]));
        }
        return out.toByteArray();
    }

    /** A ustar header for a regular file claiming {@code size} bytes, followed by only {@code actual} bytes. */
    static byte[] lying(String name, long size, int actual) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(out)) {
            w.write(new TarEntry(name, TarEntry.Type.FILE, 0644, 0, 0, 0, MTIME, MTIME, "", 0, 0, Map.of()), new ByteArrayInputStream(new byte[0]));
        }
        byte[] t = out.toByteArray();
        byte[] header = java.util.Arrays.copyOf(t, 512);
        // size field as GNU base-256 (any size fits), checksum recomputed
        header[124] = (byte) 0x80;
        for (int k = 1; k < 12; k++) header[124 + k] = 8 * (11 - k) >= 64 ? 0 : (byte) (size >>> (8 * (11 - k)));
        for (int k = 148; k < 156; k++) header[k] = ' ';
        long sum = 0;
        for (byte b : header) sum += b & 0xff;
        byte[] cs = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(cs, 0, header, 148, 8);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(header);
        o.write(new byte[actual]);
        return o.toByteArray();
    }
}
