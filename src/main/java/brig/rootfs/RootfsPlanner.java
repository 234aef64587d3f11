package brig.rootfs;

import static brig.helper.MountFlags.*;

import brig.cgroups.ContainerCgroup;
import brig.helper.Step;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plans the container's filesystem: where every mount goes (/proc, /dev, /sys, the config's
 * mounts), the device nodes, pivot_root, then masked and read-only paths. All of it runs in the
 * container's new mount namespace, after / has been made a slave of the host's mounts, so
 * nothing done here can reach the host.
 */
public final class RootfsPlanner {

    /**
     * What the planner needs to know besides the spec.
     *
     * @param rootfs the rootfs on the host, absolute
     * @param bundle the bundle directory, against which relative bind sources are resolved
     * @param userNamespace the container has its own user namespace (no mknod, locked flags)
     * @param ownNetwork the container has a network namespace of its own user namespace, so it
     *     may mount sysfs
     * @param cgroup for a "cgroup" mount: the container's cgroup, one directory per hierarchy
     */
    public record Context(Path rootfs, Path bundle, boolean userNamespace, boolean ownNetwork,
                          ContainerCgroup cgroup) {}

    /** Devices every container gets (runc's set), unless the config names the same path. */
    public static final List<Spec.Device> DEFAULT_DEVICES = List.of(
            new Spec.Device("/dev/null", 'c', 1, 3, 0666, 0L, 0L),
            new Spec.Device("/dev/zero", 'c', 1, 5, 0666, 0L, 0L),
            new Spec.Device("/dev/full", 'c', 1, 7, 0666, 0L, 0L),
            new Spec.Device("/dev/random", 'c', 1, 8, 0666, 0L, 0L),
            new Spec.Device("/dev/urandom", 'c', 1, 9, 0666, 0L, 0L),
            new Spec.Device("/dev/tty", 'c', 5, 0, 0666, 0L, 0L));

    /** Files under /proc a bind mount may cover (lxcfs and the like); anything else is refused. */
    private static final Set<String> PROC_OVERRIDES = Set.of("/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",
            "/proc/stat", "/proc/swaps", "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev",
            "/proc/sys/kernel/ns_last_pid");

    private final Spec spec;
    private final Context ctx;

    public RootfsPlanner(Spec spec, Context ctx) {
        this.spec = spec;
        this.ctx = ctx;
    }

    /** Normalises a container path: absolute, no "." or ".." (".." stops at /), no double slashes. */
    public static String clean(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            if (p.equals("..")) {
                if (!parts.isEmpty()) parts.remove(parts.size() - 1);
            } else {
                parts.add(p);
            }
        }
        return "/" + String.join("/", parts);
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    /** Up to and including entering the rootfs, before pivot_root. */
    public List<Step> prepare() throws RootfsException {
        List<Step> steps = new ArrayList<>();
        String rootfs = ctx.rootfs().toString();
        Overlay overlay = Overlay.of(spec);
        if (ownMountNamespace()) {
            // Before any mount: stop propagation from this namespace back to the host.
            steps.add(new Step.Mount("", "/", "", MS_SLAVE | MS_REC, "", Step.TGT_HOST));
            // A copy-on-write rootfs (an image's layers, see Overlay) is mounted here, in the
            // container's namespace: the host never sees it and it goes when the container does.
            if (overlay != null) steps.addAll(overlay.steps(rootfs));
            // pivot_root needs the rootfs to be a mount point.
            steps.add(new Step.Mount(rootfs, rootfs, "", MS_BIND | MS_REC, "", Step.SRC_HOST | Step.TGT_HOST));
        } else if (overlay != null) {
            // It would be mounted in the caller's namespace and outlive the container there.
            throw new RootfsException("annotations", "a copy-on-write rootfs (brig.overlay.*) needs a mount namespace of the container's own");
        }
        // Else the mounts below land in the caller's namespace, under the rootfs, as the
        // runtime-spec asks of a namespace not listed; delete unmounts them (runc leaves them).
        steps.add(new Step.EnterRoot(rootfs));
        boolean devBound = false, devpts = false;
        for (int k = 0; k < spec.mounts().size(); k++) {
            Spec.Mount m = spec.mounts().get(k);
            String dest = clean(m.destination());
            MountOptions o;
            try {
                o = MountOptions.parse(m.options());
            } catch (IllegalArgumentException e) {
                throw new RootfsException("mounts[" + k + "].options", e.getMessage());
            }
            boolean bind = o.bind() || m.type().equals("bind");
            checkDestination(k, dest, bind ? "bind" : m.type());
            int first = steps.size();
            if (bind) {
                if (dest.equals("/dev")) devBound = true;
                bind(steps, k, m, dest, o);
            } else if (m.type().equals("cgroup") || m.type().equals("cgroup2")) {
                cgroup(steps, dest, o);
            } else {
                if (m.type().isEmpty()) throw new RootfsException("mounts[" + k + "].type", "required for a mount that is not a bind mount");
                if (m.type().equals("devpts") && dest.equals("/dev/pts")) devpts = true;
                if (m.type().equals("sysfs") && ctx.userNamespace() && !ctx.ownNetwork()) {
                    // The kernel lets a user namespace mount sysfs only for a network namespace
                    // it owns; otherwise bind the host's, read-only.
                    steps.add(new Step.MakeDirs(dest, 0755));
                    steps.add(new Step.Mount("/sys", dest, "", MS_BIND | MS_REC | MS_RDONLY | o.flags(), "", Step.SRC_HOST));
                } else {
                    steps.add(new Step.MakeDirs(dest, 0755));
                    steps.add(new Step.Mount(m.source().isEmpty() ? m.type() : m.source(), dest, m.type(), o.flags(), o.data(), 0));
                }
                if (o.propagation() != 0) steps.add(new Step.Mount("", dest, "", o.propagation(), "", 0));
            }
            if (dest.equals("/proc") || dest.startsWith("/proc/")) addFlag(steps, first, Step.ON_PROC);
            // The kernel's own views go where the config says, not where an image's symlink
            // points (/proc -> / would put procfs over the container's root).
            if (!bind && (m.type().equals("proc") || m.type().equals("sysfs"))) addFlag(steps, first, Step.NO_SYMLINKS);
        }
        if (!devBound) devices(steps, devpts);
        return steps;
    }

    /**
     * Adds a flag to the mount steps from {@code first} on. ON_PROC: the helper refuses a mount
     * whose target, resolved in the rootfs, is on procfs, because a rootfs symlink (/data ->
     * /proc) must not let a volume or tmpfs cover the container's /proc, which the helper and the
     * masked paths rely on; destinations checked to be /proc or under it may be there.
     */
    private static void addFlag(List<Step> steps, int first, int flag) {
        for (int k = first; k < steps.size(); k++) {
            if (steps.get(k) instanceof Step.Mount m) {
                steps.set(k, new Step.Mount(m.source(), m.target(), m.fstype(), m.mountFlags(), m.data(), m.how() | flag));
            }
        }
    }

    private void checkDestination(int k, String dest, String type) throws RootfsException {
        if (dest.equals("/")) throw new RootfsException("mounts[" + k + "].destination", "cannot mount over the container's root");
        if (dest.equals("/proc") && !type.equals("proc")) {
            throw new RootfsException("mounts[" + k + "].destination", "only a proc filesystem may be mounted on /proc");
        }
        if (dest.startsWith("/proc/") && !PROC_OVERRIDES.contains(dest)) {
            throw new RootfsException("mounts[" + k + "].destination", dest + " is inside /proc; only "
                    + String.join(", ", PROC_OVERRIDES.stream().sorted().toList()) + " may be covered");
        }
    }

    private void bind(List<Step> steps, int k, Spec.Mount m, String dest, MountOptions o) throws RootfsException {
        if (m.source().isEmpty()) throw new RootfsException("mounts[" + k + "].source", "required for a bind mount");
        Path source = ctx.bundle().resolve(m.source()).normalize();
        if (!Files.exists(source)) {
            throw new RootfsException("mounts[" + k + "].source", source + ": ENOENT: no such file or directory");
        }
        if (Files.isDirectory(source)) {
            steps.add(new Step.MakeDirs(dest, 0755));
        } else {
            steps.add(new Step.MakeDirs(parent(dest), 0755));
            steps.add(new Step.MakeFile(dest, 0644));
        }
        // One step with its flags: the helper applies them before attaching the bind, not with a
        // remount that would resolve the destination a second time (see Step.Mount).
        steps.add(new Step.Mount(source.toString(), dest, "", MS_BIND | (o.recursive() ? MS_REC : 0) | o.flags(), "",
                Step.SRC_HOST));
        if (o.propagation() != 0) steps.add(new Step.Mount("", dest, "", o.propagation(), "", 0));
    }

    /**
     * A cgroup mount shows the container its own cgroups and nothing above them: on a v1 or
     * hybrid host a tmpfs with one directory per hierarchy the container is in (the unified
     * tree as "unified"), on a pure v2 host the cgroup2 tree itself; read-only as its options say.
     *
     * <p>With a cgroup namespace of its own each is a fresh cgroup (v1, with the hierarchy's
     * controllers as options) or cgroup2 mount, made in that namespace: the kernel roots it at
     * the namespace's root, the container's cgroup, so the view agrees with /proc/self/cgroup
     * ("/"). Planner puts the unshare of the cgroup namespace after the process is placed in its
     * cgroups and before these mounts. Only in a namespace Brig made: a fresh cgroup2 mount in
     * the host's cgroup namespace (one joined by path could be it) would show the whole tree and
     * reset the host's cgroup2 mount options (nsdelegate, ...) to the defaults.
     *
     * <p>Without one, the container's cgroup directories are bound from the host; a bind's root
     * is the directory bound, so ".." from it leads to the tmpfs, never to the host's parents.
     */
    private void cgroup(List<Step> steps, String dest, MountOptions o) {
        long flags = o.flags() | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        boolean fresh = spec.linux().creates(NamespaceType.CGROUP);
        List<ContainerCgroup.Dir> dirs = ctx.cgroup().dirs();
        steps.add(new Step.MakeDirs(dest, 0755));
        if (dirs.size() == 1 && dirs.get(0).hierarchy().unified()) {
            steps.add(cgroupMount(dirs.get(0), dest, flags, fresh));
            return;
        }
        steps.add(new Step.Mount("tmpfs", dest, "tmpfs", (flags & ~MS_RDONLY), "mode=755", 0));
        for (ContainerCgroup.Dir d : dirs) {
            String name = d.hierarchy().name();
            String sub = dest + "/" + name;
            steps.add(new Step.MakeDirs(sub, 0755));
            steps.add(cgroupMount(d, sub, flags, fresh));
            // "cpu,cpuacct" is also reachable as "cpu" and "cpuacct", as on the host.
            if (name.contains(",")) {
                for (String alias : name.split(",")) {
                    if (!alias.startsWith("name=")) steps.add(new Step.Symlink(name, dest + "/" + alias));
                }
            }
        }
        if ((flags & MS_RDONLY) != 0) steps.add(new Step.Mount("", dest, "", MS_REMOUNT | flags, "mode=755", 0));
    }

    /** One hierarchy: mounted afresh in the container's cgroup namespace, or bound from the host. */
    private static Step.Mount cgroupMount(ContainerCgroup.Dir d, String target, long flags, boolean fresh) {
        if (!fresh) return new Step.Mount(d.path().toString(), target, "", MS_BIND | flags, "", Step.SRC_HOST);
        if (d.hierarchy().unified()) return new Step.Mount("cgroup2", target, "cgroup2", flags, "", 0);
        // The controllers as /proc/self/cgroup names them ("cpu,cpuacct", "name=systemd"): the
        // kernel only lets a namespace mount an existing hierarchy, named exactly.
        return new Step.Mount("cgroup", target, "cgroup", flags, d.hierarchy().controllers(), 0);
    }

    private void devices(List<Step> steps, boolean devpts) {
        Map<String, Spec.Device> all = new LinkedHashMap<>();
        for (Spec.Device d : DEFAULT_DEVICES) all.put(d.path(), d);
        for (Spec.Device d : spec.linux().devices()) all.put(clean(d.path()), d);
        for (Spec.Device d : all.values()) {
            String path = clean(d.path());
            steps.add(new Step.MakeDirs(parent(path), 0755));
            if (ctx.userNamespace()) {
                // A user namespace cannot mknod: bind the host's node instead.
                steps.add(new Step.MakeFile(path, 0));
                steps.add(new Step.Mount(d.path(), path, "", MS_BIND, "", Step.SRC_HOST));
            } else {
                int type = switch (d.type()) {
                    case 'b' -> 0060000;
                    case 'p' -> 0010000;
                    default -> 0020000;
                };
                int mode = d.fileMode() != null ? d.fileMode() : 0666;
                steps.add(new Step.MakeNode(path, type | mode, d.major(), d.minor(),
                        d.uid() != null ? d.uid() : 0, d.gid() != null ? d.gid() : 0));
            }
        }
        steps.add(new Step.Symlink("/proc/self/fd", "/dev/fd"));
        steps.add(new Step.Symlink("/proc/self/fd/0", "/dev/stdin"));
        steps.add(new Step.Symlink("/proc/self/fd/1", "/dev/stdout"));
        steps.add(new Step.Symlink("/proc/self/fd/2", "/dev/stderr"));
        if (devpts) steps.add(new Step.Symlink("pts/ptmx", "/dev/ptmx"));
    }

    /** Switches the root: pivot_root, or with --no-pivot a move and chroot. */
    public Step enter(boolean noPivot) {
        if (!ownMountNamespace()) return new Step.Chroot();
        return noPivot ? new Step.MoveRoot() : new Step.PivotRoot();
    }

    /** False when linux.namespaces lists no mount namespace: the container shares its caller's. */
    private boolean ownMountNamespace() {
        return spec.linux().has(brig.spec.NamespaceType.MOUNT);
    }

    /** After the switch: root propagation, read-only and masked paths, a read-only root. */
    public List<Step> finish() {
        List<Step> steps = new ArrayList<>();
        String p = spec.linux().rootfsPropagation();
        if (!p.isEmpty()) {
            MountOptions o = MountOptions.parse(List.of(p));
            steps.add(new Step.Mount("", "/", "", o.propagation(), "", Step.TGT_HOST));
        }
        for (String path : spec.linux().readonlyPaths()) {
            String c = clean(path);
            // Making a path read-only only takes away, wherever it leads: it may be on procfs.
            steps.add(new Step.Mount(c, c, "", MS_BIND | MS_REC | MS_RDONLY, "", Step.SRC_ROOT | Step.OPTIONAL | Step.ON_PROC));
        }
        for (String path : spec.linux().maskedPaths()) steps.add(new Step.Mask(clean(path), "/dev/null"));
        if (spec.root().readonly()) {
            steps.add(new Step.Mount("", "/", "", MS_BIND | MS_REMOUNT | MS_RDONLY, "", Step.TGT_HOST | Step.KEEP_LOCKED));
        }
        return steps;
    }
}
