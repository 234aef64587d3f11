package brig.cgroups;

import brig.spec.Spec;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A container's cgroup: one directory in every hierarchy this process is in.
 *
 * @param dirs the directory per hierarchy
 */
public record ContainerCgroup(List<Dir> dirs) {
    public ContainerCgroup {
        dirs = List.copyOf(dirs);
    }

    public record Dir(Hierarchy hierarchy, Path path) {}

    /**
     * Where the container's cgroup is: an absolute cgroupsPath is taken from each hierarchy's
     * root, a relative one from this process's own cgroup (on cgroup2 from its parent), as
     * runc does.
     */
    public static ContainerCgroup resolve(List<Hierarchy> hierarchies, String cgroupsPath) throws CgroupException {
        if (cgroupsPath.contains("..") || cgroupsPath.contains("\0")) {
            throw new CgroupException("linux.cgroupsPath: must not contain \"..\": " + cgroupsPath);
        }
        if (cgroupsPath.contains(":")) {
            // runc's systemd driver takes "slice:prefix:name"; these hosts run no systemd to ask.
            throw new CgroupException("linux.cgroupsPath: \"" + cgroupsPath + "\" is a systemd cgroup (slice:prefix:name, as runc "
                    + "--systemd-cgroup takes it): Brig has no systemd driver; give a cgroupfs path such as \"/brig/NAME\"");
        }
        List<Dir> dirs = new ArrayList<>();
        for (Hierarchy h : hierarchies) {
            // A relative path on cgroup2 goes beside this process's cgroup, not below it: that
            // one holds processes, so (the no-internal-process rule) it cannot hand controllers
            // down to a child, and enabling one fails with EBUSY. runc's fs2 does the same.
            String base = cgroupsPath.startsWith("/") ? "" : h.unified() ? parentOf(h.own()) : h.own();
            String rel = (base + "/" + cgroupsPath).replaceAll("/+", "/").replaceFirst("^/", "").replaceFirst("/$", "");
            if (rel.isEmpty()) throw new CgroupException("linux.cgroupsPath: the container needs a cgroup of its own, not the root");
            dirs.add(new Dir(h, h.mountPoint().resolve(rel)));
        }
        return new ContainerCgroup(dirs);
    }

    private static String parentOf(String cgroup) {
        int slash = cgroup.lastIndexOf('/');
        return slash <= 0 ? "/" : cgroup.substring(0, slash);
    }

    /**
     * A live container's cgroup from the directories its state records: each in the hierarchy
     * mounted where it lies.
     */
    public static ContainerCgroup ofDirs(List<Hierarchy> hierarchies, List<Path> paths) throws CgroupException {
        List<Dir> dirs = new ArrayList<>();
        for (Path p : paths) {
            Hierarchy in = null;
            for (Hierarchy h : hierarchies) {
                if (p.startsWith(h.mountPoint()) && (in == null || h.mountPoint().startsWith(in.mountPoint()))) in = h;
            }
            if (in == null) throw new CgroupException("cgroup: " + p + " is in no cgroup hierarchy this process is in");
            dirs.add(new Dir(in, p));
        }
        return new ContainerCgroup(dirs);
    }

    /** The cgroup.procs file to find the container's processes in. */
    public Path procs() {
        return dirs.get(0).path().resolve("cgroup.procs");
    }

    /**
     * Creates the directories (initialising cpuset ones from their parent, as v1 requires) and
     * applies the device rules. Returns the directories made, parents first, for removal.
     *
     * <p>A directory that already exists is joined only while no process is in it or below
     * it: its processes are not the container's, yet the container's clean-up would kill them
     * and its device rules would bind them. This is for new containers only: a process joining
     * its own running container (the coming {@code exec}) goes through {@link #add} with the
     * directories from the container's state, and must not come here.
     */
    public List<Path> create(List<Spec.DeviceRule> deviceRules) throws CgroupException {
        List<Path> made = create();
        try {
            applyDevices(deviceRules);
            return made;
        } catch (CgroupException e) {
            remove(made);
            throw e;
        }
    }

    /**
     * {@link #create(List)} without the device rules (a start plans them as a step of their
     * own): the directories, made or joined by the same rules. Undoes its own failures.
     */
    public List<Path> create() throws CgroupException {
        List<Path> made = new ArrayList<>();
        try {
            for (Dir d : dirs) {
                Path root = d.hierarchy().mountPoint();
                Path p = root;
                for (Path part : root.relativize(d.path())) {
                    if (dirs.size() == 1 && d.hierarchy().unified()) enableAvailable(p);
                    p = p.resolve(part);
                    if (mkdir(p)) made.add(p);
                    // v1 cpusets start empty, and a task cannot join an empty one. Filled at
                    // every level, also one made by a run that died before filling it.
                    if (d.hierarchy().has("cpuset")) {
                        inherit(p, "cpuset.cpus");
                        inherit(p, "cpuset.mems");
                    }
                }
            }
            for (Dir d : dirs) {
                if (!made.contains(d.path()) && populated(d)) {
                    throw new CgroupException("cgroup: " + d.path() + " (linux.cgroupsPath) already holds processes that are not "
                            + "this container's: refusing to join it");
                }
            }
            return made;
        } catch (CgroupException e) {
            remove(made);
            throw e;
        }
    }

    /**
     * Gives the container these device rules, on top of deny-all whatever they say. Safe for a
     * cgroup whose processes run: no moment is more open than the old rules or the new ones.
     */
    public void applyDevices(List<Spec.DeviceRule> rules) throws CgroupException {
        boolean v1Devices = dirs.stream().anyMatch(d -> d.hierarchy().has("devices"));
        for (Dir d : dirs) {
            if (d.hierarchy().has("devices")) {
                List<String> current;
                try {
                    current = Files.readAllLines(d.path().resolve("devices.list"));
                } catch (IOException e) {
                    throw new CgroupException("cgroup: read " + d.path().resolve("devices.list") + ": " + e.getMessage());
                }
                for (DeviceRules.Write w : DeviceRules.v1Writes(d.path(), current, rules, populated(d))) {
                    write(d.path().resolve(w.file()), w.line());
                }
            } else if (d.hierarchy().unified() && !v1Devices) {
                // cgroup v2 has no devices files: the rules are an eBPF program.
                DeviceFilter.attach(d.path(), rules);
            }
        }
    }

    /**
     * Makes the writes of a {@link ResourcePlan}, in its order: the one place linux.resources
     * reaches the kernel, for a new container and (with a plan made for a live cgroup) for
     * `update`. Errors name the file, the field and the errno.
     */
    public void apply(List<CgroupWrite> writes) throws CgroupException {
        for (CgroupWrite w : writes) {
            try {
                write(w.file(), w.value());
            } catch (CgroupException e) {
                throw new CgroupException(e.getMessage().replaceFirst(" to " + java.util.regex.Pattern.quote(w.file().toString()) + ": ",
                        java.util.regex.Matcher.quoteReplacement(" to " + w.file() + " (" + w.why() + "): ")));
            }
        }
    }

    /** Whether a process is in the directory or below it. */
    static boolean populated(Dir d) throws CgroupException {
        try {
            if (d.hierarchy().unified()) {
                return Files.readAllLines(d.path().resolve("cgroup.events")).contains("populated 1");
            }
            try (var tree = Files.walk(d.path())) {
                for (Path p : (Iterable<Path>) tree.filter(Files::isDirectory)::iterator) {
                    if (!Files.readString(p.resolve("cgroup.procs")).isBlank()) return true;
                }
            }
            return false;
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new CgroupException("cgroup: cannot tell whether " + d.path() + " holds processes: " + e.getMessage());
        }
    }

    /**
     * On a pure cgroup v2 host, before a directory of the container's path is made in {@code
     * parent}: enables for it every controller the parent has, as runc and crun do, so that the
     * container's own cgroup accounts memory, pids and io even where nothing is limited (the
     * memory.events of OOM reports, the files of stats; without it they are missing, as a
     * container limiting only its CPU showed). A controller the kernel refuses (the parent
     * holds processes, realtime tasks for cpu) is left off, as they leave it: the limits a
     * config asks for are the plan's writes, which fail loudly instead.
     */
    private static void enableAvailable(Path parent) {
        Path control = parent.resolve("cgroup.subtree_control");
        try {
            List<String> on = List.of(Files.readString(control).trim().split("\\s+"));
            for (String c : Files.readString(parent.resolve("cgroup.controllers")).trim().split("\\s+")) {
                if (c.isEmpty() || on.contains(c)) continue;
                try {
                    write(control, "+" + c);
                } catch (CgroupException refused) {
                    // accounting only: left off
                }
            }
        } catch (IOException unreadable) {
            // not a cgroup2 directory we may read: nothing to enable
        }
    }

    private static boolean mkdir(Path p) throws CgroupException {
        // A concurrent removal of an empty parent may race with us: try again.
        for (int attempt = 0; ; attempt++) {
            try {
                Files.createDirectory(p);
                return true;
            } catch (FileAlreadyExistsException e) {
                return false;
            } catch (NoSuchFileException e) {
                if (attempt >= 3) throw new CgroupException("cgroup: mkdir " + p + ": ENOENT: no such file or directory");
                try {
                    Files.createDirectories(p.getParent());
                } catch (IOException ignored) {
                    // retried
                }
            } catch (IOException e) {
                throw new CgroupException("cgroup: mkdir " + p + ": " + e.getMessage());
            }
        }
    }

    private static void inherit(Path dir, String file) throws CgroupException {
        try {
            if (!Files.readString(dir.resolve(file)).isBlank()) return;
            write(dir.resolve(file), Files.readString(dir.getParent().resolve(file)).trim());
        } catch (IOException e) {
            throw new CgroupException("cgroup: " + dir.resolve(file) + ": " + e.getMessage());
        }
    }

    /** One write(2), as cgroup files need; errors name the file and the errno. */
    static void write(Path file, String value) throws CgroupException {
        try {
            int fd = Libc.open(file.toString(), Libc.O_WRONLY, 0);
            try {
                Libc.writeFully(fd, value.getBytes(StandardCharsets.UTF_8));
            } finally {
                Libc.close(fd);
            }
        } catch (SyscallException e) {
            throw new CgroupException("cgroup: write \"" + value + "\" to " + file + ": " + e.getMessage()
                    .replaceFirst("^(open|write)( [^:]*)?: ", ""));
        }
    }

    /** Moves a process into the container's cgroup in every hierarchy. */
    public void add(int pid) throws CgroupException {
        for (Dir d : dirs) write(d.path().resolve("cgroup.procs"), Integer.toString(pid));
    }

    /** The container's cgroup2 directory (on a hybrid host, in the unified tree), or null. */
    public Path unified() {
        for (Dir d : dirs) if (d.hierarchy().unified()) return d.path();
        return null;
    }

    /**
     * Moves a process into these cgroup directories of a container but {@code joined}, the one
     * it was created in (CLONE_INTO_CGROUP; null for none), where it already is.
     */
    public static void add(List<Path> containerDirs, int pid, Path joined) throws CgroupException {
        for (Path d : containerDirs) if (!d.equals(joined)) write(d.resolve("cgroup.procs"), Integer.toString(pid));
    }

    /**
     * The directories {@link #create} would make now (those that do not exist), parents first:
     * recorded before anything is made, so that a clean-up after a crash knows what to remove.
     */
    public List<Path> toMake() {
        List<Path> out = new ArrayList<>();
        for (Dir d : dirs) {
            Path p = d.hierarchy().mountPoint();
            for (Path part : p.relativize(d.path())) {
                p = p.resolve(part);
                if (!Files.isDirectory(p) && !out.contains(p)) out.add(p);
            }
        }
        return out;
    }

    /**
     * Kills every process in the container's cgroups and in the cgroups below them (the
     * container may make its own), so that forks cannot escape: on cgroup2, the unified tree
     * of hybrid hosts included, one write to cgroup.kill does it atomically; without one, the
     * v1 freezer cgroup is frozen while its tasks are killed. Then waits (briefly) until they
     * are gone. (Runtime.delete calls it, for every way a container goes.)
     */
    public static void kill(List<Path> containerDirs) throws CgroupException {
        // cgroup2 says whether any task is left in the container's whole subtree: a stopped
        // container (most deletes) then costs one read, not a walk of every hierarchy.
        if (unpopulated(containerDirs)) return;
        Path cgroupKill = cgroupKill(containerDirs), freezer = freezer(containerDirs);
        // A cgroup removed meanwhile (by the run's supervisor, say) has nothing left to kill.
        if (cgroupKill != null) {
            writeUnlessGone(cgroupKill, "1");
        } else if (freezer != null) {
            writeUnlessGone(freezer, "FROZEN");
            for (int round = 0; round < 100 && !read(freezer).startsWith("FROZEN"); round++) sleep();
            try {
                for (Path d : containerDirs) killTree(d);
            } finally {
                writeUnlessGone(freezer, "THAWED");
            }
        }
        // Stragglers (a host without either) and the wait until the killed are gone.
        for (int round = 0; round < 200; round++) {
            boolean any = false;
            for (Path d : containerDirs) any |= killTree(d);
            if (!any) return;
            sleep();
        }
    }

    /**
     * Every process in the container's cgroups and those below them, in ascending order (what
     * `ps` shows; a process is in every hierarchy, so the union of all of them).
     */
    public static List<Integer> pids(List<Path> containerDirs) {
        java.util.TreeSet<Integer> out = new java.util.TreeSet<>();
        for (Path d : containerDirs) {
            for (Path sub : tree(d)) {
                try {
                    for (String p : Files.readAllLines(sub.resolve("cgroup.procs"))) {
                        if (!p.isBlank()) out.add(Integer.parseInt(p.trim()));
                    }
                } catch (IOException | NumberFormatException e) {
                    // gone meanwhile
                }
            }
        }
        return List.copyOf(out);
    }

    /**
     * Sends a signal to every process of the container (`kill --all`). The cgroup is frozen
     * meanwhile, unless it is already, so that none forks a child the signal misses.
     */
    public static void signalAll(List<Path> containerDirs, int signal) throws CgroupException {
        boolean freeze;
        try {
            freeze = Freezer.state(containerDirs) == Freezer.State.THAWED;
        } catch (CgroupException e) {
            freeze = false; // no freezer: signal what is there
        }
        if (freeze) Freezer.freeze(containerDirs);
        try {
            for (int pid : pids(containerDirs)) {
                try {
                    Libc.kill(pid, signal);
                } catch (SyscallException e) {
                    throw new CgroupException("kill " + pid + ": " + e.getMessage());
                }
            }
        } finally {
            if (freeze) Freezer.thaw(containerDirs);
        }
    }

    private static void writeUnlessGone(Path file, String value) throws CgroupException {
        try {
            write(file, value);
        } catch (CgroupException e) {
            if (Files.exists(file)) throw e;
        }
    }

    /** The cgroup.kill file of the container's cgroup2 directory, or null. */
    private static Path cgroupKill(List<Path> containerDirs) {
        for (Path d : containerDirs) if (Files.exists(d.resolve("cgroup.kill"))) return d.resolve("cgroup.kill");
        return null;
    }

    /** Whether a cgroup2 directory of the container says no task is left below it ("populated 0"). */
    private static boolean unpopulated(List<Path> containerDirs) {
        for (Path d : containerDirs) {
            Path events = d.resolve("cgroup.events");
            if (!Files.exists(events)) continue;
            return read(events).lines().anyMatch(l -> l.equals("populated 0"));
        }
        return false;
    }

    private static Path freezer(List<Path> containerDirs) {
        for (Path d : containerDirs) if (Files.exists(d.resolve("freezer.state"))) return d.resolve("freezer.state");
        return null;
    }

    /** SIGKILL to every task of the cgroup and those below it; whether there was any. */
    private static boolean killTree(Path dir) {
        boolean any = false;
        for (Path d : tree(dir)) {
            List<String> pids;
            try {
                pids = Files.readAllLines(d.resolve("cgroup.procs"));
            } catch (IOException e) {
                continue;
            }
            for (String p : pids) {
                if (p.isBlank()) continue;
                try {
                    any |= Libc.kill(Integer.parseInt(p.trim()), Libc.SIGKILL);
                } catch (SyscallException | NumberFormatException e) {
                    // gone already
                }
            }
        }
        return any;
    }

    /** The directory and every directory below it, children before their parents. */
    private static List<Path> tree(Path dir) {
        List<Path> out = new ArrayList<>();
        try (var s = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path sub : s) out.addAll(tree(sub));
        } catch (IOException e) {
            // gone, or not a directory
        }
        if (Files.isDirectory(dir)) out.add(dir);
        return out;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Removes the container's directories, those below them, and the parents made for it
     * (when empty). Fails only if a container directory itself stays: parents may hold other
     * containers. Kill first ({@link #kill}): a cgroup with tasks cannot go.
     */
    public void destroy(List<Path> made) throws CgroupException {
        destroy(dirs.stream().map(Dir::path).toList(), made);
    }

    /** {@link #destroy(List)} for a container known only by its directories (from its state). */
    public static void destroy(List<Path> containerDirs, List<Path> made) throws CgroupException {
        String failure = null;
        for (Path d : containerDirs) {
            // One rmdir first: the walk (a stat of every file of every cgroup) is only for a
            // container that made cgroups of its own, or one whose tasks are still going.
            if (rmdir(d, 1)) continue;
            for (Path sub : tree(d)) {
                if (!rmdir(sub, 100) && sub.equals(d)) failure = d.toString();
            }
        }
        remove(made);
        if (failure != null) throw new CgroupException("cgroup: rmdir " + failure + ": EBUSY: device or resource busy");
    }

    private static void remove(List<Path> made) {
        for (int k = made.size() - 1; k >= 0; k--) rmdir(made.get(k), 1);
    }

    /** rmdir, retrying while busy: a cgroup stays busy until its last task has been reaped. */
    private static boolean rmdir(Path p, int attempts) {
        for (int attempt = 0; attempt < attempts; attempt++) {
            try {
                Files.deleteIfExists(p);
                return true;
            } catch (DirectoryNotEmptyException e) {
                return false;
            } catch (FileSystemException e) {
                if (attempt + 1 == attempts) return false;
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return false;
    }
}
