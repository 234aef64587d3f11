package brig.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One mounted cgroup hierarchy: a v1 hierarchy with its controllers ("memory", "cpu,cpuacct",
 * "name=systemd"), or the v2 unified one. Hosts here are hybrids (v1 controllers plus cgroup2
 * at /sys/fs/cgroup/unified); pure v2 hosts have only the unified one at /sys/fs/cgroup.
 *
 * @param controllers as in /proc/self/cgroup ("" for v2)
 * @param mountPoint where it is mounted
 * @param own this process's cgroup in it, e.g. "/user.slice"
 */
public record Hierarchy(String controllers, Path mountPoint, String own) {

    public boolean unified() { return controllers.isEmpty(); }

    /** The directory name the container sees it under in a v1/hybrid layout ("memory", "unified"). */
    public String name() {
        return mountPoint.getFileName() == null ? "" : mountPoint.getFileName().toString();
    }

    public boolean has(String controller) {
        return Arrays.asList(controllers.split(",")).contains(controller);
    }

    /** The hierarchies this process is in, from /proc/self/cgroup and /proc/self/mountinfo. */
    public static List<Hierarchy> discover() throws IOException {
        return discover(0);
    }

    /**
     * The hierarchies process {@code pid} is in (0 or gone: this process), mounted where this process
     * sees them: a resident server resolves its caller's relative cgroup paths with the
     * caller's cgroups (it serves only callers of its own mount namespace).
     */
    public static List<Hierarchy> discover(long pid) throws IOException {
        Path of = Path.of("/proc/" + pid + "/cgroup");
        // No such process (a library caller naming a pid of its own choosing): this process's.
        if (pid == 0 || !Files.exists(of)) of = Path.of("/proc/self/cgroup");
        return discover(Files.readAllLines(of), Files.readAllLines(Path.of("/proc/self/mountinfo")));
    }

    /**
     * Moves this whole process (all its threads) into {@code name}, a cgroup below the root
     * of every hierarchy it is in, made if missing: the resident server's own, so that it is
     * never counted, limited or removed with the cgroup of the caller that started it (a test
     * JVM's, conmon's) nor a container's. A v1 cpuset starts empty and takes no task until
     * its cpus and mems are set: they are copied from the root. Returns the directories.
     */
    public static List<Path> enter(String name) throws CgroupException {
        String pid = Long.toString(ProcessHandle.current().pid());
        List<Path> out = make(name);
        for (Path dir : out) {
            try {
                Files.writeString(dir.resolve("cgroup.procs"), pid);
            } catch (java.nio.file.NoSuchFileException gone) {
                // A server leaving removed it between our mkdir and this write ({@link #leave}): once more.
                make(name);
                try {
                    Files.writeString(dir.resolve("cgroup.procs"), pid);
                } catch (IOException e) {
                    throw new CgroupException("cgroup: cannot move process " + pid + " into " + dir + ": " + e);
                }
            } catch (IOException e) {
                throw new CgroupException("cgroup: cannot move process " + pid + " into " + dir + ": " + e);
            }
        }
        return out;
    }

    /**
     * Undoes {@link #enter}: moves this whole process back to the root of every hierarchy it
     * is in and removes {@code name} there if it is empty (a process cannot remove the cgroup
     * it is in). One that is not empty (another process entered it meanwhile: a new server)
     * stays. Returns what it could not do, one line each, for a log; empty if all went.
     */
    public static List<String> leave(String name) {
        String pid = Long.toString(ProcessHandle.current().pid());
        List<String> failed = new ArrayList<>();
        List<Hierarchy> all;
        try {
            all = discover();
        } catch (IOException e) {
            return List.of("cgroup: cannot read this process's cgroups: " + e);
        }
        for (Hierarchy h : all) {
            Path dir = h.mountPoint().resolve(name);
            try {
                if (h.own().equals("/" + name)) Files.writeString(h.mountPoint().resolve("cgroup.procs"), pid);
                Files.deleteIfExists(dir);
            } catch (java.nio.file.FileSystemException e) {
                // rmdir of a cgroup with tasks or children is EBUSY: another server is in it now.
                if (!String.valueOf(e.getReason()).contains("busy")) failed.add("cgroup: cannot leave or remove " + dir + ": " + e);
            } catch (IOException e) {
                failed.add("cgroup: cannot leave or remove " + dir + ": " + e);
            }
        }
        return failed;
    }

    /**
     * {@code name} below the root of every hierarchy this process is in, made if missing and
     * ready to take tasks (a v1 cpuset's cpus and mems copied from the root), for a process
     * that moves itself there: a detached container's monitor (brig-helper monitor).
     */
    public static List<Path> make(String name) throws CgroupException {
        // A leaving monitor may remove a shared parent between two steps here (ENOENT): what
        // this attempt made goes again, and it starts over.
        for (int attempt = 0; ; attempt++) {
            List<Path> out = new ArrayList<>();
            Path dir = null;
            try {
                for (Hierarchy h : discover()) {
                    // Level by level ("a/b" makes a, then b), each v1 cpuset filled from its
                    // parent: a task cannot join an empty one, nor a child take cpus its parent lacks.
                    dir = h.mountPoint();
                    for (Path part : Path.of(name)) {
                        Path parent = dir;
                        dir = dir.resolve(part);
                        makeOnce(dir);
                        if (h.has("cpuset")) {
                            for (String f : List.of("cpuset.cpus", "cpuset.mems")) {
                                if (Files.readString(dir.resolve(f)).isBlank()) Files.writeString(dir.resolve(f), Files.readString(parent.resolve(f)).trim());
                            }
                        }
                    }
                    out.add(dir);
                }
                return out;
            } catch (IOException e) {
                for (Path made : out) {
                    try {
                        Files.deleteIfExists(made);
                    } catch (IOException ignored) {
                        // another process entered it meanwhile: it is theirs to remove
                    }
                }
                if (attempt < 3) continue; // ENOENT, or ENODEV from a directory being removed
                throw new CgroupException("cgroup: cannot make " + (dir == null ? name : dir) + ": " + e);
            }
        }
    }

    /** mkdir unless it exists (a parent removed meanwhile is NoSuchFileException: make starts over, filling each level). */
    private static void makeOnce(Path dir) throws IOException {
        try {
            Files.createDirectory(dir);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // made by another monitor or server: joined as it is
        }
    }

    static List<Hierarchy> discover(List<String> cgroupLines, List<String> mountinfo) {
        record CgMount(boolean v2, Set<String> options, Path point) {}
        List<CgMount> mounts = new ArrayList<>();
        for (String line : mountinfo) {
            int dash = line.indexOf(" - ");
            if (dash < 0) continue;
            String[] pre = line.substring(0, dash).split(" "), post = line.substring(dash + 3).split(" ");
            if (pre.length < 5 || post.length < 3) continue;
            if (!pre[3].equals("/")) continue; // a bind of a sub-cgroup, as inside containers
            boolean v2 = post[0].equals("cgroup2");
            if (!v2 && !post[0].equals("cgroup")) continue;
            Path point = Path.of(unescape(pre[4]));
            if (mounts.stream().anyMatch(m -> m.point.equals(point))) continue;
            mounts.add(new CgMount(v2, new HashSet<>(Arrays.asList(post[2].split(","))), point));
        }
        List<Hierarchy> out = new ArrayList<>();
        for (String line : cgroupLines) {
            String[] f = line.split(":", 3);
            if (f.length < 3) continue;
            String controllers = f[1];
            for (CgMount m : mounts) {
                boolean match = controllers.isEmpty() ? m.v2
                        : !m.v2 && m.options.containsAll(Arrays.asList(controllers.split(",")));
                if (match) {
                    out.add(new Hierarchy(controllers, m.point, f[2]));
                    break;
                }
            }
        }
        return out;
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
