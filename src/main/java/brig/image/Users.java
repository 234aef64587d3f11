package brig.image;

import brig.rootfs.InRoot;
import brig.syscalls.Errno;
import brig.syscalls.SyscallException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves an image's User ("name", "uid", "name:group", "uid:gid", ...) through the image's own
 * /etc/passwd and /etc/group, read inside the rootfs (symlinks confined to it, like every
 * other path of the image), as docker does when it starts the container.
 */
public final class Users {
    private Users() {}

    private static final int LIMIT = 4 << 20;

    /** The user a process runs as: uid, gid and supplementary gids. */
    public record User(long uid, long gid, List<Long> additionalGids, String home) {}

    public static User resolve(Path rootfs, String spec) throws ImageException {
        if (spec == null || spec.isEmpty()) spec = "0";
        String userPart = spec, groupPart = null;
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            userPart = spec.substring(0, colon);
            groupPart = spec.substring(colon + 1);
        }
        List<String[]> passwd = read(rootfs, "/etc/passwd", spec);
        Long uid = number(userPart);
        String name = null, home = null;
        Long gid = null;
        for (String[] p : passwd) {
            if (p.length < 4) continue;
            boolean match = uid == null ? p[0].equals(userPart) : p[2].equals(Long.toString(uid));
            if (match) {
                name = p[0];
                uid = number(p[2]);
                gid = number(p[3]);
                home = p.length > 5 && !p[5].isEmpty() ? p[5] : null;
                break;
            }
        }
        if (uid == null) throw new ImageException("image config User \"" + spec + "\": no user \"" + userPart + "\" in the image's /etc/passwd");
        List<String[]> groups = null;
        if (groupPart != null && !groupPart.isEmpty()) {
            gid = number(groupPart);
            if (gid == null) {
                groups = read(rootfs, "/etc/group", spec);
                for (String[] g : groups) {
                    if (g.length >= 3 && g[0].equals(groupPart)) {
                        gid = number(g[2]);
                        break;
                    }
                }
                if (gid == null) throw new ImageException("image config User \"" + spec + "\": no group \"" + groupPart + "\" in the image's /etc/group");
            }
        }
        if (gid == null) gid = 0L;
        List<Long> extra = new ArrayList<>();
        if (name != null && (groupPart == null || groupPart.isEmpty())) {
            if (groups == null) groups = read(rootfs, "/etc/group", spec);
            for (String[] g : groups) {
                if (g.length < 4) continue;
                Long id = number(g[2]);
                if (id == null || id.equals(gid)) continue;
                for (String m : g[3].split(",")) {
                    if (m.trim().equals(name) && !extra.contains(id)) extra.add(id);
                }
            }
        }
        return new User(uid, gid, List.copyOf(extra), home);
    }

    private static Long number(String s) {
        if (s == null || s.isEmpty() || s.length() > 10) return null;
        for (int k = 0; k < s.length(); k++) if (!Character.isDigit(s.charAt(k))) return null;
        long v = Long.parseLong(s);
        return v <= 0xffffffffL ? v : null;
    }

    /** The file's lines split at ':', or none if the image has no such file. */
    private static List<String[]> read(Path rootfs, String file, String spec) throws ImageException {
        byte[] b;
        try {
            b = InRoot.read(rootfs, file, LIMIT);
        } catch (InRoot.NotRegularFile e) {
            throw new ImageException("image config User \"" + spec + "\": the image's " + file + " is not a regular file ("
                    + e.kind() + "); refused without opening it");
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR || e.errno() == Errno.ELOOP) return List.of();
            throw new ImageException("image config User \"" + spec + "\": cannot read the image's " + file + ": " + e.getMessage());
        }
        List<String[]> out = new ArrayList<>();
        for (String line : new String(b, StandardCharsets.UTF_8).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            out.add(line.split(":", -1));
        }
        return out;
    }
}
