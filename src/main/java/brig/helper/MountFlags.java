package brig.helper;

import java.util.ArrayList;
import java.util.List;

/** mount(2) flags, and their names for explanations. */
public final class MountFlags {
    private MountFlags() {}

    public static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8,
            MS_SYNCHRONOUS = 16, MS_REMOUNT = 32, MS_MANDLOCK = 64, MS_DIRSYNC = 128,
            MS_NOSYMFOLLOW = 256, MS_NOATIME = 1024, MS_NODIRATIME = 2048, MS_BIND = 4096,
            MS_MOVE = 8192, MS_REC = 16384, MS_SILENT = 32768, MS_UNBINDABLE = 1 << 17,
            MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19, MS_SHARED = 1 << 20, MS_RELATIME = 1 << 21,
            MS_STRICTATIME = 1 << 24, MS_LAZYTIME = 1 << 25;

    public static final long PROPAGATION = MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE;

    private static final Object[][] NAMES = {
        {MS_RDONLY, "ro"}, {MS_NOSUID, "nosuid"}, {MS_NODEV, "nodev"}, {MS_NOEXEC, "noexec"},
        {MS_SYNCHRONOUS, "sync"}, {MS_REMOUNT, "remount"}, {MS_MANDLOCK, "mand"}, {MS_DIRSYNC, "dirsync"},
        {MS_NOSYMFOLLOW, "nosymfollow"}, {MS_NOATIME, "noatime"}, {MS_NODIRATIME, "nodiratime"},
        {MS_BIND, "bind"}, {MS_MOVE, "move"}, {MS_REC, "rec"}, {MS_UNBINDABLE, "unbindable"},
        {MS_PRIVATE, "private"}, {MS_SLAVE, "slave"}, {MS_SHARED, "shared"}, {MS_RELATIME, "relatime"},
        {MS_STRICTATIME, "strictatime"}, {MS_LAZYTIME, "lazytime"},
    };

    /** "nosuid,nodev,noexec". */
    public static String names(long flags) {
        List<String> out = new ArrayList<>();
        for (Object[] n : NAMES) if ((flags & (Long) n[0]) != 0) out.add((String) n[1]);
        return String.join(",", out);
    }
}
