package brig.helper;

import brig.spec.Capability;
import brig.spec.NamespaceType;
import brig.spec.RlimitType;
import brig.syscalls.Errno;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One step of a plan for the native helper: a value that says what to do, how to encode it for
 * the helper ({@link #op}, {@link #flags}, {@link #ints}, {@link #strings}), and how to say it in
 * plain words ({@link #explain}). Paths named "in the container" are resolved by the helper
 * inside the current root at the moment of the step.
 */
public sealed interface Step {
    /** Step flags, mirrored by F_* in brig-helper.c. */
    int SRC_HOST = 0x01, SRC_ROOT = 0x02, TGT_HOST = 0x04, OPTIONAL = 0x08, KEEP_LOCKED = 0x10,
            DEFER = 0x20, IF_DEFERRED = 0x40, ON_PROC = 0x80, NO_SYMLINKS = 0x100, CGROUP_AFTER_FORK = 0x200;

    Op op();

    default int flags() { return 0; }

    default long[] ints() { return new long[0]; }

    default List<String> strings() { return List.of(); }

    /** The step in plain words, for `--explain` and error messages. */
    String explain();

    /** The one-line error when the helper reports that this step failed. */
    default String failure(String syscall, String path, int errno) {
        String what = path == null || path.isEmpty() ? syscall : syscall + " " + path;
        return explain() + ": " + what + ": " + Errno.describe(errno);
    }

    private static String names(Collection<NamespaceType> types) {
        return types.stream().map(NamespaceType::specName).collect(Collectors.joining(", "));
    }

    private static long cloneFlags(Collection<NamespaceType> types) {
        long f = 0;
        for (NamespaceType t : types) f |= t.cloneFlag();
        return f;
    }

    record JoinNamespace(NamespaceType type, String path) implements Step {
        public Op op() { return Op.SETNS; }
        public long[] ints() { return new long[] {type.cloneFlag()}; }
        public List<String> strings() { return List.of(path); }
        public String explain() { return "join the " + type.specName() + " namespace at " + path + " (setns)"; }
    }

    /**
     * Opens the container's cgroup2 directory (a host path) for {@link Clone}: first in the
     * plan, before any namespace is joined, as a joined mount namespace would resolve the path
     * elsewhere.
     */
    record OpenCgroup(String path) implements Step {
        public Op op() { return Op.OPEN_CGROUP; }
        public List<String> strings() { return List.of(path); }
        public String explain() { return "open the container's cgroup2 directory " + path + " for the clone"; }
    }

    /**
     * Opens the {@code tasks} files of the container's v1 cgroup directories (host paths) for
     * {@link JoinCgroupTasks}: first in the plan, before any namespace is joined.
     */
    record OpenCgroupTasks(List<String> dirs) implements Step {
        public OpenCgroupTasks { dirs = List.copyOf(dirs); }
        public Op op() { return Op.OPEN_TASKS; }
        public List<String> strings() { return dirs; }
        public String explain() { return "open the tasks files of the container's v1 cgroups " + String.join(", ", dirs); }
        public String failure(String syscall, String path, int errno) {
            return Step.super.failure(syscall, path + "/tasks", errno);
        }
    }

    /**
     * The new process moves itself into the v1 cgroups {@link OpenCgroupTasks} opened, right
     * after the clone: a thread that writes "0" to a tasks file moves alone, and the kernel
     * spares it the global lock that moving a pid through cgroup.procs takes (whose RCU grace
     * period cost 5-19 ms per run here, 0.1 ms for all nine hierarchies this way).
     */
    record JoinCgroupTasks(List<String> dirs) implements Step {
        public JoinCgroupTasks { dirs = List.copyOf(dirs); }
        public Op op() { return Op.JOIN_TASKS; }
        public String explain() { return "join the v1 cgroups itself: write 0 to tasks in " + String.join(", ", dirs); }
        public String failure(String syscall, String path, int errno) {
            return Step.super.failure(syscall, path + "/tasks", errno);
        }
    }

    /**
     * Creates the container's first process; the helper process itself ends here. The new
     * process starts a session of its own (setsid) whatever the terminal setting: in the
     * caller's process group it could signal brig and its caller (kill 0).
     *
     * <p>With a {@code cgroup} (the directory {@link OpenCgroup} opened; not sent, the helper
     * uses that fd) the process is created in it with clone3(CLONE_INTO_CGROUP), so that it is
     * charged there from its first instruction; where the kernel refuses clone3 or the flag
     * (ENOSYS, EINVAL, E2BIG: before Linux 5.7, or a seccomp filter) a plain clone, and Brig
     * moves it while it waits. The helper tells Brig which happened ({@link Helper#awaitPid}).
     *
     * @param cgroup the cgroup2 directory, or "" to clone into the helper's own cgroups
     */
    record Clone(List<NamespaceType> create, String cgroup) implements Step {
        public Clone { create = List.copyOf(create); }
        public Clone(List<NamespaceType> create) { this(create, ""); }
        public Op op() { return Op.CLONE; }
        public long[] ints() { return new long[] {cloneFlags(create)}; }
        public String explain() {
            return (create.isEmpty() ? "clone the container's first process (no new namespaces)"
                    : "clone the container's first process in new " + names(create) + " namespaces")
                    + (cgroup.isEmpty() ? "" : ", directly into cgroup " + cgroup + " (clone3 with CLONE_INTO_CGROUP; "
                            + "a plain clone where the kernel refuses it, and brig moves the process)")
                    + ", in a session and process group of its own (setsid)";
        }
        public String failure(String syscall, String path, int errno) {
            // Born in the cgroup, the process counts against its pids.max from the start.
            if (syscall.equals("clone3") && errno == Errno.EAGAIN) {
                return Step.super.failure(syscall, path, errno) + " (the cgroup's pids.max allows no more processes?)";
            }
            return Step.super.failure(syscall, path, errno);
        }
    }

    /** Waits for Brig's go-ahead; {@code why} says what Brig does meanwhile. */
    record Await(String why) implements Step {
        public Op op() { return Op.AWAIT; }
        public String explain() { return "wait while brig " + why; }
    }

    record Unshare(List<NamespaceType> create) implements Step {
        public Unshare { create = List.copyOf(create); }
        public Op op() { return Op.UNSHARE; }
        public long[] ints() { return new long[] {cloneFlags(create)}; }
        public String explain() { return "unshare a new " + names(create) + " namespace"; }
    }

    /** From here on, paths in the container are resolved under this host directory. */
    record EnterRoot(String hostPath) implements Step {
        public Op op() { return Op.ROOT; }
        public List<String> strings() { return List.of(hostPath); }
        public String explain() { return "resolve container paths inside " + hostPath; }
    }

    record MakeDirs(String path, int mode) implements Step {
        public Op op() { return Op.MKDIRS; }
        public long[] ints() { return new long[] {mode}; }
        public List<String> strings() { return List.of(path); }
        public String explain() { return "create directory " + path + " (mode " + Integer.toOctalString(mode) + ") if missing"; }
    }

    record MakeFile(String path, int mode) implements Step {
        public Op op() { return Op.MKFILE; }
        public long[] ints() { return new long[] {mode}; }
        public List<String> strings() { return List.of(path); }
        public String explain() { return "create empty file " + path + " if missing"; }
    }

    /**
     * mount(2). A bind mount with flags (ro, nosuid, ...) gets them before it is attached, with
     * the target resolved once (open_tree, mount_setattr, move_mount): a bind and a remount
     * would resolve it twice, and a symlink swapped in between could leave the bind writable.
     * Such flags are only ever added to the source's. {@code how} says how to read source and
     * target: SRC_HOST (a host path, bound
     * from), SRC_ROOT (a path in the container), TGT_HOST (a host path), OPTIONAL (skip if
     * missing), KEEP_LOCKED (keep the mount's locked flags on remount), ON_PROC (the target
     * may resolve onto procfs; without it the helper refuses), NO_SYMLINKS (no symlink on the
     * target's path). Without TGT_HOST the target is in the container.
     */
    record Mount(String source, String target, String fstype, long mountFlags, String data, int how) implements Step {
        public Op op() { return Op.MOUNT; }
        public int flags() { return how; }
        public long[] ints() { return new long[] {mountFlags}; }
        public List<String> strings() { return List.of(source, target, fstype, data); }

        public String explain() {
            long f = mountFlags;
            String opts = MountFlags.names(f & ~(MountFlags.MS_BIND | MountFlags.MS_REC | MountFlags.MS_REMOUNT
                    | MountFlags.PROPAGATION));
            String extra = (opts.isEmpty() ? "" : opts) + (data.isEmpty() ? "" : (opts.isEmpty() ? "" : ",") + data);
            String suffix = extra.isEmpty() ? "" : " (" + extra + ")";
            String where = (how & TGT_HOST) != 0 ? target : target + " in the container";
            if ((f & MountFlags.MS_REMOUNT) != 0) {
                return "remount " + where + " with " + (opts.isEmpty() ? "no flags" : opts)
                        + ((how & KEEP_LOCKED) != 0 ? " (keeping its locked flags)" : "");
            }
            if ((f & MountFlags.PROPAGATION) != 0 && (f & MountFlags.MS_BIND) == 0 && fstype.isEmpty()) {
                String p = MountFlags.names(f & MountFlags.PROPAGATION);
                return "make " + where + ((f & MountFlags.MS_REC) != 0 ? " and every mount below it r" + p : " " + p);
            }
            if ((f & MountFlags.MS_BIND) != 0) {
                String src = (how & SRC_ROOT) != 0 ? source + " in the container" : source;
                return ((f & MountFlags.MS_REC) != 0 ? "recursively bind-mount " : "bind-mount ") + src + " on " + where
                        + suffix + ((how & OPTIONAL) != 0 ? " if it exists" : "");
            }
            return "mount " + fstype + " on " + where + suffix;
        }

        public String failure(String syscall, String path, int errno) {
            if (syscall.equals("procfs")) {
                return explain() + ": " + path + " leads into the container's /proc (a symlink in the rootfs?): refused";
            }
            if (syscall.equals("openat2") && errno == Errno.ELOOP && (how & NO_SYMLINKS) != 0) {
                return explain() + ": " + path + " is a symlink in the rootfs (or lies under one): refused";
            }
            return Step.super.failure(syscall, path, errno);
        }
    }

    /**
     * The container's copy-on-write rootfs: overlayfs on {@code target} (a host path, in the
     * container's mount namespace, before the rootfs is entered) with the image's layers as
     * lower directories, top first, and the container's own upper and work directories, which
     * the helper makes if missing (a tmpfs just mounted has neither). With {@code legacyData}
     * empty, the new mount API (fsopen, one fsconfig "lowerdir+" per layer, fsmount,
     * move_mount); otherwise the kernel lacks lowerdir+ (before Linux 6.8) and it is mount(2)
     * with these options, which Java checked fit the kernel's one page.
     */
    record Overlay(String target, List<String> lowerdirs, String upperdir, String workdir, String legacyData) implements Step {
        public Overlay { lowerdirs = List.copyOf(lowerdirs); }
        public Op op() { return Op.OVERLAY; }
        public long[] ints() { return new long[] {lowerdirs.size()}; }
        public List<String> strings() {
            List<String> all = new ArrayList<>(List.of(target, upperdir, workdir, legacyData));
            all.addAll(lowerdirs);
            return all;
        }
        public String explain() {
            return "mount overlay on " + target + ": " + lowerdirs.size() + " image layer" + (lowerdirs.size() == 1 ? "" : "s")
                    + " (top first: " + String.join(", ", lowerdirs) + ") under the container's upper " + upperdir + " (work "
                    + workdir + ")" + (legacyData.isEmpty() ? ", with fsopen/fsconfig lowerdir+/fsmount/move_mount"
                            : ", with mount(2) and one lowerdir option (the kernel lacks lowerdir+)");
        }
    }

    /**
     * Brings the loopback interface "lo" up in the process's new network namespace, which the
     * kernel creates with it down, as runc and crun do (ioctl SIOCGIFFLAGS, then SIOCSIFFLAGS
     * with IFF_UP, on an AF_INET datagram socket). After the clone, while the process still
     * has CAP_NET_ADMIN.
     */
    record LoopbackUp() implements Step {
        public Op op() { return Op.LOOPBACK_UP; }
        public String explain() {
            return "bring the loopback interface lo up in the new network namespace (ioctl SIOCSIFFLAGS IFF_UP)";
        }
    }

    /** mknod: {@code mode} includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). */
    record MakeNode(String path, int mode, long major, long minor, long uid, long gid) implements Step {
        public Op op() { return Op.MKNOD; }
        public long[] ints() { return new long[] {mode, major, minor, uid, gid}; }
        public List<String> strings() { return List.of(path); }
        public String explain() {
            String type = switch (mode & 0170000) {
                case 0020000 -> "character device " + major + ":" + minor;
                case 0060000 -> "block device " + major + ":" + minor;
                case 0010000 -> "fifo";
                default -> "node";
            };
            return "create " + type + " " + path + " (mode " + Integer.toOctalString(mode & 07777) + ", owner " + uid + ":" + gid + ")";
        }
    }

    record Symlink(String target, String link) implements Step {
        public Op op() { return Op.SYMLINK; }
        public List<String> strings() { return List.of(target, link); }
        public String explain() { return "symlink " + link + " -> " + target; }
    }

    record PivotRoot() implements Step {
        public Op op() { return Op.PIVOT_ROOT; }
        public String explain() { return "pivot_root into the rootfs and detach the old root"; }
    }

    /**
     * Without a mount namespace of its own the container shares its caller's: pivot_root there
     * would move the host's root, so the process only changes its own root.
     */
    record Chroot() implements Step {
        public Op op() { return Op.CHROOT; }
        public String explain() { return "chroot into the rootfs (the mount namespace is the caller's: no pivot_root)"; }
    }

    record MoveRoot() implements Step {
        public Op op() { return Op.MOVE_ROOT; }
        public String explain() { return "move the rootfs mount onto / and chroot into it (no pivot_root)"; }
    }

    record Mask(String path, String nullDevice) implements Step {
        public Op op() { return Op.MASK; }
        public List<String> strings() { return List.of(path, nullDevice); }
        public String explain() { return "mask " + path + " if it exists (empty read-only tmpfs for a directory, " + nullDevice + " for a file)"; }
    }

    record SetHostname(String name) implements Step {
        public Op op() { return Op.SETHOSTNAME; }
        public List<String> strings() { return List.of(name); }
        public String explain() { return "set the hostname to \"" + name + "\""; }
    }

    record SetDomainname(String name) implements Step {
        public Op op() { return Op.SETDOMAINNAME; }
        public List<String> strings() { return List.of(name); }
        public String explain() { return "set the NIS domain name to \"" + name + "\""; }
    }

    record Sysctl(String key, String value) implements Step {
        public Op op() { return Op.SYSCTL; }
        public List<String> strings() { return List.of(key.replace('.', '/'), value); }
        public String explain() { return "write \"" + value + "\" to /proc/sys/" + key.replace('.', '/') + " (sysctl " + key + ")"; }
    }

    record Rlimit(RlimitType type, long soft, long hard) implements Step {
        public Op op() { return Op.RLIMIT; }
        public long[] ints() { return new long[] {type.resource(), soft, hard}; }
        public String explain() {
            return "set " + type + " to soft " + limit(soft) + ", hard " + limit(hard);
        }
        private static String limit(long v) { return v == -1 ? "unlimited" : Long.toUnsignedString(v); }
    }

    record Prctl(int option, long arg, String what) implements Step {
        public static final int PR_SET_KEEPCAPS = 8, PR_SET_NO_NEW_PRIVS = 38;
        public Op op() { return Op.PRCTL; }
        public long[] ints() { return new long[] {option, arg}; }
        public String explain() { return what + " (prctl)"; }
    }

    /**
     * Installs a seccomp filter compiled by {@link brig.seccomp.Compiler}: i0 the seccomp(2)
     * flags, then one instruction per integer ({@link brig.seccomp.Filter}). Every step after
     * this one runs under the filter.
     *
     * @param late whether the step comes last, after no_new_privs, rather than before the
     *     capabilities and user are dropped (for `--explain`)
     */
    record Seccomp(brig.seccomp.Filter filter, boolean late) implements Step {
        public Op op() { return Op.SECCOMP; }
        public long[] ints() {
            long[] out = new long[1 + filter.length()];
            out[0] = filter.flags();
            System.arraycopy(filter.program(), 0, out, 1, filter.length());
            return out;
        }
        public String explain() {
            return "install the seccomp filter (" + filter.summary() + ")"
                    + ((filter.flags() & brig.seccomp.Profile.FLAG_NEW_LISTENER) != 0 ? " and pass its notify listener to brig" : "")
                    + (late ? ", as late as possible with no_new_privs set"
                            : ", while still privileged: the steps below run under it");
        }
    }

    record Umask(int mask) implements Step {
        public Op op() { return Op.UMASK; }
        public long[] ints() { return new long[] {mask}; }
        public String explain() { return "set the umask to " + String.format("%04o", mask); }
    }

    /** how: DEFER (tolerate EACCES, retry after setuid) or IF_DEFERRED (that retry). */
    record Chdir(String path, int how) implements Step {
        public Op op() { return Op.CHDIR; }
        public int flags() { return how; }
        public List<String> strings() { return List.of(path); }
        public String explain() {
            if ((how & IF_DEFERRED) != 0) return "change to " + path + " as the container's user, if that was refused before";
            return "change the working directory to " + path;
        }
        public String failure(String syscall, String path, int errno) {
            // The helper's check after chdir: the directory is not under the container's root,
            // e.g. a host directory reached through an inherited fd (CVE-2024-21626).
            if (syscall.equals("getcwd") && errno == Errno.ENOENT) {
                return "process.cwd " + this.path + " is outside the container's root filesystem: refused";
            }
            return Step.super.failure(syscall, path, errno);
        }
    }

    /** Drops from the bounding set every capability up to lastCap that is not in keep. */
    record BoundingSet(long keep, int lastCap) implements Step {
        public Op op() { return Op.CAPBSET; }
        public long[] ints() { return new long[] {keep, lastCap}; }
        public String explain() {
            List<String> dropped = new ArrayList<>();
            for (Capability c : Capability.values()) {
                if (c.number() <= lastCap && (keep & (1L << c.number())) == 0) dropped.add(c.name());
            }
            return dropped.isEmpty() ? "keep the whole capability bounding set"
                    : "drop " + dropped.size() + " capabilities from the bounding set: " + String.join(" ", dropped);
        }
    }

    record SetGroups(List<Long> gids) implements Step {
        public SetGroups { gids = List.copyOf(gids); }
        public Op op() { return Op.SETGROUPS; }
        public long[] ints() { return gids.stream().mapToLong(Long::longValue).toArray(); }
        public String explain() {
            return gids.isEmpty() ? "clear the supplementary groups" : "set the supplementary groups to " + gids;
        }
    }

    record SetGid(long gid) implements Step {
        public Op op() { return Op.SETRESGID; }
        public long[] ints() { return new long[] {gid}; }
        public String explain() { return "become group " + gid + " (setresgid)"; }
    }

    record SetUid(long uid) implements Step {
        public Op op() { return Op.SETRESUID; }
        public long[] ints() { return new long[] {uid}; }
        public String explain() { return "become user " + uid + " (setresuid)"; }
    }

    record SetCapabilities(long effective, long permitted, long inheritable, long ambient) implements Step {
        public Op op() { return Op.CAPSET; }
        public long[] ints() { return new long[] {effective, permitted, inheritable, ambient}; }
        public String explain() {
            return "set capabilities: effective " + list(effective) + "; permitted " + list(permitted)
                    + "; inheritable " + list(inheritable) + "; ambient " + list(ambient);
        }
        private static String list(long mask) {
            List<String> out = new ArrayList<>();
            for (Capability c : Capability.values()) if ((mask & (1L << c.number())) != 0) out.add(c.name());
            return out.isEmpty() ? "none" : String.join(" ", out);
        }
    }

    /**
     * Opens a terminal: master sent to Brig, slave bound on {@code console} (unless ""), which
     * is created if missing and refused if it is a symlink (the bind would land where it points).
     */
    record OpenTerminal(String ptmx, String console, int rows, int cols) implements Step {
        public Op op() { return Op.PTY; }
        public long[] ints() { return new long[] {rows, cols}; }
        public List<String> strings() { return List.of(ptmx, console); }
        public String explain() {
            return "open a terminal from " + ptmx + (console.isEmpty() ? "" : ", bind it on " + console)
                    + " and pass its master to brig";
        }
        public String failure(String syscall, String path, int errno) {
            if (syscall.equals("console")) return explain() + ": " + path + " is a symlink in the rootfs: refused";
            return Step.super.failure(syscall, path, errno);
        }
    }

    /**
     * Opens {@code path} in the container (read-only, after its root is entered) as the
     * program's stdin, fd 0, in place of the caller's that the helper was given: docker's
     * stdin without -i is /dev/null.
     */
    record Stdin(String path) implements Step {
        public Op op() { return Op.STDIN; }
        public List<String> strings() { return List.of(path); }
        public String explain() { return "open " + path + " as the program's stdin (fd 0) in place of the caller's"; }
    }

    /** The process already leads its own session (see {@link Clone}). */
    record AttachTerminal() implements Step {
        public Op op() { return Op.PTY_ATTACH; }
        public String explain() { return "make the terminal the controlling tty and stdin/stdout/stderr"; }
    }

    record OpenExecFifo(String path) implements Step {
        public Op op() { return Op.OPEN_FIFO; }
        public List<String> strings() { return List.of(path); }
        public String explain() { return "open the start fifo " + path; }
    }

    record WaitStart() implements Step {
        public Op op() { return Op.WAIT_START; }
        public String explain() { return "wait for `brig start`"; }
    }

    record CloseFds(int first) implements Step {
        public Op op() { return Op.CLOSE_FDS; }
        public long[] ints() { return new long[] {first}; }
        public String explain() { return "mark every file descriptor from " + first + " up close-on-exec"; }
    }

    /** Finds the program as execvp would; the error is runc's, which engines recognise. */
    record FindExecutable(String name, List<String> candidates) implements Step {
        public FindExecutable { candidates = List.copyOf(candidates); }
        public Op op() { return Op.FIND_EXEC; }
        public List<String> strings() { return candidates; }
        public String explain() {
            return candidates.size() == 1 && candidates.get(0).equals(name) ? "check that " + name + " is an executable file"
                    : "look for " + name + " in " + String.join(":", candidates.stream()
                            .map(c -> c.substring(0, Math.max(1, c.length() - name.length() - 1))).toList());
        }
        public String failure(String syscall, String path, int errno) {
            if (errno == Errno.ENOENT && !name.contains("/")) {
                return "exec: \"" + name + "\": executable file not found in $PATH";
            }
            return "exec: \"" + name + "\": stat " + path + ": " + Errno.describe(errno);
        }
    }

    record Exec(List<String> args, List<String> env) implements Step {
        public Exec {
            args = List.copyOf(args);
            env = List.copyOf(env);
        }
        public Op op() { return Op.EXEC; }
        public long[] ints() { return new long[] {args.size()}; }
        public List<String> strings() {
            List<String> all = new ArrayList<>(args);
            all.addAll(env);
            return all;
        }
        public String explain() {
            return "execve " + args.stream().map(a -> a.contains(" ") || a.isEmpty() ? "'" + a + "'" : a)
                    .collect(Collectors.joining(" ")) + " with " + env.size() + " environment variables";
        }
        public String failure(String syscall, String path, int errno) {
            return "exec " + path + ": " + Errno.describe(errno);
        }
    }

    /**
     * Adds HOME to the program's environment: the home directory of {@code uid} in
     * /etc/passwd as the container sees it, after its mounts (an engine may bind its own
     * there), or "/". The helper opens it only if it is a regular file (a FIFO would block,
     * opening a device has side effects) and reads at most 1 MiB of it.
     */
    record LookupHome(long uid) implements Step {
        public Op op() { return Op.HOME; }
        public long[] ints() { return new long[] {uid}; }
        public String explain() {
            return "set HOME to user " + uid + "'s home directory in the container's /etc/passwd (read only if it is a"
                    + " regular file, at most 1 MiB), or to / if it is not there";
        }
    }

    /**
     * Joins a fresh session keyring named {@code name} (keyctl KEYCTL_JOIN_SESSION_KEYRING),
     * so the container does not share the caller's keys, and sets its permissions to
     * {@code perm}. A kernel without keyrings (ENOSYS) is not an error, as for runc.
     */
    record JoinKeyring(String name, int perm) implements Step {
        public Op op() { return Op.KEYRING; }
        public long[] ints() { return new long[] {perm & 0xffffffffL}; }
        public List<String> strings() { return List.of(name); }
        public String explain() {
            return "join a new session keyring " + name + " (permissions 0x" + Integer.toHexString(perm)
                    + "; skipped if the kernel has no keyrings)";
        }
    }

    /**
     * `brig exec`: joins the session keyring the container joined at create, found by its name
     * (keyctl KEYCTL_JOIN_SESSION_KEYRING; runc's exec does the same), its permissions left as
     * they are. Should it be gone, the kernel makes a new one of that name. A kernel without
     * keyrings (ENOSYS) is not an error.
     */
    record JoinContainerKeyring(String name) implements Step {
        public Op op() { return Op.KEYRING; }
        public List<String> strings() { return List.of(name); }
        public String explain() {
            return "join the container's session keyring " + name + " by its name (a new one if it is gone; skipped if the kernel has no keyrings)";
        }
    }

    /**
     * Tells Brig that the mounts are done (a {@link Await} follows, while Brig runs the
     * prestart and createRuntime hooks); the same message as {@link Ready}.
     */
    record Pause() implements Step {
        public Op op() { return Op.READY; }
        public String explain() { return "tell brig the mounts are done"; }
    }

    /** Tells Brig that everything up to here is done. */
    record Ready() implements Step {
        public Op op() { return Op.READY; }
        public String explain() { return "tell brig the container is set up"; }
    }
    /**
     * `brig exec`: joins these namespaces of a running container's first process, in this
     * order (its user namespace first when it has one of its own). The helper opens them all
     * through one fd of the host's /proc/PID on which it first checks the start time recorded
     * for the container, so a pid reused by another process is refused, not entered.
     */
    record JoinNamespacesOf(int pid, long startTime, List<NamespaceType> types, boolean cgroupAfterFork) implements Step {
        public JoinNamespacesOf { types = List.copyOf(types); }
        public Op op() { return Op.JOIN_NS; }
        /** The cgroup namespace left to the forked process ({@link Fork}): see there. */
        public int flags() { return cgroupAfterFork && types.contains(NamespaceType.CGROUP) ? CGROUP_AFTER_FORK : 0; }
        public long[] ints() {
            long[] out = new long[2 + types.size()];
            out[0] = pid;
            out[1] = startTime;
            for (int k = 0; k < types.size(); k++) out[2 + k] = types.get(k).cloneFlag();
            return out;
        }
        public List<String> strings() { return types.stream().map(NamespaceType::procName).toList(); }
        public String explain() {
            return (types.isEmpty() ? "check that the container's first process " + pid + " still runs (no namespace of its own to join)"
                    : "join the " + names(types) + " namespaces of the container's first process " + pid + ", in that order (setns)")
                    + ", through /proc/" + pid + " once its start time is checked (" + startTime + ")"
                    + (flags() != 0 ? "; the cgroup one only in the forked process" : "");
        }
        public String failure(String syscall, String path, int errno) {
            // The process is gone (or its pid is another's): the container stopped meanwhile.
            if (errno == Errno.ESRCH || (errno == Errno.ENOENT && !syscall.equals("setns"))) return "cannot exec in a stopped container";
            return Step.super.failure(syscall, path.replace("PID", Integer.toString(pid)).replaceFirst("^ns/", "/proc/" + pid + "/ns/"), errno);
        }
    }

    /**
     * A hook the container's process runs (createContainer before pivot_root, startContainer
     * right before execve): {@code path} with exactly {@code argv} and {@code env}, the
     * container's state on its stdin (state {@code state} of those Brig sends with the
     * go-ahead: 0 "creating", 1 "created"), killed with its process group after
     * {@code timeout} seconds (0: none). {@code inRoot}: it starts in the rootfs (before
     * pivot_root the helper's own directory is elsewhere). {@code label} names it in errors
     * ("hooks.startContainer[0]").
     */
    record RunHook(String label, String path, List<String> argv, List<String> env, int timeout, int state, boolean inRoot)
            implements Step {
        public RunHook {
            argv = List.copyOf(argv);
            env = List.copyOf(env);
        }
        public Op op() { return Op.HOOK; }
        public long[] ints() { return new long[] {argv.size(), timeout, state, inRoot ? 1 : 0}; }
        public List<String> strings() {
            List<String> all = new ArrayList<>(List.of(label, path));
            all.addAll(argv);
            all.addAll(env);
            return all;
        }
        public String explain() {
            return "run " + label + ": " + describe(path, argv, env, timeout) + ", the state (status "
                    + (state == 0 ? "creating" : "created") + ", pid as the container sees it) on stdin";
        }
        public String failure(String syscall, String path, int code) {
            return failure(label, this.path, syscall, code, timeout);
        }

        /** A hook in plain words: "/x/hook a b (2 environment variables, timeout 5 s)". */
        public static String describe(String path, List<String> argv, List<String> env, int timeout) {
            String args = argv.stream().skip(1).map(a -> a.contains(" ") || a.isEmpty() ? "'" + a + "'" : a)
                    .collect(Collectors.joining(" "));
            String argv0 = argv.isEmpty() || argv.get(0).equals(path) ? "" : " (argv[0] " + argv.get(0) + ")";
            return path + (args.isEmpty() ? "" : " " + args) + argv0 + " with " + env.size() + " environment variable"
                    + (env.size() == 1 ? "" : "s") + (timeout > 0 ? ", timeout " + timeout + " s" : "");
        }

        /**
         * The one line for a failed hook, whoever ran it. {@code how}: "exit" ({@code code} the
         * exit status), "signal" (the signal), "timeout", or the system call that failed
         * ({@code code} its errno).
         */
        public static String failure(String label, String path, String how, int code, int timeout) {
            String what = switch (how) {
                case "exit" -> "exit status " + code;
                case "signal" -> "killed by signal " + code;
                case "timeout" -> "still running after its timeout of " + timeout + " s (" + label + ".timeout): killed";
                default -> how + ": " + Errno.describe(code);
            };
            return label + " " + path + ": " + what;
        }
    }

    /**
     * `brig exec`: forks the process that runs the program, born in the pid namespace joined
     * before, as a child of Brig's own process (the helper exits), in a session of its own.
     */
    record Fork(String cgroup, boolean thenCgroupNs) implements Step {
        public Op op() { return Op.FORK; }
        public String explain() {
            // The container's cgroup namespace joined after the fork: the kernel checks
            // CLONE_INTO_CGROUP against the forking process's, which must still be the host's.
            return "fork the process that runs the program (in the joined pid namespace)"
                    + (cgroup.isEmpty() ? "" : ", directly into cgroup " + cgroup + " (clone3 with CLONE_INTO_CGROUP; "
                            + "where the kernel refuses it, a plain fork, and brig moves the process)")
                    + (thenCgroupNs ? ", which then joins the container's cgroup namespace (setns)" : "")
                    + ", in a session and process group of its own (setsid)";
        }
        public String failure(String syscall, String path, int errno) {
            // clone(2): ENOMEM when the pid namespace's init has exited (the container stopped meanwhile).
            if (syscall.equals("clone") && errno == Errno.ENOMEM) return "cannot exec in a stopped container";
            return Step.super.failure(syscall, path, errno);
        }
    }

    /**
     * For create with hooks at start: a fifo the process holds open (close-on-exec) from here
     * until execve, and reports a failure into after the start (a startContainer hook's);
     * `start` reads it to end of file, which comes at execve.
     */
    record OpenStartReport(String path) implements Step {
        public Op op() { return Op.OPEN_FIFO; }
        public long[] ints() { return new long[] {1}; }
        public List<String> strings() { return List.of(path); }
        public String explain() { return "open the fifo " + path + " that start reads the outcome of the start from (to end of file at execve)"; }
    }
}
