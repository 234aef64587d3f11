package brig.rootfs;

import static brig.helper.MountFlags.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The options of one config.json mount, split as mount(8) does: flags for mount(2), propagation
 * flags (applied by a mount call of their own), and the rest passed to the filesystem as data.
 *
 * @param flags mount(2) flags, without propagation and without MS_BIND/MS_REC
 * @param clear flags the options explicitly turn off ("rw", "suid", ...), which matter on remount
 * @param propagation MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, with MS_REC for the r- forms
 */
public record MountOptions(long flags, long clear, boolean bind, boolean recursive, long propagation, String data) {

    private record Flag(boolean clear, long flag) {}

    private static final Map<String, Flag> FLAGS = Map.ofEntries(
            Map.entry("defaults", new Flag(false, 0)),
            Map.entry("ro", new Flag(false, MS_RDONLY)), Map.entry("rw", new Flag(true, MS_RDONLY)),
            Map.entry("nosuid", new Flag(false, MS_NOSUID)), Map.entry("suid", new Flag(true, MS_NOSUID)),
            Map.entry("nodev", new Flag(false, MS_NODEV)), Map.entry("dev", new Flag(true, MS_NODEV)),
            Map.entry("noexec", new Flag(false, MS_NOEXEC)), Map.entry("exec", new Flag(true, MS_NOEXEC)),
            Map.entry("sync", new Flag(false, MS_SYNCHRONOUS)), Map.entry("async", new Flag(true, MS_SYNCHRONOUS)),
            Map.entry("dirsync", new Flag(false, MS_DIRSYNC)),
            Map.entry("mand", new Flag(false, MS_MANDLOCK)), Map.entry("nomand", new Flag(true, MS_MANDLOCK)),
            Map.entry("noatime", new Flag(false, MS_NOATIME)), Map.entry("atime", new Flag(true, MS_NOATIME)),
            Map.entry("nodiratime", new Flag(false, MS_NODIRATIME)), Map.entry("diratime", new Flag(true, MS_NODIRATIME)),
            Map.entry("relatime", new Flag(false, MS_RELATIME)), Map.entry("norelatime", new Flag(true, MS_RELATIME)),
            Map.entry("strictatime", new Flag(false, MS_STRICTATIME)), Map.entry("nostrictatime", new Flag(true, MS_STRICTATIME)),
            Map.entry("lazytime", new Flag(false, MS_LAZYTIME)), Map.entry("nolazytime", new Flag(true, MS_LAZYTIME)),
            Map.entry("nosymfollow", new Flag(false, MS_NOSYMFOLLOW)), Map.entry("symfollow", new Flag(true, MS_NOSYMFOLLOW)));

    private static final Map<String, Long> PROPAGATIONS = Map.of(
            "private", MS_PRIVATE, "rprivate", MS_PRIVATE | MS_REC,
            "shared", MS_SHARED, "rshared", MS_SHARED | MS_REC,
            "slave", MS_SLAVE, "rslave", MS_SLAVE | MS_REC,
            "unbindable", MS_UNBINDABLE, "runbindable", MS_UNBINDABLE | MS_REC);

    /** Options Brig knows but does not do yet: refused rather than passed to the kernel as data. */
    private static final List<String> NOT_YET = List.of("tmpcopyup", "idmap", "ridmap", "rro", "rrw", "rnosuid",
            "rsuid", "rnodev", "rdev", "rnoexec", "rexec", "rnoatime", "ratime", "rrelatime", "rnorelatime",
            "rstrictatime", "rnostrictatime", "rnodiratime", "rdiratime", "rnosymfollow", "rsymfollow", "remount");

    /**
     * The options Brig recognizes and applies itself (flags, bind, propagation), sorted: what
     * `brig features` lists as mountOptions. Anything else is refused ({@link #NOT_YET}) or
     * passed to the filesystem as data, which the features document leaves out.
     */
    public static List<String> known() {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(FLAGS.keySet());
        all.addAll(PROPAGATIONS.keySet());
        all.addAll(List.of("bind", "rbind"));
        return List.copyOf(all);
    }

    /** @throws IllegalArgumentException naming the first option Brig cannot apply */
    public static MountOptions parse(List<String> options) {
        long flags = 0, clear = 0, propagation = 0;
        boolean bind = false, recursive = false;
        List<String> data = new ArrayList<>();
        for (String o : options) {
            Flag f = FLAGS.get(o);
            if (f != null) {
                if (f.clear) {
                    flags &= ~f.flag;
                    clear |= f.flag;
                } else {
                    flags |= f.flag;
                    clear &= ~f.flag;
                }
            } else if (o.equals("bind")) {
                bind = true;
            } else if (o.equals("rbind")) {
                bind = true;
                recursive = true;
            } else if (PROPAGATIONS.containsKey(o)) {
                propagation = PROPAGATIONS.get(o);
            } else if (NOT_YET.contains(o)) {
                throw new IllegalArgumentException("mount option \"" + o + "\" is not supported yet");
            } else if (o.isEmpty()) {
                throw new IllegalArgumentException("empty mount option");
            } else {
                data.add(o);
            }
        }
        return new MountOptions(flags, clear, bind, recursive, propagation, String.join(",", data));
    }
}
