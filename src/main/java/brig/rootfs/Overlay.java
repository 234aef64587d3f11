package brig.rootfs;

import static brig.helper.MountFlags.MS_NODEV;
import static brig.helper.MountFlags.MS_NOSUID;

import brig.helper.Step;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import brig.syscalls.Errno;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A copy-on-write rootfs asked for in config.json: overlayfs over read-only layer directories
 * (an image's layers in the layer store) with a writable upper directory of the container's
 * own, mounted on root.path in the container's mount namespace before the rootfs is entered,
 * so nothing is mounted in the host's and the mount goes away with the container.
 *
 * <p>Annotations (Brig's; other runtimes ignore them and see the empty root.path):
 * <ul>
 * <li>{@value #LOWERDIRS}: the lower directories, absolute host paths separated by ':', top
 *     first (overlayfs's own order);
 * <li>{@value #UPPERDIR} and {@value #WORKDIR}: absolute host paths on one file system, which
 *     must not be overlayfs itself;
 * <li>{@value #TMPFS} (optional): a host directory on which a tmpfs is mounted first, in the
 *     container's namespace, to hold upper and work (which must then be below it): for hosts
 *     whose container directory is on overlayfs (the v2 test guest's root is). The writes
 *     then live as long as the container's mount namespace.
 * </ul>
 */
public record Overlay(List<String> lowerdirs, String upperdir, String workdir, String tmpfs) {
    public static final String LOWERDIRS = "brig.overlay.lowerdirs", UPPERDIR = "brig.overlay.upperdir",
            WORKDIR = "brig.overlay.workdir", TMPFS = "brig.overlay.tmpfs";

    /**
     * mount(2) copies its options in one page (4096 bytes with the NUL): without lowerdir+ a
     * chain longer than that cannot be mounted. With the layer store's paths
     * (/var/lib/brig/images/layers/sha256/ and 64 hex digits, 100 bytes each) that is about 40.
     */
    public static final int LEGACY_MAX = 4095;

    /**
     * The system property that, set to false, plans the mount(2) fallback as on kernels without
     * lowerdir+ (for tests: JAVA_TOOL_OPTIONS=-Dbrig.overlay.lowerdirPlus=false reaches brig's JVM).
     */
    public static final String LOWERDIR_PLUS_PROPERTY = "brig.overlay.lowerdirPlus";

    public Overlay {
        lowerdirs = List.copyOf(lowerdirs);
    }

    /** The overlay config.json asks for, or null. */
    public static Overlay of(Spec spec) throws RootfsException {
        Map<String, String> a = spec.annotations();
        String lowers = a.get(LOWERDIRS);
        if (lowers == null) {
            for (String k : List.of(UPPERDIR, WORKDIR, TMPFS)) {
                if (a.containsKey(k)) throw new RootfsException("annotations." + k, "given without " + LOWERDIRS);
            }
            return null;
        }
        if (!spec.linux().creates(NamespaceType.MOUNT)) {
            throw new RootfsException("annotations." + LOWERDIRS, "an overlay rootfs needs a mount namespace of the container's own"
                    + " (linux.namespaces has no new \"mount\")");
        }
        List<String> dirs = new ArrayList<>();
        for (String d : lowers.split(":", -1)) dirs.add(dir(LOWERDIRS, d, true));
        String upper = dir(UPPERDIR, a.getOrDefault(UPPERDIR, ""), false);
        String work = dir(WORKDIR, a.getOrDefault(WORKDIR, ""), false);
        String tmpfs = a.containsKey(TMPFS) ? dir(TMPFS, a.get(TMPFS), true) : "";
        if (!tmpfs.isEmpty()) {
            for (String[] d : List.of(new String[] {UPPERDIR, upper}, new String[] {WORKDIR, work})) {
                if (!d[1].startsWith(tmpfs + "/")) throw new RootfsException("annotations." + d[0], d[1] + " is not below " + TMPFS + " " + tmpfs);
            }
        } else {
            for (String[] d : List.of(new String[] {UPPERDIR, upper}, new String[] {WORKDIR, work})) {
                if (!Files.isDirectory(Path.of(d[1]), LinkOption.NOFOLLOW_LINKS)) {
                    throw new RootfsException("annotations." + d[0], d[1] + ": ENOENT: no such directory");
                }
            }
        }
        return new Overlay(dirs, upper, work, tmpfs);
    }

    private static String dir(String key, String value, boolean mustExist) throws RootfsException {
        if (value.isEmpty()) throw new RootfsException("annotations." + key, "empty path");
        if (!value.startsWith("/")) throw new RootfsException("annotations." + key, value + " is not an absolute path");
        String clean = RootfsPlanner.clean(value);
        if (mustExist && !Files.isDirectory(Path.of(clean), LinkOption.NOFOLLOW_LINKS)) {
            throw new RootfsException("annotations." + key, clean + ": ENOENT: no such directory");
        }
        return clean;
    }

    /** The steps that mount it on {@code rootfs} (a host path), in the container's mount namespace. */
    public List<Step> steps(String rootfs) throws RootfsException {
        return steps(rootfs, lowerdirPlus());
    }

    /** As {@link #steps(String)}, for a kernel with or without lowerdir+. */
    public List<Step> steps(String rootfs, boolean lowerdirPlus) throws RootfsException {
        List<Step> steps = new ArrayList<>();
        if (!tmpfs.isEmpty()) steps.add(new Step.Mount("tmpfs", tmpfs, "tmpfs", MS_NOSUID | MS_NODEV, "mode=700", Step.TGT_HOST));
        String legacy = "";
        if (!lowerdirPlus) {
            for (String d : lowerdirs) {
                if (d.contains(",")) throw new RootfsException("annotations." + LOWERDIRS, d + " contains ',', which overlay's mount options cannot hold"
                        + " (this kernel lacks lowerdir+, Linux 6.8)");
            }
            legacy = "lowerdir=" + String.join(":", lowerdirs) + ",upperdir=" + upperdir + ",workdir=" + workdir;
            if (legacy.length() > LEGACY_MAX) {
                throw new RootfsException("annotations." + LOWERDIRS, lowerdirs.size() + " layers do not fit in overlay's mount options ("
                        + legacy.length() + " bytes, at most " + LEGACY_MAX + "): this kernel lacks lowerdir+ (Linux 6.8), so a chain"
                        + " is limited to about 40 layers");
            }
        }
        steps.add(new Step.Overlay(rootfs, lowerdirs, upperdir, workdir, legacy));
        return steps;
    }

    private static volatile Boolean lowerdirPlus;

    /**
     * Whether the kernel takes "lowerdir+" (Linux 6.8): asked of an overlay fs context, which
     * mounts nothing. Before Linux 6.5 overlayfs took its options as one string, so an unknown
     * key only failed at mount time: such kernels are taken at their release number.
     * Without the right to fsopen (not root: only `--explain` gets here) lowerdir+ is assumed.
     */
    public static boolean lowerdirPlus() {
        if ("false".equals(System.getProperty(LOWERDIR_PLUS_PROPERTY))) return false;
        Boolean b = lowerdirPlus;
        if (b != null) return b;
        boolean yes;
        try {
            int fs = Libc.fsopen("overlay");
            try {
                Libc.fsconfigString(fs, "lowerdir+", "/");
                yes = atLeast(System.getProperty("os.version"), 6, 5);
            } catch (SyscallException e) {
                yes = e.errno() != Errno.EINVAL;
            } finally {
                Libc.close(fs);
            }
        } catch (SyscallException e) {
            yes = true;
        }
        lowerdirPlus = yes;
        return yes;
    }

    static boolean atLeast(String release, int major, int minor) {
        String[] p = release.split("[.-]");
        try {
            int ma = Integer.parseInt(p[0]), mi = p.length > 1 ? Integer.parseInt(p[1]) : 0;
            return ma > major || (ma == major && mi >= minor);
        } catch (NumberFormatException e) {
            return true;
        }
    }
}
