package brig.layer;

import java.util.Map;

/**
 * One tar header, with PAX and GNU extensions already applied. Names are as written in the
 * archive (not yet cleaned); times are nanoseconds since the epoch; xattr values are raw bytes
 * (file capabilities are binary).
 */
public record TarEntry(String name, Type type, int mode, int uid, int gid, long size, long mtimeNanos,
        long atimeNanos, String linkName, int devMajor, int devMinor, Map<String, byte[]> xattrs) {

    public enum Type { FILE, HARDLINK, SYMLINK, CHAR, BLOCK, DIRECTORY, FIFO }

    public boolean isDirectory() { return type == Type.DIRECTORY; }
}
