package brig.runtime;

import brig.cgroups.CgroupException;
import brig.cgroups.ContainerCgroup;
import brig.cgroups.DeviceRules;
import brig.cgroups.Hierarchy;
import brig.helper.Helper;
import brig.helper.HelperException;
import brig.helper.Plan;
import brig.rootfs.RootfsException;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import brig.spec.SpecException;
import brig.spec.SpecReader;
import brig.spec.SpecValidator;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Brig as a library: prepares containers from OCI bundles and starts them. The CLI is a thin
 * layer over this class.
 *
 * <pre>{@code
 * Runtime rt = new Runtime(Path.of("/run/brig"), Path.of("/opt/brig/libexec/brig-helper"));
 * Runtime.Prepared p = rt.prepare("web", new Runtime.Options(Path.of("/srv/bundle"), false, 0), Planner.Mode.RUN);
 * System.out.print(p.plan().explain());
 * int status = rt.start(p).waitFor();
 * }</pre>
 */
public final class Runtime {
    private final StateStore store;
    private final Path helper;

    public Runtime(Path stateRoot, Path helperBinary) {
        this.store = new StateStore(stateRoot);
        this.helper = helperBinary;
    }

    public StateStore store() { return store; }

    /**
     * Where containers without a linux.cgroupsPath go. It is Brig's own, so whichever of its
     * containers leaves last removes it, whoever made it.
     */
    static final String DEFAULT_CGROUP_PARENT = "/brig";

    /**
     * @param bundle the bundle directory (config.json and, usually, rootfs)
     * @param noPivot enter the rootfs with a move and chroot instead of pivot_root
     * @param preserveFds how many fds from 3 up the container inherits
     */
    public record Options(Path bundle, boolean noPivot, int preserveFds) {}

    /** A container planned but not started: nothing on the system has changed yet. */
    public record Prepared(String id, Path bundle, Spec spec, Path rootfs, ContainerCgroup cgroup, Plan plan,
                           Planner.Mode mode) {}

    /** Reads and checks the bundle and plans the container; changes nothing. */
    public Prepared prepare(String id, Options o, Planner.Mode mode)
            throws BrigException, SpecException, RootfsException, CgroupException {
        StateStore.checkId(id);
        Path bundle = o.bundle().toAbsolutePath().normalize();
        Path config = bundle.resolve("config.json");
        Spec spec = SpecReader.read(config);
        SpecValidator.validateForLaunch(spec, config);
        Path rootfs = bundle.resolve(spec.root().path()).normalize();
        if (!Files.isDirectory(rootfs)) {
            throw new SpecException(config, "root.path", "root.path: " + rootfs
                    + (Files.exists(rootfs) ? ": ENOTDIR: not a directory" : ": ENOENT: no such file or directory"));
        }
        ContainerCgroup cgroup;
        try {
            String path = spec.linux().cgroupsPath() != null ? spec.linux().cgroupsPath() : DEFAULT_CGROUP_PARENT + "/" + id;
            cgroup = ContainerCgroup.resolve(Hierarchy.discover(), path);
        } catch (CgroupException e) {
            throw new CgroupException(config + ": " + e.getMessage());
        } catch (IOException e) {
            throw new CgroupException("cannot read this process's cgroups: " + e.getMessage());
        }
        Path fifo = mode == Planner.Mode.CREATE ? store.dir(id).resolve("exec.fifo") : null;
        Planner.Context ctx = new Planner.Context(bundle, rootfs, mode, o.noPivot(), o.preserveFds(), fifo,
                cgroup.mountDirs(), lastCap());
        try {
            return new Prepared(id, bundle, spec, rootfs, cgroup, Planner.plan(spec, ctx), mode);
        } catch (RootfsException e) {
            throw new SpecException(config, e.field(), e.getMessage());
        }
    }

    /** The highest capability number this kernel knows. */
    static int lastCap() {
        try {
            return Integer.parseInt(brig.syscalls.ProcFs.read("/proc/sys/kernel/cap_last_cap").trim());
        } catch (IOException | NumberFormatException e) {
            return brig.spec.Capability.values().length - 1;
        }
    }

    /**
     * Starts a prepared container: claims its id, makes its cgroup, runs the helper, and
     * records the state. On any failure everything made so far is removed again.
     */
    public Started start(Prepared p, int keepFds) throws BrigException, HelperException, CgroupException, SyscallException {
        return start(p, keepFds, pid -> {});
    }

    /** Work for the caller once the container's pid is known, before its program may run. */
    @FunctionalInterface
    public interface BeforeRun {
        void accept(int pid) throws IOException;
    }

    /**
     * As {@link #start(Prepared, int)}, running {@code beforeRun} (e.g. writing --pid-file, which
     * engines read as soon as the container may run) between recording the state and letting
     * the container's program run; its failure removes the container like any other.
     */
    public Started start(Prepared p, int keepFds, BeforeRun beforeRun)
            throws BrigException, HelperException, CgroupException, SyscallException {
        store.claim(p.id());
        List<Path> made = null; // null until create() succeeds: it undoes its own failures, and a cgroup it refused is not ours
        Helper h = null;
        int pid = -1, terminal = -1;
        try {
            Spec spec = p.spec();
            made = p.cgroup().create(DeviceRules.effective(spec.linux().resources().devices(), spec.linux().devices()));
            if (spec.linux().cgroupsPath() == null) made = withDefaultParents(p.cgroup(), made);
            if (p.mode() == Planner.Mode.CREATE) Libc.mkfifo(store.dir(p.id()).resolve("exec.fifo").toString(), 0622);
            h = Helper.start(helper, p.plan(), keepFds);
            pid = h.awaitPid();
            if (spec.linux().creates(NamespaceType.USER)) writeIdMaps(pid, spec.linux());
            p.cgroup().add(pid);
            if (spec.process().oomScoreAdj() != null) {
                writeProc(pid, "oom_score_adj", spec.process().oomScoreAdj().toString());
            }
            // Recorded before the process may run, so that others can find it from then on.
            ContainerState state = new ContainerState("1.2.0", p.id(), pid, startTime(pid), "creating", p.bundle(),
                    p.rootfs(), Instant.now().toString(), p.spec().annotations(),
                    p.cgroup().dirs().stream().map(ContainerCgroup.Dir::path).toList(), made);
            store.write(state);
            try {
                beforeRun.accept(pid);
            } catch (IOException e) {
                throw new BrigException(e.getMessage(), e);
            }
            h.go();
            // Plain instanceof: a pattern switch bootstraps a class at run time, in every run.
            while (true) {
                Helper.Event e = h.next();
                if (e instanceof Helper.Event.Terminal t) {
                    terminal = t.masterFd();
                } else if (e instanceof Helper.Event.Executed || p.mode() == Planner.Mode.CREATE) {
                    break;
                }
            }
            h.close();
            state = state.withStatus(p.mode() == Planner.Mode.CREATE ? "created" : "running");
            store.write(state);
            return new Started(this, state, h, terminal);
        } catch (BrigException | HelperException | CgroupException | SyscallException | RuntimeException e) {
            if (pid > 0) {
                Libc.kill(pid, Libc.SIGKILL);
                Libc.waitpid(pid, 0);
            }
            if (h != null) h.release();
            Libc.close(terminal);
            try {
                if (made != null) p.cgroup().destroy(made);
            } catch (CgroupException ignored) {
                // reported failure is the original one
            }
            store.remove(p.id());
            throw e;
        }
    }

    /** The made directories, with the default parent of each hierarchy first. */
    private static List<Path> withDefaultParents(ContainerCgroup cgroup, List<Path> made) {
        List<Path> out = new ArrayList<>();
        for (ContainerCgroup.Dir d : cgroup.dirs()) {
            Path parent = d.path().getParent();
            if (!made.contains(parent)) out.add(parent);
        }
        out.addAll(made);
        return out;
    }

    private static void writeIdMaps(int pid, Spec.Linux l) throws SyscallException {
        writeProc(pid, "uid_map", mapText(l.uidMappings()));
        writeProc(pid, "gid_map", mapText(l.gidMappings()));
    }

    private static String mapText(List<Spec.IdMapping> maps) {
        StringBuilder sb = new StringBuilder();
        for (Spec.IdMapping m : maps) sb.append(m.containerID()).append(' ').append(m.hostID()).append(' ').append(m.size()).append('\n');
        return sb.toString();
    }

    /** One write(2) to /proc/PID/name, as id maps need. */
    private static void writeProc(int pid, String name, String value) throws SyscallException {
        String path = "/proc/" + pid + "/" + name;
        int fd = Libc.open(path, Libc.O_WRONLY, 0);
        try {
            Libc.writeFully(fd, value.getBytes(StandardCharsets.UTF_8));
        } finally {
            Libc.close(fd);
        }
    }

    /** Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. */
    static long startTime(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** What the run's clean-up must do once the container has exited, as the supervisor's arguments. */
    List<String> cleanupArgs(ContainerState s) {
        List<String> args = new ArrayList<>();
        if (!s.cgroups().isEmpty()) args.addAll(List.of("--kill", s.cgroups().get(0).resolve("cgroup.procs").toString()));
        for (Path d : s.cgroups()) args.addAll(List.of("--rmdir", d.toString()));
        for (int k = s.madeCgroups().size() - 1; k >= 0; k--) {
            Path d = s.madeCgroups().get(k);
            if (!s.cgroups().contains(d)) args.addAll(List.of("--prune", d.toString()));
        }
        Path dir = store.dir(s.id());
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) args.addAll(List.of("--unlink", f.toString()));
        } catch (IOException ignored) {
            // nothing to list
        }
        args.addAll(List.of("--rmdir", dir.toString()));
        return args;
    }

    /** Removes what a container left: its cgroups and its state. */
    void cleanup(ContainerState s) throws CgroupException {
        try {
            ContainerCgroup.destroy(s.cgroups(), s.madeCgroups());
        } finally {
            store.remove(s.id());
        }
    }
}
