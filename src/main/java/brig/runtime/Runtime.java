package brig.runtime;

import brig.cgroups.CgroupException;
import brig.cgroups.ContainerCgroup;
import brig.cgroups.DeviceRules;
import brig.cgroups.Hierarchy;
import brig.cgroups.ResourcePlan;
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
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

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

    /**
     * A container planned but not started: nothing on the system has changed yet.
     *
     * @param resources the cgroup writes Brig makes on the host before the clone
     */
    public record Prepared(String id, Path bundle, Spec spec, Path rootfs, ContainerCgroup cgroup, ResourcePlan resources,
                           Plan plan, Planner.Mode mode) {

        /**
         * `--explain`: the host's work before the clone (the cgroup writes, in the order Brig
         * makes them once the cgroup directories exist), then the helper's steps.
         */
        public String explain() {
            StringBuilder sb = new StringBuilder();
            for (String line : resources.explain()) sb.append("host: ").append(line).append('\n');
            return sb.append(plan.explain()).toString();
        }
    }

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
        ResourcePlan resources;
        try {
            String path = spec.linux().cgroupsPath() != null ? spec.linux().cgroupsPath() : DEFAULT_CGROUP_PARENT + "/" + id;
            List<Hierarchy> hierarchies = Hierarchy.discover();
            cgroup = ContainerCgroup.resolve(hierarchies, path);
            resources = ResourcePlan.of(spec.linux().resources(), cgroup, ResourcePlan.Host.live(hierarchies));
        } catch (CgroupException e) {
            throw new CgroupException(config + ": " + e.getMessage());
        } catch (IOException e) {
            throw new CgroupException("cannot read this process's cgroups: " + e.getMessage());
        }
        Path fifo = mode == Planner.Mode.CREATE ? store.dir(id).resolve("exec.fifo") : null;
        Planner.Context ctx = new Planner.Context(bundle, rootfs, mode, o.noPivot(), o.preserveFds(), fifo,
                cgroup, lastCap());
        try {
            return new Prepared(id, bundle, spec, rootfs, cgroup, resources, Planner.plan(spec, ctx), mode);
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
     * Told before a start makes anything on the system: should this process die half-way,
     * {@code brig delete --force --start START ID} removes whatever that start made, and only
     * that (brig's supervisor runs it then).
     */
    public interface Watcher {
        void starting(String id, String start) throws SyscallException;
    }

    /** {@link #start(Prepared, int, Set, Watcher, BeforeRun)} passing on all of 3..3+keepFds-1, unwatched. */
    public Started start(Prepared p, int keepFds) throws BrigException, HelperException, CgroupException, SyscallException {
        return start(p, keepFds, null, (id, start) -> {}, pid -> {});
    }

    /** Work for the caller once the container's pid is known, before its program may run. */
    @FunctionalInterface
    public interface BeforeRun {
        void accept(int pid) throws IOException;
    }

    /**
     * Starts a prepared container: claims its id, records it, makes its cgroup, runs the
     * helper, and records the state. On any failure everything made so far is removed again.
     *
     * @param keepFds the container inherits fds 3..3+keepFds-1 ...
     * @param passedFds ... those of them in this set (the fds this process's caller really gave
     *     it), or all of them when null
     * @param beforeRun runs between recording the state and letting the container's program
     *     run (e.g. writing --pid-file, which engines read as soon as the container may run);
     *     its failure removes the container like any other
     */
    public Started start(Prepared p, int keepFds, Set<Integer> passedFds, Watcher watcher, BeforeRun beforeRun)
            throws BrigException, HelperException, CgroupException, SyscallException {
        Spec spec = p.spec();
        List<Path> cgroups = p.cgroup().dirs().stream().map(ContainerCgroup.Dir::path).toList();
        // The state is recorded with the id's claim, before anything is made, with the cgroups
        // it will make: a clean-up after a crash from here on finds all it must remove.
        List<Path> toMake = p.cgroup().toMake();
        if (spec.linux().cgroupsPath() == null) toMake = withDefaultParents(p.cgroup(), toMake);
        String start = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        ContainerState state = new ContainerState("1.2.0", p.id(), 0, 0, "creating", p.bundle(), p.rootfs(),
                Instant.now().toString(), p.spec().annotations(), cgroups, toMake, start);
        watcher.starting(p.id(), start);
        store.claim(state);
        List<Path> made = null; // null until create() succeeds: it undoes its own failures, and a cgroup it refused is not ours
        Helper h = null;
        int pid = -1, terminal = -1;
        try {
            testCrashPoint("claimed");
            made = p.cgroup().create(DeviceRules.effective(spec.linux().resources().devices(), spec.linux().devices()));
            if (spec.linux().cgroupsPath() == null) made = withDefaultParents(p.cgroup(), made);
            // Before the clone: the limits hold from the container's first instruction.
            p.cgroup().apply(p.resources().writes());
            testCrashPoint("cgroups");
            if (p.mode() == Planner.Mode.CREATE) Libc.mkfifo(store.dir(p.id()).resolve("exec.fifo").toString(), 0622);
            h = Helper.start(helper, p.plan(), keepFds, passedFds);
            pid = h.awaitPid();
            testCrashPoint("cloned");
            if (spec.linux().creates(NamespaceType.USER)) writeIdMaps(pid, spec.linux());
            p.cgroup().add(pid, h.clonedInto());
            if (spec.process().oomScoreAdj() != null) {
                writeProc(pid, "oom_score_adj", spec.process().oomScoreAdj().toString());
            }
            // Recorded before the process may run, so that others can find it from then on.
            state = new ContainerState("1.2.0", p.id(), pid, startTime(pid), "creating", p.bundle(),
                    p.rootfs(), state.created(), p.spec().annotations(), cgroups, made, start);
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
                if (made != null) {
                    // What the container forked (without a pid namespace of its own, it outlives it).
                    if (pid > 0) ContainerCgroup.kill(cgroups);
                    p.cgroup().destroy(made);
                }
            } catch (CgroupException ignored) {
                // reported failure is the original one
            }
            store.remove(p.id());
            throw e;
        }
    }

    /**
     * TEST ONLY: {@code BRIG_TEST_CRASH_AT=POINT} in brig's environment makes this JVM kill
     * itself with SIGKILL at that point of a start ("claimed", "cgroups", "cloned", and
     * "started" in `brig run`), as the OOM killer would: SupervisorSecurityIT checks that
     * nothing of the container is left. Unset, it costs one getenv.
     */
    public static void testCrashPoint(String point) {
        if (point.equals(CRASH_AT)) {
            try {
                Libc.kill((int) ProcessHandle.current().pid(), Libc.SIGKILL);
            } catch (SyscallException e) {
                java.lang.Runtime.getRuntime().halt(137);
            }
        }
    }

    private static final String CRASH_AT = System.getenv("BRIG_TEST_CRASH_AT");

    /**
     * Removes a container, as runc's delete: a stopped one (or a created one: its process is
     * killed); one still running only when forced, killing all its processes first. A
     * directory without state (a start that died before recording any) is removed too.
     */
    public void delete(String id, boolean force) throws BrigException, CgroupException {
        delete(id, force, null);
    }

    /**
     * {@link #delete(String, boolean)}; with {@code start}, forced, and only if the container is
     * the one that start made (the clean-up after a start that died: the id may have been
     * another container's all along).
     */
    public void delete(String id, boolean force, String start) throws BrigException, CgroupException {
        StateStore.checkId(id);
        if (start != null) {
            StateStore.removeDir(store.pending(id, start));
            force = true;
        }
        ContainerState s = store.read(id);
        if (start != null && (s == null || !start.equals(s.start()))) return; // not that start's
        if (s == null) {
            boolean existed = Files.isDirectory(store.dir(id));
            if (existed) store.remove(id);
            if (force) return;
            throw new BrigException("container " + id + " does not exist");
        }
        String status = status(s);
        if (!force && !status.equals("stopped") && !status.equals("created")) {
            throw new BrigException("cannot delete container " + id + " that is not stopped: " + status);
        }
        if (!status.equals("stopped")) {
            ContainerCgroup.kill(s.cgroups());
            try {
                // Not yet in its cgroup if the start died right after the clone.
                if (s.pid() > 0 && status(s).equals(status)) Libc.kill(s.pid(), Libc.SIGKILL);
            } catch (SyscallException e) {
                // gone meanwhile
            }
        }
        cleanup(s);
    }

    /**
     * The container's status as runc reports it: "stopped" once its first process has exited,
     * else what the state says ("creating" until the process exists, "created", "running").
     */
    public static String status(ContainerState s) {
        if (s.pid() <= 0) return "creating";
        try {
            String stat = Files.readString(Path.of("/proc/" + s.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (f[0].equals("Z") || f[0].equals("X") || Long.parseLong(f[19]) != s.pidStart()) return "stopped";
            return s.status();
        } catch (IOException | RuntimeException e) {
            return "stopped";
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
        List<String> args = new ArrayList<>(ContainerCgroup.cleanupArgs(s.cgroups(), s.madeCgroups()));
        Path dir = store.dir(s.id());
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) args.addAll(List.of("--unlink", f.toString()));
        } catch (IOException ignored) {
            // nothing to list
        }
        args.addAll(List.of("--rmdir", dir.toString()));
        return args;
    }

    /** Removes what a container left: its processes, its cgroups and its state. */
    void cleanup(ContainerState s) throws CgroupException {
        try {
            ContainerCgroup.kill(s.cgroups());
            ContainerCgroup.destroy(s.cgroups(), s.madeCgroups());
        } finally {
            store.remove(s.id());
        }
    }
}
