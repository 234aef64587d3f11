package brig.layer;

import brig.rootfs.RootfsPlanner;
import brig.syscalls.Errno;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies layer tar streams to a rootfs, in order, with OCI's whiteouts and opaque directories.
 *
 * <p>Confinement: every path is resolved with openat2(RESOLVE_IN_ROOT) relative to the rootfs,
 * so symlinks in the image are followed as the container sees them (usrmerge's lib -> usr/lib
 * works, and an absolute or climbing symlink ends inside the rootfs), and the last component is
 * always created, replaced or removed with *at calls that do not follow it (O_EXCL|O_NOFOLLOW,
 * unlinkat, symlinkat, mknodat). Names that climb above the root with "../" are refused, as are
 * hard links whose target does; sizes larger than the free space are refused before writing.
 */
public final class Extractor implements AutoCloseable {
    private static final int ENOTSUP = 95, ENODATA = 61;
    private static final long RESOLVE = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;

    /**
     * What a layer's whiteouts become. APPLY: a flat rootfs with the layers applied in order,
     * whiteouts delete what the layers below made. OVERLAY: one layer on its own, for the layer
     * store, whose whiteouts cannot delete from the layers below (they are other directories):
     * they are kept in overlayfs's form, a 0/0 character device for ".wh.NAME" and the xattr
     * trusted.overlay.opaque=y on the directory of ".wh..wh..opq".
     */
    public enum Whiteouts { APPLY, OVERLAY }

    private static final String OVERLAY_XATTRS = "trusted.overlay.";
    private static final byte[] OPAQUE = {'y'};

    private final Path rootfs;
    private final int root;
    private final boolean privileged;
    private final Whiteouts whiteouts;
    private final Arena arena = Arena.ofConfined();
    private final byte[] buf = new byte[1 << 17];
    private final MemorySegment nbuf = arena.allocate(1 << 17);
    private long freeSpace;

    // State of the layer being applied.
    private String layer = "";
    private Set<String> touched = new HashSet<>();
    private List<DirTime> dirTimes = new ArrayList<>();
    private String cachedPath;
    private int cachedFd = -1;

    private record DirTime(String path, long atime, long mtime) {}

    /**
     * @param rootfs an existing directory
     * @param privileged whether to set owners, make device nodes and set file capabilities
     *     (as root); without, those are skipped as umoci does for rootless unpacking
     */
    public Extractor(Path rootfs, boolean privileged) throws IOException, SyscallException {
        this(rootfs, privileged, Whiteouts.APPLY);
    }

    /**
     * @param whiteouts APPLY for a flat rootfs; OVERLAY for one layer of an overlay (as root
     *     only: its whiteouts are device nodes and trusted.* xattrs)
     */
    public Extractor(Path rootfs, boolean privileged, Whiteouts whiteouts) throws IOException, SyscallException {
        if (whiteouts == Whiteouts.OVERLAY && !privileged) {
            throw new IllegalArgumentException("overlay whiteouts need root (mknod, trusted.* xattrs)");
        }
        this.rootfs = rootfs;
        this.privileged = privileged;
        this.whiteouts = whiteouts;
        this.root = Libc.open(rootfs.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
        this.freeSpace = Files.getFileStore(rootfs).getUsableSpace();
    }

    /** Applies one layer (an uncompressed tar stream); {@code label} names it in errors. */
    public void apply(InputStream tar, String label) throws IOException, LayerException {
        layer = label;
        touched = new HashSet<>();
        dirTimes = new ArrayList<>();
        TarReader r = new TarReader(tar);
        try {
            TarEntry e;
            while ((e = r.next()) != null) {
                try {
                    entry(e, r);
                } catch (SyscallException x) {
                    throw new LayerException(where(e.name()) + ": " + x.getMessage(), x);
                }
            }
            for (int k = dirTimes.size() - 1; k >= 0; k--) setDirTime(dirTimes.get(k));
        } catch (LayerException x) {
            throw x.getMessage().startsWith("layer ") ? x : new LayerException("layer " + layer + ": " + x.getMessage(), x);
        } catch (IOException | SyscallException x) {
            throw new LayerException("layer " + layer + ": " + x.getMessage(), x);
        } finally {
            dropCache();
        }
    }

    private String where(String name) {
        return "layer " + layer + ": entry " + name;
    }

    /** Lexically cleaned components of an entry name; a leading "/" is legal, climbing out is not. */
    static List<String> clean(String name) throws LayerException {
        List<String> parts = new ArrayList<>();
        for (String c : name.split("/")) {
            if (c.isEmpty() || c.equals(".")) continue;
            if (c.equals("..")) {
                if (parts.isEmpty()) throw new LayerException("climbs out of the rootfs with \"../\"");
                parts.remove(parts.size() - 1);
            } else {
                parts.add(c);
            }
        }
        return parts;
    }

    private void entry(TarEntry e, TarReader r) throws IOException, SyscallException, LayerException {
        List<String> parts;
        try {
            parts = clean(e.name());
        } catch (LayerException x) {
            throw new LayerException(where(e.name()) + ": " + x.getMessage());
        }
        if (parts.isEmpty()) {
            if (!e.isDirectory()) throw new LayerException(where(e.name()) + ": the rootfs itself can only be a directory");
            metadata(root, e);
            dirTimes.add(new DirTime("", e.atimeNanos(), e.mtimeNanos()));
            return;
        }
        String base = parts.get(parts.size() - 1);
        String parentPath = String.join("/", parts.subList(0, parts.size() - 1));
        String path = parentPath.isEmpty() ? base : parentPath + "/" + base;
        if (base.startsWith(".wh.")) {
            whiteout(e, parentPath, base);
            return;
        }
        String linkTarget = null;
        if (e.type() == TarEntry.Type.HARDLINK) {
            List<String> t;
            try {
                t = clean(e.linkName());
            } catch (LayerException x) {
                throw new LayerException(where(e.name()) + ": hard link target " + e.linkName() + " " + x.getMessage());
            }
            if (t.isEmpty()) throw new LayerException(where(e.name()) + ": hard link to the rootfs directory");
            linkTarget = String.join("/", t);
            if (linkTarget.equals(path)) return; // a link to itself: already there
        }
        int dir = parent(parentPath, e.name());
        Libc.Stat existing = Libc.statx(dir, base, Libc.AT_SYMLINK_NOFOLLOW);
        boolean own = false;
        try {
            if (existing != null && !(e.isDirectory() && existing.isDirectory())) {
                own = detach(dir);
                removeAll(dir, base, existing);
            }
            create(dir, base, path, e, r, existing != null && existing.isDirectory(), linkTarget);
            touched.add(path);
        } finally {
            if (own) Libc.close(dir);
        }
    }

    private void create(int dir, String base, String path, TarEntry e, TarReader r, boolean dirExists, String linkTarget)
            throws IOException, SyscallException, LayerException {
        switch (e.type()) {
            case FILE -> file(dir, base, e, r);
            case DIRECTORY -> {
                if (!dirExists) Libc.mkdirat(dir, base, 0700);
                int fd = Libc.openat(dir, base, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
                try {
                    metadata(fd, e);
                } finally {
                    Libc.close(fd);
                }
                dirTimes.add(new DirTime(path, e.atimeNanos(), e.mtimeNanos()));
            }
            case SYMLINK -> {
                Libc.symlinkat(e.linkName(), dir, base);
                linkMetadata(dir, base, e);
            }
            case HARDLINK -> hardlink(dir, base, linkTarget, e);
            case CHAR, BLOCK, FIFO -> {
                if (e.type() != TarEntry.Type.FIFO && !privileged) return; // devices need root, as with umoci --rootless
                int kind = switch (e.type()) {
                    case CHAR -> Libc.S_IFCHR;
                    case BLOCK -> Libc.S_IFBLK;
                    default -> Libc.S_IFIFO;
                };
                Libc.mknodat(dir, base, kind | 0600, Libc.makedev(e.devMajor(), e.devMinor()));
                if (privileged) Libc.fchownat(dir, base, e.uid(), e.gid(), Libc.AT_SYMLINK_NOFOLLOW);
                Libc.fchmodat(dir, base, e.mode());
                Libc.utimensat(dir, base, e.atimeNanos(), e.mtimeNanos(), Libc.AT_SYMLINK_NOFOLLOW);
            }
        }
    }

    private void file(int dir, String base, TarEntry e, TarReader r) throws IOException, SyscallException, LayerException {
        if (e.size() > freeSpace) {
            throw new LayerException(where(e.name()) + ": size " + e.size() + " bytes exceeds the free space of " + rootfs + " ("
                    + freeSpace + " bytes)");
        }
        int fd = Libc.openat(dir, base, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW, 0600);
        try {
            long left = e.size();
            while (left > 0) {
                int n = r.read(buf, 0, buf.length);
                if (n < 0) throw new LayerException(where(e.name()) + ": unexpected end of layer (" + left + " bytes missing)");
                MemorySegment.copy(buf, 0, nbuf, ValueLayout.JAVA_BYTE, 0, n);
                Libc.write(fd, nbuf, n, e.name());
                left -= n;
            }
            freeSpace -= e.size();
            metadata(fd, e);
        } finally {
            Libc.close(fd);
        }
    }

    private void hardlink(int dir, String base, String target, TarEntry e) throws IOException, SyscallException, LayerException {
        int slash = target.lastIndexOf('/');
        String tparent = slash < 0 ? "" : target.substring(0, slash), tbase = target.substring(slash + 1);
        int tdir = tparent.isEmpty() ? root : openDir(tparent);
        if (tdir < 0) throw new LayerException(where(e.name()) + ": hard link target " + e.linkName() + " does not exist");
        try {
            Libc.Stat t = Libc.statx(tdir, tbase, Libc.AT_SYMLINK_NOFOLLOW);
            if (t == null) throw new LayerException(where(e.name()) + ": hard link target " + e.linkName() + " does not exist");
            if (t.isDirectory()) throw new LayerException(where(e.name()) + ": hard link target " + e.linkName() + " is a directory");
            Libc.linkat(tdir, tbase, dir, base, 0);
        } finally {
            if (tdir != root) Libc.close(tdir);
        }
    }

    /** Owner, mode, xattrs and times of an open file or directory (in that order: chown clears setuid and capabilities). */
    private void metadata(int fd, TarEntry e) throws IOException, SyscallException, LayerException {
        if (privileged) Libc.fchown(fd, e.uid(), e.gid(), e.name());
        Libc.fchmod(fd, e.mode(), e.name());
        for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
            if (overlayOwn(x.getKey())) continue;
            try {
                Libc.fsetxattr(fd, x.getKey(), x.getValue(), e.name());
            } catch (SyscallException s) {
                boolean required = privileged && x.getKey().equals("security.capability");
                if (required || (s.errno() != ENOTSUP && s.errno() != Errno.EPERM && s.errno() != Errno.EACCES && s.errno() != ENODATA)) {
                    throw new LayerException(where(e.name()) + ": " + s.getMessage());
                }
                // xattrs the filesystem or an unprivileged user cannot have are skipped, as umoci does
            }
        }
        if (!e.isDirectory()) Libc.utimensat(fd, null, e.atimeNanos(), e.mtimeNanos(), 0);
    }

    private void linkMetadata(int dir, String base, TarEntry e) throws SyscallException {
        if (privileged) Libc.fchownat(dir, base, e.uid(), e.gid(), Libc.AT_SYMLINK_NOFOLLOW);
        for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
            if (overlayOwn(x.getKey())) continue;
            try {
                Libc.lsetxattr("/proc/self/fd/" + dir + "/" + base, x.getKey(), x.getValue());
            } catch (SyscallException s) {
                // symlinks take only trusted.* and security.* xattrs; others are skipped
            }
        }
        Libc.utimensat(dir, base, e.atimeNanos(), e.mtimeNanos(), Libc.AT_SYMLINK_NOFOLLOW);
    }

    /**
     * In a layer of the store, overlayfs reads trusted.overlay.* as its own (opaque, redirect,
     * metacopy, origin): a layer's tar may not set them, or it could hide or redirect what the
     * layers below hold in ways its whiteouts do not say. Only the extractor writes them.
     */
    private boolean overlayOwn(String xattr) {
        return whiteouts == Whiteouts.OVERLAY && xattr.startsWith(OVERLAY_XATTRS);
    }

    private void whiteout(TarEntry e, String parentPath, String base) throws IOException, SyscallException, LayerException {
        if (whiteouts == Whiteouts.OVERLAY) {
            overlayWhiteout(e, parentPath, base);
            return;
        }
        if (base.equals(".wh..wh..opq")) {
            int dir = parent(parentPath, e.name());
            String prefix = parentPath.isEmpty() ? "" : parentPath + "/";
            boolean own = detach(dir);
            try {
            for (String child : list(dir)) {
                if (touched.contains(prefix + child)) continue; // written by this layer: stays
                Libc.Stat s = Libc.statx(dir, child, Libc.AT_SYMLINK_NOFOLLOW);
                if (s != null) removeAll(dir, child, s);
            }
            } finally {
                if (own) Libc.close(dir);
            }
            return;
        }
        if (base.startsWith(".wh..wh.")) return; // aufs bookkeeping (.wh..wh.plnk and such), not a whiteout
        String name = base.substring(4);
        if (name.isEmpty() || name.equals(".") || name.equals("..")) throw new LayerException(where(e.name()) + ": invalid whiteout");
        String path = parentPath.isEmpty() ? name : parentPath + "/" + name;
        if (touched.contains(path)) return;
        int dir = parentPath.isEmpty() ? root : openDir(parentPath);
        if (dir < 0) return; // nothing there to hide
        try {
            Libc.Stat s = Libc.statx(dir, name, Libc.AT_SYMLINK_NOFOLLOW);
            if (s == null) return;
            dropCache();
            removeAll(dir, name, s);
        } finally {
            if (dir != root) Libc.close(dir);
        }
    }

    /**
     * A whiteout kept for overlayfs: ".wh..wh..opq" marks its directory opaque (made if the
     * layer did not list it), ".wh.NAME" becomes NAME as a 0/0 character device, replacing what
     * this same layer may have put there earlier (a later entry wins, as in APPLY), unless
     * this layer wrote NAME itself (then the whiteout only hides the layers below: NAME stays).
     */
    private void overlayWhiteout(TarEntry e, String parentPath, String base) throws IOException, SyscallException, LayerException {
        if (base.equals(".wh..wh..opq")) {
            parent(parentPath, e.name()); // made if missing, resolved in the rootfs as every entry
            int fd = Libc.openat2(root, parentPath.isEmpty() ? "." : parentPath, Libc.O_RDONLY | Libc.O_DIRECTORY, RESOLVE);
            try {
                Libc.fsetxattr(fd, "trusted.overlay.opaque", OPAQUE, e.name());
            } finally {
                Libc.close(fd);
            }
            return;
        }
        if (base.startsWith(".wh..wh.")) return; // aufs bookkeeping, as in APPLY
        String name = base.substring(4);
        if (name.isEmpty() || name.equals(".") || name.equals("..")) throw new LayerException(where(e.name()) + ": invalid whiteout");
        String path = parentPath.isEmpty() ? name : parentPath + "/" + name;
        if (touched.contains(path)) return;
        int dir = parent(parentPath, e.name());
        Libc.Stat existing = Libc.statx(dir, name, Libc.AT_SYMLINK_NOFOLLOW);
        boolean own = false;
        try {
            if (existing != null) {
                own = detach(dir);
                removeAll(dir, name, existing);
            }
            Libc.mknodat(dir, name, Libc.S_IFCHR | 0, Libc.makedev(0, 0));
            touched.add(path);
        } finally {
            if (own) Libc.close(dir);
        }
    }

    /** Removes a file or a whole tree below {@code dir}, never following symlinks. */
    private void removeAll(int dir, String name, Libc.Stat s) throws IOException, SyscallException {
        if (s.isDirectory()) {
            int fd = Libc.openat(dir, name, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_NOFOLLOW, 0);
            try {
                for (String child : list(fd)) {
                    Libc.Stat c = Libc.statx(fd, child, Libc.AT_SYMLINK_NOFOLLOW);
                    if (c != null) removeAll(fd, child, c);
                }
            } finally {
                Libc.close(fd);
            }
            Libc.unlinkat(dir, name, Libc.AT_REMOVEDIR);
        } else {
            Libc.unlinkat(dir, name, 0);
        }
    }

    /** Names in the directory open as {@code fd} (read through our own /proc/self/fd link). */
    private static List<String> list(int fd) throws IOException, SyscallException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(Path.of("/proc/self/fd/" + fd))) {
            for (Path p : d) names.add(p.getFileName().toString());
        }
        return names;
    }

    /** The directory {@code path} resolved inside the rootfs, made (0755) if missing; cached for the next entry. */
    private int parent(String path, String entry) throws IOException, SyscallException, LayerException {
        if (path.isEmpty()) return root;
        if (path.equals(cachedPath)) return cachedFd;
        int fd;
        try {
            fd = Libc.openat2(root, path, Libc.O_PATH | Libc.O_DIRECTORY, RESOLVE);
        } catch (SyscallException e) {
            if (e.errno() != Errno.ENOENT) throw notDir(entry, path, e);
            fd = mkdirs(path, entry);
        }
        dropCache();
        cachedPath = path;
        cachedFd = fd;
        return fd;
    }

    private LayerException notDir(String entry, String path, SyscallException e) {
        if (e.errno() == Errno.ENOTDIR) return new LayerException(where(entry) + ": parent " + path + " is not a directory");
        return new LayerException(where(entry) + ": " + e.getMessage(), e);
    }

    private int mkdirs(String path, String entry) throws IOException, SyscallException, LayerException {
        return mkdirs(path, entry, 0);
    }

    /**
     * Makes the directories of {@code path} inside the rootfs. A component that is a dangling
     * symlink gets its target made, resolved inside the rootfs as the container will see it
     * (as containerd does), so "var/run -> /run" then "var/run/x" works before "run/" exists.
     */
    private int mkdirs(String path, String entry, int depth) throws IOException, SyscallException, LayerException {
        if (depth > 40) throw new LayerException(where(entry) + ": too many levels of symbolic links in " + path);
        String[] parts = path.split("/");
        int prev = root;
        StringBuilder prefix = new StringBuilder();
        try {
            for (String part : parts) {
                String parentPrefix = prefix.toString();
                if (prefix.length() > 0) prefix.append('/');
                prefix.append(part);
                String p = prefix.toString();
                int fd;
                try {
                    fd = Libc.openat2(root, p, Libc.O_PATH | Libc.O_DIRECTORY, RESOLVE);
                } catch (SyscallException e) {
                    if (e.errno() != Errno.ENOENT) throw notDir(entry, p, e);
                    try {
                        Libc.mkdirat(prev, part, 0755);
                        touched.add(p);
                    } catch (SyscallException m) {
                        if (m.errno() != Errno.EEXIST) throw m;
                        Libc.Stat s = Libc.statx(prev, part, Libc.AT_SYMLINK_NOFOLLOW);
                        if (s == null || !s.isSymlink()) throw m;
                        String target = Libc.readlinkat(prev, part);
                        String resolved = RootfsPlanner.clean(target.startsWith("/") ? target : parentPrefix + "/" + target).substring(1);
                        if (!resolved.isEmpty()) Libc.close(mkdirs(resolved, entry, depth + 1));
                    }
                    fd = Libc.openat2(root, p, Libc.O_PATH | Libc.O_DIRECTORY, RESOLVE);
                }
                if (prev != root) Libc.close(prev);
                prev = fd;
            }
            return prev;
        } catch (IOException | LayerException | RuntimeException e) {
            if (prev != root) Libc.close(prev);
            throw e;
        }
    }

    /** An uncached directory fd inside the rootfs, or -1 if it does not exist. */
    private int openDir(String path) throws IOException, SyscallException, LayerException {
        try {
            return Libc.openat2(root, path, Libc.O_PATH | Libc.O_DIRECTORY, RESOLVE);
        } catch (SyscallException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENOTDIR) return -1;
            throw e;
        }
    }

    private void setDirTime(DirTime t) throws IOException, SyscallException {
        if (t.path().isEmpty()) {
            Libc.utimensat(root, null, t.atime(), t.mtime(), 0);
            return;
        }
        int slash = t.path().lastIndexOf('/');
        String parent = slash < 0 ? "" : t.path().substring(0, slash), base = t.path().substring(slash + 1);
        int dir;
        try {
            dir = parent.isEmpty() ? root : openDir(parent);
        } catch (LayerException e) {
            return;
        }
        if (dir < 0) return;
        try {
            Libc.Stat s = Libc.statx(dir, base, Libc.AT_SYMLINK_NOFOLLOW);
            if (s != null && s.isDirectory()) Libc.utimensat(dir, base, t.atime(), t.mtime(), Libc.AT_SYMLINK_NOFOLLOW);
        } finally {
            if (dir != root) Libc.close(dir);
        }
    }

    /**
     * Forgets the cached parent before anything is removed: the cached directory may have been
     * reached through the removed name, or through a symlink chain that passes by it. Returns
     * whether the caller now owns {@code dir} (it was the cached fd) and must close it.
     */
    private boolean detach(int dir) {
        if (dir >= 0 && dir == cachedFd) {
            cachedFd = -1;
            cachedPath = null;
            return true;
        }
        dropCache();
        return false;
    }

    private void dropCache() {
        if (cachedFd >= 0) Libc.close(cachedFd);
        cachedFd = -1;
        cachedPath = null;
    }

    @Override
    public void close() {
        dropCache();
        Libc.close(root);
        arena.close();
    }
}
