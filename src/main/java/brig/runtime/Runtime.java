package brig.runtime;

import brig.cgroups.CgroupException;
import brig.cgroups.CgroupLimits;
import brig.cgroups.ContainerCgroup;
import brig.cgroups.Hierarchy;
import brig.cgroups.OomWatch;
import brig.cgroups.ResourcePlan;
import brig.helper.Helper;
import brig.helper.HelperException;
import brig.helper.Plan;
import brig.rootfs.RootfsException;
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
    private final Helper.Launcher helper;
    private final java.util.function.Consumer<String> warn;
    private final Hooks.Output hookOutput;

    /** A runtime whose warnings (a failed poststart or poststop hook) and hook output are dropped. */
    public Runtime(Path stateRoot, Path helperBinary) {
        this(stateRoot, helperBinary, w -> {});
    }

    /** @param warn told each warning, one line (a poststart or poststop hook that failed); hook output is dropped */
    public Runtime(Path stateRoot, Path helperBinary, java.util.function.Consumer<String> warn) {
        this(stateRoot, helperBinary, warn, Hooks.Output.DISCARD);
    }

    /** @param hookOutput where the stdout and stderr of hooks run on the host go */
    public Runtime(Path stateRoot, Path helperBinary, java.util.function.Consumer<String> warn, Hooks.Output hookOutput) {
        this(stateRoot, Helper.Launcher.of(helperBinary), warn, hookOutput);
    }

    /** A runtime whose helper processes {@code launcher} starts (the caller's process, for a resident server). */
    public Runtime(Path stateRoot, Helper.Launcher launcher) {
        this(stateRoot, launcher, w -> {}, Hooks.Output.DISCARD);
    }

    /** @param launcher starts the helper processes (see {@link Helper.Launcher}) */
    public Runtime(Path stateRoot, Helper.Launcher launcher, java.util.function.Consumer<String> warn, Hooks.Output hookOutput) {
        this.store = new StateStore(stateRoot);
        this.helper = launcher;
        this.warn = warn;
        this.hookOutput = hookOutput;
    }

    public StateStore store() { return store; }

    /**
     * Where containers without a linux.cgroupsPath go. It is Brig's own, so whichever of its
     * containers leaves last removes it, whoever made it.
     */
    static final String DEFAULT_CGROUP_PARENT = "/brig";

    /**
     * Whether this process leaves the default parents in place when its containers go (a
     * resident server: it removes them when it exits, {@link #removeDefaultParents}). Measured:
     * making and removing /brig in each of 12 hierarchies, with its cpuset copied, took ~0.5 ms
     * of a 9 ms warm run. A process-wide choice: that of the process hosting the runtime.
     */
    private static volatile boolean keepDefaultParents;

    public static void keepDefaultParents(boolean keep) {
        keepDefaultParents = keep;
    }

    /**
     * Removes the default parent of every hierarchy where it is empty (containers, made by
     * anyone, keep theirs: EBUSY). Returns what went wrong otherwise, a line each, for a log.
     */
    public static List<String> removeDefaultParents() {
        List<String> failed = new ArrayList<>();
        try {
            for (brig.cgroups.Hierarchy h : brig.cgroups.Hierarchy.discover()) {
                Path dir = h.mountPoint().resolve(DEFAULT_CGROUP_PARENT.substring(1));
                try {
                    Files.deleteIfExists(dir);
                } catch (java.nio.file.DirectoryNotEmptyException e) {
                    // a container's cgroup is in it
                } catch (java.nio.file.FileSystemException e) {
                    if (!String.valueOf(e.getReason()).contains("busy")) failed.add("cgroup: cannot remove " + dir + ": " + e);
                } catch (IOException e) {
                    failed.add("cgroup: cannot remove " + dir + ": " + e);
                }
            }
        } catch (IOException e) {
            failed.add("cgroup: cannot read this process's cgroups: " + e);
        }
        return failed;
    }

    /**
     * @param bundle the bundle directory (config.json and, usually, rootfs)
     * @param noPivot enter the rootfs with a move and chroot instead of pivot_root
     * @param preserveFds how many fds the container inherits after the listen fds
     * @param listenFds how many socket-activation fds (from 3 up) the container inherits first,
     *     announced to it as LISTEN_FDS with LISTEN_PID=1; the caller decides whether they were
     *     meant for the runtime (brig.cli: LISTEN_PID is the caller's pid)
     * @param noNewKeyring keep the caller's session keyring instead of a fresh "_ses.ID"
     */
    public record Options(Path bundle, boolean noPivot, int preserveFds, int listenFds, boolean noNewKeyring, long caller,
                          String notifySocket) {
        public Options(Path bundle, boolean noPivot, int preserveFds) {
            this(bundle, noPivot, preserveFds, 0, false);
        }

        public Options(Path bundle, boolean noPivot, int preserveFds, int listenFds, boolean noNewKeyring) {
            this(bundle, noPivot, preserveFds, listenFds, noNewKeyring, 0, null);
        }

        /**
         * The container gets a notify socket of its own ({@link Notify}) when the caller has
         * NOTIFY_SOCKET ({@code address}, see {@link Notify#address}; null: none).
         */
        public Options withNotifySocket(String address) {
            return new Options(bundle, noPivot, preserveFds, listenFds, noNewKeyring, caller, address);
        }

        /**
         * A relative linux.cgroupsPath lies below the cgroups of process {@code pid} (the
         * caller's, as runc's lies below its own, a child of the caller's: for a resident
         * server that is not its own cgroup); 0: this process's.
         */
        public Options withCaller(long pid) {
            return new Options(bundle, noPivot, preserveFds, listenFds, noNewKeyring, pid, notifySocket);
        }

        /** Every fd from 3 up the container inherits: the listen fds, then the preserved ones. */
        public int keepFds() {
            return listenFds + preserveFds;
        }
    }

    /**
     * A container planned but not started: nothing on the system has changed yet.
     *
     * @param resources linux.resources as cgroup writes (they are among the host steps)
     * @param host Brig's own work on the host, in order: {@link #start} executes this list
     * @param plan the helper's steps
     * @param created what the container keeps of its config for `exec` (see {@link CreatedWith}), or null to keep nothing
     */
    public record Prepared(String id, Path bundle, Spec spec, Path rootfs, ContainerCgroup cgroup, ResourcePlan resources,
                           List<HostStep> host, Plan plan, Planner.Mode mode, CreatedWith created) {
        public Prepared {
            host = List.copyOf(host);
        }

        /** A container that keeps nothing of its config for `exec` (its exec'd processes then start from the bundle's). */
        public Prepared(String id, Path bundle, Spec spec, Path rootfs, ContainerCgroup cgroup, ResourcePlan resources,
                        List<HostStep> host, Plan plan, Planner.Mode mode) {
            this(id, bundle, spec, rootfs, cgroup, resources, host, plan, mode, null);
        }

        /**
         * `--explain`: every step in the order it happens. The host steps before the clone
         * ("host: "), the fields linux.resources ignores, the helper's numbered steps, and
         * the host steps after the clone ("host after clone: ") right after the helper's wait
         * for them, those after the mounts (hooks) after the wait that follows the
         * {@link brig.helper.Step.Pause}, and those after execve and at delete at the end.
         */
        public String explain() {
            StringBuilder sb = new StringBuilder();
            phase(sb, HostStep.Phase.BEFORE_CLONE);
            for (String i : resources.ignored()) sb.append("host: ignored: ").append(i).append('\n');
            List<String> lines = plan.explain().lines().toList();
            // By type, not indexOf: a record's first equals spins method-handle classes (ms, cold).
            int await = -1, pause = -1;
            for (int k = 0; k < plan.steps().size(); k++) {
                if (await < 0 && plan.steps().get(k) instanceof brig.helper.Step.Await) await = k;
                if (plan.steps().get(k) instanceof brig.helper.Step.Pause) pause = k;
            }
            for (int k = 0; k < lines.size(); k++) {
                sb.append(lines.get(k)).append('\n');
                if (k == await) phase(sb, HostStep.Phase.AFTER_CLONE);
                if (pause >= 0 && k == pause + 1) phase(sb, HostStep.Phase.AFTER_MOUNTS);
            }
            phase(sb, HostStep.Phase.AFTER_EXEC);
            phase(sb, HostStep.Phase.AFTER_DELETE);
            return sb.toString();
        }

        private void phase(StringBuilder sb, HostStep.Phase phase) {
            for (HostStep s : host) if (s.phase() == phase) sb.append(phase.prefix).append(s.explain()).append('\n');
        }
    }

    /** Reads and checks the bundle and plans the container; changes nothing. */
    public Prepared prepare(String id, Options o, Planner.Mode mode)
            throws BrigException, SpecException, RootfsException, CgroupException {
        StateStore.checkId(id);
        Path bundle = o.bundle().toAbsolutePath().normalize();
        Path config = bundle.resolve("config.json");
        com.google.gson.JsonObject json = SpecReader.readJson(config);
        Spec spec = SpecReader.parse(config, json);
        SpecValidator.validateForLaunch(spec, config, mode == Planner.Mode.CREATE);
        if (spec.process() == null) spec = spec.withProcess(Spec.NO_PROCESS); // create only: start refuses it
        refuseOwnMountNamespace(spec, config);
        Path rootfs = bundle.resolve(spec.root().path()).normalize();
        if (!Files.isDirectory(rootfs)) {
            throw new SpecException(config, "root.path", "root.path: " + rootfs
                    + (Files.exists(rootfs) ? ": ENOTDIR: not a directory" : ": ENOENT: no such file or directory"));
        }
        ContainerCgroup cgroup;
        ResourcePlan resources;
        try {
            String path = spec.linux().cgroupsPath() != null ? spec.linux().cgroupsPath() : DEFAULT_CGROUP_PARENT + "/" + id;
            List<Hierarchy> hierarchies = Hierarchy.discover(o.caller());
            cgroup = ContainerCgroup.resolve(hierarchies, path);
            resources = ResourcePlan.of(spec.linux().resources(), cgroup, ResourcePlan.Host.live(hierarchies));
        } catch (CgroupException e) {
            throw new CgroupException(config + ": " + e.getMessage());
        } catch (IOException e) {
            throw new CgroupException("cannot read this process's cgroups: " + e.getMessage());
        }
        Path fifo = mode == Planner.Mode.CREATE ? store.dir(id).resolve("exec.fifo") : null;
        String keyring = o.noNewKeyring() ? null : sessionKeyring(id);
        Path notifyDir = o.notifySocket() == null ? null : Notify.dir(store.dir(id));
        Planner.Context ctx = new Planner.Context(bundle, rootfs, mode, o.noPivot(), o.preserveFds(), fifo,
                cgroup, lastCap(), o.listenFds(), keyring, notifyDir);
        List<HostStep> host = Planner.host(spec, cgroup, resources, spec.linux().cgroupsPath() == null, fifo);
        if (notifyDir != null) { // before the clone: the helper's mounts may run before its wait
            host = new ArrayList<>(host);
            host.add(1, new HostStep.MakeNotifyDir(notifyDir));
        }
        try {
            return new Prepared(id, bundle, spec, rootfs, cgroup, resources, host, Planner.plan(spec, ctx, host), mode,
                    new CreatedWith(brig.json.Json.compact(json), keyring));
        } catch (RootfsException e) {
            throw new SpecException(config, e.field(), e.getMessage());
        }
    }

    /** The session keyring a container joins, by runc's name: its exec'd processes find it by that name. */
    static String sessionKeyring(String id) {
        return "_ses." + id;
    }

    /**
     * A mount namespace joined by path gets the container's mounts and its pivot_root, which
     * moves the root of every process in that namespace: never the one brig itself runs in
     * (runc does it, and so re-roots the host).
     */
    static void refuseOwnMountNamespace(Spec spec, Path config) throws SpecException {
        for (Spec.Namespace n : spec.linux().namespaces()) {
            if (n.type() != brig.spec.NamespaceType.MOUNT || n.path() == null) continue;
            String field = "linux.namespaces[" + spec.linux().namespaces().indexOf(n) + "].path";
            try {
                Object joined = Files.readAttributes(Path.of(n.path()), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
                Object own = Files.readAttributes(Path.of("/proc/self/ns/mnt"), java.nio.file.attribute.BasicFileAttributes.class).fileKey();
                if (joined != null && joined.equals(own)) {
                    throw new SpecException(config, field, field + ": " + n.path()
                            + " is the runtime's own mount namespace: the container's root would replace the host's");
                }
            } catch (java.nio.file.NoSuchFileException e) {
                throw new SpecException(config, field, field + ": " + n.path() + ": ENOENT: no such file or directory");
            } catch (IOException e) {
                throw new SpecException(config, field, field + ": " + n.path() + ": " + e.getMessage());
            }
        }
    }

    /** Marks a container that shares its caller's mount namespace: its mounts are under the rootfs there. */
    private static final String SHARED_MOUNTS = "shares-mount-namespace";

    private void markSharedMounts(String id) throws BrigException {
        try {
            Files.writeString(store.dir(id).resolve(SHARED_MOUNTS), "");
        } catch (IOException e) {
            throw new BrigException("cannot write " + store.dir(id).resolve(SHARED_MOUNTS) + ": " + e.getMessage(), e);
        }
    }

    /**
     * For a container that shared its caller's mount namespace: detaches every mount below its
     * rootfs (not the rootfs itself, which an engine may have mounted), deepest first, as seen
     * from this process's namespace (the one create ran in). runc leaves them mounted.
     */
    private void unmountShared(String id, Path rootfs) {
        if (!Files.exists(store.dir(id).resolve(SHARED_MOUNTS))) return;
        List<String> under = new ArrayList<>();
        try {
            rootfs = rootfs.toRealPath(); // mountinfo names mount points by their real paths
        } catch (IOException e) {
            // gone: look for it as it was named
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String point = unescapeMountinfo(line.split(" ")[4]);
                if (point.startsWith(rootfs + "/")) under.add(point);
            }
        } catch (IOException | RuntimeException e) {
            warn.accept("cannot read /proc/self/mountinfo to unmount below " + rootfs + ": " + e.getMessage());
            return;
        }
        under.sort(java.util.Comparator.comparingInt(String::length).reversed());
        for (String point : under) {
            try {
                Libc.umount2(point, Libc.MNT_DETACH);
            } catch (SyscallException e) {
                if (e.errno() != brig.syscalls.Errno.EINVAL && e.errno() != brig.syscalls.Errno.ENOENT) warn.accept(e.getMessage());
            }
        }
    }

    /** mountinfo writes space, tab, newline and backslash as octal escapes. */
    static String unescapeMountinfo(String s) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < s.length(); k++) {
            char ch = s.charAt(k);
            if (ch == '\\' && k + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(k + 1, k + 4), 8));
                    k += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape
                }
            }
            b.append(ch);
        }
        return b.toString();
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
        if (spec.linux().cgroupsPath() == null) {
            toMake = keepDefaultParents ? withoutDefaultParents(p.cgroup(), toMake) : withDefaultParents(p.cgroup(), toMake);
        }
        String start = Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE);
        ContainerState state = new ContainerState("1.2.0", p.id(), 0, 0, "creating", p.bundle(), p.rootfs(),
                brig.json.Rfc3339.now(), p.spec().annotations(), cgroups, toMake, start, spec.hooks());
        watcher.starting(p.id(), start);
        StateStore.Lock lock = store.claim(state); // held until the container is made or removed again
        // Read under the lock, so surely this start's directory: the run's supervisor removes
        // nothing unless the directory is still this one (Teardown).
        long[] dirId = dirIdentity(store.dir(p.id()));
        Done done = new Done();
        Helper h = null;
        int pid = -1, terminal = -1;
        try {
            if (p.created() != null) store.writeCreated(p.id(), p.created());
            if (!spec.linux().has(brig.spec.NamespaceType.MOUNT)) markSharedMounts(p.id());
            testCrashPoint("claimed");
            // Before the clone: the limits hold from the container's first instruction.
            for (HostStep s : p.host()) if (s.phase() == HostStep.Phase.BEFORE_CLONE) execute(s, -1, done);
            testCrashPoint("cgroups");
            h = Helper.start(helper, p.plan(), keepFds, passedFds);
            pid = h.awaitPid();
            testCrashPoint("cloned");
            done.clonedInto = h.clonedInto();
            try {
                for (HostStep s : p.host()) if (s.phase() == HostStep.Phase.AFTER_CLONE) execute(s, pid, done);
                // Recorded before the process may run its program, so that others can find it from then on.
                state = new ContainerState("1.2.0", p.id(), pid, startTime(pid), "creating", p.bundle(),
                        p.rootfs(), state.created(), p.spec().annotations(), cgroups, done.made, start, spec.hooks());
                store.write(state);
                done.state = state;
                try {
                    beforeRun.accept(pid);
                } catch (IOException e) {
                    throw new BrigException(e.getMessage(), e);
                }
                h.go(Hooks.containerStates(state, spec.hooks()));
            } catch (BrigException | CgroupException | SyscallException | RuntimeException e) {
                // The process may have failed one of its own steps meanwhile (its wait comes
                // late, Planner.plan): its pid is gone, and its error says why.
                HelperException first = h.failedMeanwhile();
                if (first != null) throw first;
                throw e;
            }
            boolean pause = p.plan().find(brig.helper.Step.Pause.class) != null;
            // Plain instanceof: a pattern switch bootstraps a class at run time, in every run.
            while (true) {
                Helper.Event e = h.next();
                if (e instanceof Helper.Event.Terminal t) {
                    terminal = t.masterFd();
                } else if (e instanceof Helper.Event.SeccompListener l) { // the process waits until the agent has it
                    notifyAgent(spec.linux().seccomp(), state, pid, l.fd());
                    h.go();
                } else if (e instanceof Helper.Event.Ready && pause) { // the mounts are done: prestart, createRuntime
                    pause = false;
                    for (HostStep s : p.host()) if (s.phase() == HostStep.Phase.AFTER_MOUNTS) execute(s, pid, done);
                    h.go();
                } else if (e instanceof Helper.Event.Executed || p.mode() == Planner.Mode.CREATE) {
                    break;
                }
            }
            h.close();
            state = state.withStatus(p.mode() == Planner.Mode.CREATE ? "created" : "running");
            store.write(state);
            if (p.mode() == Planner.Mode.RUN) Hooks.runWarned(Hooks.Kind.POSTSTART, state, warn, hookOutput);
            return new Started(this, state, h, terminal, done.oomCounter, done.oomBaseline, oomMessage(p), dirId);
        } catch (BrigException | HelperException | CgroupException | SyscallException | RuntimeException e) {
            if (pid > 0) {
                Libc.kill(pid, Libc.SIGKILL);
                Libc.awaitExit(pid); // a resident server's container is its caller's child
            }
            if (h != null) h.release();
            Libc.close(terminal);
            try {
                if (done.made != null) {
                    // What the container forked (without a pid namespace of its own, it outlives it).
                    if (pid > 0) ContainerCgroup.kill(cgroups);
                    p.cgroup().destroy(done.made);
                }
            } catch (CgroupException ignored) {
                // reported failure is the original one
            }
            unmountShared(p.id(), p.rootfs());
            store.remove(p.id());
            // The lifecycle goes on at its end, as after a delete (runtime-spec, "Lifecycle").
            if (pid > 0) Hooks.runWarned(Hooks.Kind.POSTSTOP, state, warn, hookOutput);
            if (e instanceof HelperException he && he.step() instanceof brig.helper.Step.RunHook r) throw Hooks.of(he, r);
            throw e;
        } finally {
            lock.close();
        }
    }

    /**
     * Sends a seccomp notify listener to the profile's agent with the container process state
     * ({@code pid}'s, the container's status "creating", as runc sends it), then closes it here:
     * the agent holds it from then on. runtime-spec: a failed send is an error.
     */
    static void notifyAgent(brig.seccomp.Profile profile, ContainerState state, int pid, int listener) throws BrigException {
        try {
            // runtime-spec's State: `state`'s JSON without brig's rootfs, created and owner.
            com.google.gson.JsonObject s = state.toPublicJson();
            s.remove("rootfs");
            s.remove("created");
            s.remove("owner");
            brig.seccomp.Agent.send(profile.listenerPath(),
                    brig.seccomp.Agent.processState(state.ociVersion(), pid, profile.listenerMetadata(), s), listener);
        } catch (SyscallException e) {
            throw new BrigException("linux.seccomp.listenerPath: cannot send the seccomp notify listener to the agent: "
                    + e.getMessage(), e);
        } finally {
            Libc.close(listener);
        }
    }

    /** What the host steps of a start have made and read so far. */
    private static final class Done {
        /** Null until the cgroups are made: making them undoes its own failures, and a cgroup it refused is not ours. */
        List<Path> made;
        Path oomCounter;
        long oomBaseline = -1;
        /** The cgroup2 directory the clone created the process in already (CLONE_INTO_CGROUP), or null. */
        Path clonedInto;
        /** The state hooks get, once the process exists. */
        ContainerState state;
    }

    /**
     * The one executor of {@link HostStep}s. {@code pid} is the container's first process
     * (-1 before the clone). Plain instanceof, not a pattern switch: that bootstraps a class
     * at run time, in every run (measured: +3.5 ms at start-up with C1 only).
     */
    private void execute(HostStep step, int pid, Done done) throws CgroupException, SyscallException, BrigException {
        if (step instanceof HostStep.MakeCgroups m) {
            List<Path> made = m.cgroup().create();
            done.made = !m.brigParent() ? made : keepDefaultParents ? withoutDefaultParents(m.cgroup(), made) : withDefaultParents(m.cgroup(), made);
        } else if (step instanceof HostStep.SetDevices d) {
            d.cgroup().applyDevices(d.rules());
        } else if (step instanceof HostStep.WriteCgroup w) {
            w.cgroup().apply(List.of(w.write()));
        } else if (step instanceof HostStep.ReadOomKills r) {
            if (Files.exists(r.counter())) {
                done.oomBaseline = OomWatch.kills(r.counter());
                done.oomCounter = r.counter();
            }
        } else if (step instanceof HostStep.MakeExecFifo f) {
            Libc.mkfifo(f.fifo().toString(), 0622);
            if (f.uid() >= 0) Libc.fchownat(Libc.AT_FDCWD, f.fifo().toString(), (int) f.uid(), (int) (f.gid() >= 0 ? f.gid() : -1), Libc.AT_SYMLINK_NOFOLLOW);
        } else if (step instanceof HostStep.MakeNotifyDir n) {
            Notify.makeDir(n.dir());
        } else if (step instanceof HostStep.MakeStartReport f) {
            Libc.mkfifo(f.fifo().toString(), 0622); // as the exec fifo: the process opens it before it changes identity
        } else if (step instanceof HostStep.RunHook r) {
            Hooks.run(r, done.state, hookOutput);
        } else if (step instanceof HostStep.WriteIdMap m) {
            writeProc(pid, m.file(), m.text());
        } else if (step instanceof HostStep.JoinCgroups j) {
            ContainerCgroup.add(j.dirs(), pid, done.clonedInto);
        } else if (step instanceof HostStep.JoinContainerCgroups j) {
            ContainerCgroup.add(j.dirs(), pid, done.clonedInto);
        } else if (step instanceof HostStep.WriteOomScoreAdj o) {
            writeProc(pid, "oom_score_adj", Integer.toString(o.value()));
        } else {
            throw new IllegalStateException("no executor for the host step " + step);
        }
    }

    /**
     * What `brig run` tells the user when the OOM killer struck in the container (its exit
     * status, 137 if it was the first process, shows the kill itself).
     */
    static String oomMessage(Prepared p) {
        Spec.Memory m = p.spec().linux().resources().memory();
        Long limit = m == null ? null : m.limit();
        return "container " + p.id() + ": out of memory: the OOM killer killed a process"
                + (limit != null && limit > 0 ? " (memory limit " + size(limit) + ")" : "");
    }

    /** Bytes in the largest binary unit that divides them: "100 MiB", "512 KiB", "1000 bytes". */
    static String size(long bytes) {
        String[] units = {"GiB", "MiB", "KiB"};
        for (int k = 0; k < units.length; k++) {
            long unit = 1L << (30 - 10 * k);
            if (bytes % unit == 0) return bytes / unit + " " + units[k];
        }
        return bytes + " bytes";
    }

    /**
     * TEST ONLY: {@code BRIG_TEST_CRASH_AT=POINT} in brig's environment makes this JVM kill
     * itself with SIGKILL at that point of a start ("claimed", "cgroups", "cloned", and
     * "started" in `brig run`), as the OOM killer would: SupervisorSecurityIT checks that
     * nothing of the container is left. Unset (brig.cli.Main sets it from its environment),
     * it costs a field read.
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

    private static volatile String CRASH_AT;

    /** TEST ONLY: where {@link #testCrashPoint} kills this process, or null for nowhere. */
    public static void testCrashAt(String point) {
        CRASH_AT = point;
    }

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
        if (force) store.sweepPending(id);
        StateStore.Lock lock;
        try {
            lock = store.lock(id); // a create of this id in progress finishes first
        } catch (StateStore.NotFound e) {
            if (force) return;
            throw StateStore.notFound(); // runc's words, without the id
        }
        try (lock) {
            deleteLocked(id, force, start);
        }
    }

    private void deleteLocked(String id, boolean force, String start) throws BrigException, CgroupException {
        ContainerState s = store.read(id);
        if (start != null && (s == null || !start.equals(s.start()))) return; // not that start's
        if (s == null) {
            boolean existed = Files.isDirectory(store.dir(id));
            if (existed) store.remove(id);
            if (force) return;
            throw StateStore.notFound(); // runc's words, without the id
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

    /**
     * runc's update: changes the limits of a live container's cgroup (created, running or
     * paused). Only what {@code r} gives changes; the writes are ordered against the limits the
     * cgroup has now (read from it), so that the kernel accepts each. Returns the plan, made,
     * or with {@code dryRun} (`--explain`) only made up.
     */
    public ResourcePlan update(String id, Spec.Resources r, boolean dryRun) throws BrigException, CgroupException {
        StateStore.checkId(id);
        try (StateStore.Lock lock = store.lock(id)) {
            return updateLocked(state(id), r, dryRun);
        }
    }

    private ResourcePlan updateLocked(ContainerState s, Spec.Resources r, boolean dryRun) throws BrigException, CgroupException {
        if (List.of("stopped", "creating").contains(s.status())) throw new BrigException("container not running");
        List<Hierarchy> hierarchies;
        try {
            hierarchies = Hierarchy.discover();
        } catch (IOException e) {
            throw new CgroupException("cannot read this process's cgroups: " + e.getMessage());
        }
        ContainerCgroup cgroup = ContainerCgroup.ofDirs(hierarchies, s.cgroups());
        ResourcePlan plan = ResourcePlan.update(r, cgroup, ResourcePlan.Host.live(hierarchies), CgroupLimits.read(cgroup));
        if (dryRun) return plan;
        try {
            cgroup.apply(plan.writes());
        } catch (CgroupException e) {
            // It ended meanwhile, and its cgroup went with it.
            if (status(s).equals("stopped")) throw new BrigException("container not running");
            throw e;
        }
        return plan;
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

    /** The made directories but the default parents (kept: {@link #keepDefaultParents}). */
    private static List<Path> withoutDefaultParents(ContainerCgroup cgroup, List<Path> made) {
        List<Path> out = new ArrayList<>(made);
        for (ContainerCgroup.Dir d : cgroup.dirs()) out.remove(d.path().getParent());
        return out;
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

    /**
     * What the run's supervisor reports once the container has exited, as its arguments:
     * compare the OOM kill count with the one read at the start ({@code oomCounter} null:
     * nothing to compare), printing {@code oomMessage} if it grew. It does so before it runs
     * the delete that removes the container ({@link #delete}, the one home of teardown).
     */
    static List<String> reportArgs(Path oomCounter, long oomBaseline, String oomMessage) {
        if (oomCounter == null) return List.of();
        return List.of("--oom-message", oomMessage, "--oom-kills-above", oomBaseline + " " + oomCounter);
    }

    /** A directory's st_dev and st_ino, or null when they cannot be read. */
    private static long[] dirIdentity(Path dir) {
        try {
            java.util.Map<String, Object> a = Files.readAttributes(dir, "unix:dev,ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return new long[] {(Long) a.get("dev"), (Long) a.get("ino")};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * How the run's supervisor removes a container handed over to it once it has exited
     * ({@link Teardown}): planned from its state as recorded, for its state directory as the
     * start claimed it ({@code dirId}, its dev and inode; the supervisor removes nothing if the
     * id's directory is another since).
     */
    Teardown teardown(ContainerState s, long[] dirId) {
        Path dir = store.dir(s.id());
        Teardown t = Teardown.plan(dir, dirId == null ? 0 : dirId[0], dirId == null ? 0 : dirId[1], s.start(), s.cgroups(),
                s.madeCgroups(), s.hooks(), Files.exists(dir.resolve(SHARED_MOUNTS)));
        return dirId != null ? t : new Teardown(dir, 0, 0, s.start(), t.cgroups(), t.parents(), "cannot read " + dir + "'s inode", List.of());
    }

    /** {@link #teardown(ContainerState)} as `run --explain` shows it, before the container exists. */
    public Teardown teardown(Prepared p) {
        return Teardown.plan(store.dir(p.id()), 0, 0, "", p.cgroup().dirs().stream().map(ContainerCgroup.Dir::path).toList(),
                p.cgroup().toMake(), p.spec().hooks(), !p.spec().linux().has(brig.spec.NamespaceType.MOUNT));
    }

    /**
     * Removes what a container left: its processes, its cgroups in every hierarchy and its
     * state. Only {@link #deleteLocked} calls it, under the container's lock: `delete`,
     * `run`'s end (Started.waitFor here, the supervisor's delete under the launcher) and the
     * clean-up after a start that died all come through {@link #delete}.
     */
    private void cleanup(ContainerState s) throws CgroupException {
        try {
            ContainerCgroup.kill(s.cgroups());
            ContainerCgroup.destroy(s.cgroups(), s.madeCgroups());
        } finally {
            unmountShared(s.id(), s.rootfs());
            store.remove(s.id());
        }
        Hooks.runWarned(Hooks.Kind.POSTSTOP, s, warn, hookOutput);
    }

    // ---- the lifecycle after create: each command on one container holds its lock (StateStore.lock) ----

    /**
     * `create`: makes the container ({@code p} planned in {@link Planner.Mode#CREATE}) and
     * returns once its first process waits for `start` on the exec fifo, everything before its
     * program done. The process stays a child of this one; when this process exits it is
     * reparented, and lives on until `start`, `kill` or `delete`.
     */
    public ContainerState create(Prepared p, int keepFds, Set<Integer> passedFds, Watcher watcher, BeforeRun beforeRun)
            throws BrigException, HelperException, CgroupException, SyscallException {
        return create(p, keepFds, passedFds, watcher, beforeRun, null);
    }

    /**
     * As {@link #create(Prepared, int, Set, Watcher, BeforeRun)}; with {@code console}, the
     * terminal's master (process.terminal) is sent there before create returns, as runc does
     * before its init waits for start, and this process keeps no copy. A failed send removes
     * the container.
     */
    public ContainerState create(Prepared p, int keepFds, Set<Integer> passedFds, Watcher watcher, BeforeRun beforeRun,
                                 ConsoleSocket console) throws BrigException, HelperException, CgroupException, SyscallException {
        if (p.mode() != Planner.Mode.CREATE) throw new IllegalArgumentException("create needs a plan made for create, not " + p.mode());
        Started s = start(p, keepFds, passedFds, watcher, beforeRun);
        if (console != null) {
            try {
                if (s.terminalFd() < 0) throw new BrigException("--console-socket: the container has no terminal (process.terminal is false)");
                console.send(s.terminalFd());
            } catch (BrigException e) {
                s.abort();
                throw e;
            }
        }
        s.detach();
        return s.state();
    }

    /**
     * `start`: lets a created container's process run its program, by writing to the exec fifo
     * it waits on, which then goes. Fails with runc's words if the container is not "created".
     */
    public void startCreated(String id) throws BrigException {
        startCreated(id, null);
    }

    /**
     * {@link #startCreated(String)}; with {@code notifyAddress} (the caller's NOTIFY_SOCKET,
     * see {@link Notify#address}) the container's notify socket is bound before its program
     * may run and returned: the caller waits on it ({@link Notify#relay}) and closes it.
     * Null without.
     */
    public Notify startCreated(String id, String notifyAddress) throws BrigException {
        Notify notify = null;
        try (StateStore.Lock lock = store.lock(id)) {
            ContainerState s = state(id);
            switch (s.status()) {
                case "created" -> { }
                case "stopped" -> throw new BrigException("cannot start a container that has stopped");
                case "running" -> throw new BrigException("cannot start an already running container");
                default -> throw new BrigException("cannot start a container in the " + s.status() + " state");
            }
            // runtime-spec "Start": an error, and no effect, for a container created without a
            // process (it stays created: kill and delete work).
            CreatedWith created = store.readCreated(id);
            if (created != null && !created.configJson().has("process")) {
                throw new BrigException("cannot start container " + id + ": process: its config.json (as create read it) has none");
            }
            if (notifyAddress != null) notify = Notify.listen(store.dir(id), id);
            Path fifo = store.dir(id).resolve("exec.fifo");
            int report = Hooks.openReport(fifo); // before the start is let go; -1 without hooks at start
            int fd;
            try {
                // Non-blocking: with no reader (the process died) it fails at once, with ENXIO.
                fd = Libc.open(fifo.toString(), Libc.O_WRONLY | Libc.O_NONBLOCK, 0);
            } catch (SyscallException e) {
                if (e.errno() != brig.syscalls.Errno.ENXIO) throw new BrigException("cannot start container " + id + ": " + e.getMessage());
                // No reader: the process died, or a start that died after writing let it run.
                boolean running = store.status(s).equals("running") || StateStore.alive(s.pid(), s.pidStart());
                Libc.close(report);
                removeFifo(fifo);
                throw new BrigException(running ? "cannot start an already running container" : "cannot start a container that has stopped");
            }
            try {
                Libc.writeFully(fd, new byte[] {'0'});
            } catch (SyscallException e) {
                Libc.close(report);
                throw new BrigException("cannot start container " + id + ": " + e.getMessage());
            } finally {
                Libc.close(fd);
            }
            removeFifo(fifo);
            if (report >= 0) {
                try {
                    Hooks.awaitExec(report, s); // the startContainer hooks ran, the program runs
                } catch (BrigException e) {
                    // The process reported and ended; what it may have left goes too: the container is stopped.
                    try {
                        ContainerCgroup.kill(s.cgroups());
                    } catch (CgroupException ignored) {
                        // the failure reported is the hook's
                    }
                    throw e;
                } finally {
                    removeFifo(Hooks.reportFifo(fifo));
                }
                Hooks.runWarned(Hooks.Kind.POSTSTART, s.withStatus("running"), warn, hookOutput);
            }
            return notify;
        } catch (BrigException | RuntimeException e) {
            if (notify != null) notify.close();
            throw e;
        }
    }

    private static void removeFifo(Path fifo) throws BrigException {
        try {
            Files.deleteIfExists(fifo);
        } catch (IOException e) {
            throw new BrigException("cannot remove " + fifo + ": " + e.getMessage());
        }
    }

    /** `state`: the container's state, its status as it is now; "container does not exist" if there is none. */
    public ContainerState state(String id) throws BrigException {
        ContainerState s = store.read(id);
        if (s == null) throw StateStore.notFound();
        return s;
    }

    /** `list`: every container under the root; those that cannot be read are reported to {@code warn}. */
    public List<ContainerState> list(java.util.function.Consumer<String> warn) {
        return store.list(warn);
    }

    /**
     * `kill`: sends a signal to the container's first process, or with {@code all} to every
     * process in its cgroups. A stopped container is "container not running" (its pid may name
     * another process by now), unless {@code all} finds processes left in its cgroups (those a
     * container without a pid namespace of its own forked): they get it.
     */
    public void kill(String id, int signal, boolean all) throws BrigException, CgroupException {
        try (StateStore.Lock lock = store.lock(id)) {
            ContainerState s = state(id);
            boolean left = all && s.status().equals("stopped") && !ContainerCgroup.pids(s.cgroups()).isEmpty();
            if ((s.status().equals("stopped") && !left) || s.status().equals("creating")) throw new BrigException("container not running");
            if (all) {
                ContainerCgroup.signalAll(s.cgroups(), signal);
                return;
            }
            try {
                if (!Libc.kill(s.pid(), signal)) throw new BrigException("container not running");
            } catch (SyscallException e) {
                throw new BrigException("cannot signal container " + id + ": " + e.getMessage());
            }
        }
    }

    /** `ps`: the pids of every process in the container's cgroups, ascending. */
    public List<Integer> pids(String id) throws BrigException {
        return ContainerCgroup.pids(state(id).cgroups());
    }

    /**
     * `events --stats`: the container's resource usage now, in runc's shape
     * ({@link brig.cgroups.CgroupStats#toEvent}). "container with id ID is not running" once it
     * has stopped.
     */
    public Events.Stats stats(String id) throws BrigException, CgroupException {
        return Events.stats(store, id);
    }

    /**
     * `events`: reports the container's stats every {@code interval} and each OOM in it to
     * {@code sink}, until the container stops (see {@link Events#watch}); stats it could not
     * read go to {@code warn}.
     */
    public void events(String id, java.time.Duration interval, java.util.function.Consumer<Events.Event> sink,
                       java.util.function.Consumer<String> warn) throws BrigException, CgroupException {
        Events.watch(store, id, interval, sink, warn);
    }

    /** `pause`: freezes every process of a running (or created) container. */
    public void pause(String id) throws BrigException, CgroupException {
        try (StateStore.Lock lock = store.lock(id)) {
            ContainerState s = state(id);
            if (!s.status().equals("running") && !s.status().equals("created")) throw new BrigException("container not running");
            brig.cgroups.Freezer.freeze(s.cgroups());
        }
    }

    /** `resume`: thaws a paused container. */
    public void resume(String id) throws BrigException, CgroupException {
        try (StateStore.Lock lock = store.lock(id)) {
            ContainerState s = state(id);
            if (!s.status().equals("paused")) throw new BrigException("container not paused");
            brig.cgroups.Freezer.thaw(s.cgroups());
        }
    }
    // ---- exec: another process in a running container ----

    /**
     * `exec` planned: nothing on the system has changed yet.
     *
     * @param host Brig's work while the forked process waits ({@link ExecPlanner#host})
     */
    public record PreparedExec(String id, ContainerState state, Spec.Process process, List<HostStep> host, Plan plan,
                               brig.seccomp.Profile seccomp) {
        public PreparedExec {
            host = List.copyOf(host);
        }

        /** `exec --explain`: the helper's numbered steps, Brig's own ("host after fork: ") right after its wait. */
        public String explain() {
            StringBuilder sb = new StringBuilder();
            List<String> lines = plan.explain().lines().toList();
            int await = plan.steps().indexOf(plan.find(brig.helper.Step.Await.class));
            for (int k = 0; k < lines.size(); k++) {
                sb.append(lines.get(k)).append('\n');
                if (k == await) for (HostStep s : host) sb.append("host after fork: ").append(s.explain()).append('\n');
            }
            return sb.toString();
        }
    }

    /**
     * Plans `exec` in container {@code id}: {@code process} as given (--process FILE), or else
     * the container's own process with {@code overrides}. The container's own process, its
     * seccomp profile and session keyring are those it was created with (kept in its state, see
     * {@link CreatedWith}; a container made by an older Brig kept nothing: its bundle's
     * config.json as it is now, and the caller's keyring). Fails with runc's words for a
     * stopped container, and for a paused one unless {@code ignorePaused} (its process then
     * starts frozen, until `resume`).
     */
    public PreparedExec prepareExec(String id, Spec.Process process, ExecPlanner.Overrides overrides, boolean ignorePaused,
                                    int preserveFds) throws BrigException, SpecException {
        StateStore.checkId(id);
        ContainerState s = state(id);
        switch (s.status()) {
            case "stopped" -> throw new BrigException("cannot exec in a stopped container");
            case "paused" -> {
                if (!ignorePaused) throw new BrigException("cannot exec in a paused container (use --ignore-paused to override)");
            }
            case "creating" -> throw new BrigException("container not running");
            default -> { }
        }
        CreatedWith created = store.readCreated(id);
        Path config;
        Spec spec;
        if (created != null) {
            config = store.createdFile(id);
            spec = SpecReader.parse(config, created.configJson());
        } else {
            config = s.bundle().resolve("config.json");
            spec = SpecReader.read(config);
        }
        if (process == null) {
            if (spec.process() == null) throw new SpecException(config, "process", "process: required but missing");
            process = ExecPlanner.process(spec.process(), overrides);
        }
        if (process.args().isEmpty()) throw new BrigException("exec: process.args must not be empty");
        ExecPlanner.Target target = new ExecPlanner.Target(s.pid(), s.pidStart(), ExecPlanner.namespacesOf(s.pid()),
                spec.linux().seccomp(), created != null ? created.keyring() : null);
        ExecPlanner.Cgroups cgroups = ExecPlanner.Cgroups.of(s.cgroups());
        List<HostStep> host = ExecPlanner.host(process, cgroups);
        Plan plan = ExecPlanner.plan(process, target, preserveFds, lastCap(), host, cgroups);
        return new PreparedExec(id, s, process, host, plan, spec.linux().seccomp());
    }

    /**
     * A process `exec` started, a child of this process until it exits (or this process does).
     *
     * @param terminalFd the master side of its terminal (the caller owns it), or -1
     */
    public record ExecProcess(int pid, int terminalFd) {
        /** Waits for the process; its exit status, 128+N if signal N killed it. Nothing else is cleaned up. */
        public int waitFor() throws SyscallException {
            int status = Libc.waitpid(pid, 0);
            return (status & 0x7f) != 0 ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
        }
    }

    /**
     * Runs a planned exec: the helper joins the container and forks; Brig places the process
     * in the container's cgroups, then {@code beforeRun} (the pid file); returns once the
     * program runs. On a failure the process is killed; the container is never touched.
     *
     * @param keepFds the process inherits fds 3..3+keepFds-1, of them only those in {@code passedFds} (all if null)
     */
    public ExecProcess exec(PreparedExec p, int keepFds, Set<Integer> passedFds, BeforeRun beforeRun)
            throws BrigException, HelperException, CgroupException, SyscallException {
        return exec(p, keepFds, passedFds, beforeRun, null);
    }

    /**
     * As {@link #exec(PreparedExec, int, Set, BeforeRun)}; with {@code console}, the terminal's
     * master (the process's terminal, made inside the container) is sent there before this
     * returns, as for `create`, and this process keeps no copy (the result's terminalFd is -1).
     * A failed send kills the process.
     */
    public ExecProcess exec(PreparedExec p, int keepFds, Set<Integer> passedFds, BeforeRun beforeRun, ConsoleSocket console)
            throws BrigException, HelperException, CgroupException, SyscallException {
        if (console != null && !p.process().terminal()) throw new BrigException("--console-socket: the process has no terminal");
        Helper h = Helper.start(helper, p.plan(), keepFds, passedFds);
        int pid = -1, terminal = -1;
        try {
            pid = h.awaitPid();
            Done done = new Done();
            done.clonedInto = h.clonedInto();
            for (HostStep s : p.host()) execute(s, pid, done);
            try {
                beforeRun.accept(pid);
            } catch (IOException e) {
                throw new BrigException(e.getMessage(), e);
            }
            h.go();
            while (true) {
                Helper.Event e = h.next();
                if (e instanceof Helper.Event.Terminal t) {
                    terminal = t.masterFd();
                    if (console != null) { // as it comes: the engine may read the program's first output
                        console.send(terminal);
                        Libc.close(terminal);
                        terminal = -1;
                    }
                } else if (e instanceof Helper.Event.SeccompListener l) { // as for create; the container's state as it is
                    notifyAgent(p.seccomp(), p.state(), pid, l.fd());
                    h.go();
                }
                if (e instanceof Helper.Event.Executed) break;
            }
            return new ExecProcess(pid, terminal);
        } catch (BrigException | HelperException | CgroupException | SyscallException | RuntimeException e) {
            Libc.close(terminal);
            if (pid > 0) {
                Libc.kill(pid, Libc.SIGKILL);
                Libc.awaitExit(pid); // a resident server's container is its caller's child
            }
            throw e;
        } finally {
            h.release();
        }
    }
}
