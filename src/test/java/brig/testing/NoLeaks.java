package brig.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Around each test: the host's mount table (every mount and its propagation) must be as it was
 * before, and no cgroup, process or state directory of Brig's test containers may be left on
 * the machine. Whatever is found is removed (leaked mounts unmounted, cgroups emptied and
 * removed, processes killed, shared propagation put back) so one failure does not cascade into
 * the tests after it, and reported as a failure.
 */
public final class NoLeaks implements BeforeEachCallback, AfterEachCallback {
    /**
     * Container ids of this test run start with this: test runs of other checkouts may run on
     * the same machine at the same time, and their containers are not ours to judge or kill.
     */
    public static final String PREFIX = "brigtest-" + ProcessHandle.current().pid() + "-";

    /**
     * Mounts the host itself makes and removes at any time (systemd's automounts, login
     * sessions): they come and go whatever the test does.
     */
    private static final List<String> HOST_OWNED = List.of("/proc/sys/fs/binfmt_misc", "/run/user/", "/run/credentials/");

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoLeaks.class);

    /** One line of /proc/self/mountinfo: its id, where, and its propagation (optional fields). */
    record Mount(String id, String point, String propagation) {}

    private record Before(Map<String, Mount> mounts, Set<Path> cgroups) {}

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        context.getStore(NS).put("before", new Before(mounts(), cgroupDirs()));
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<String> leaks = new ArrayList<>();
        Before before = context.getStore(NS).get("before", Before.class);
        ProcessHandle.allProcesses().forEach(p -> {
            String cmd = p.info().commandLine().orElse("");
            if (cmd.contains(PREFIX) && p.pid() != ProcessHandle.current().pid()) {
                leaks.add("process " + p.pid() + " " + cmd);
                p.destroyForcibly();
            }
        });
        leaks.addAll(mountLeaks(before.mounts()));
        Set<Path> now = cgroupDirs();
        List<Path> leaked = new ArrayList<>();
        for (Path c : now) {
            if (before.cgroups().contains(c)) continue;
            // The resident server's own cgroup (brig.server.Server.CGROUP) lives as long as some
            // server does (it removes it at exit; a killed one cannot), and the detached
            // containers' monitors' (brig.cli.ContainerDetach) outlives them by design.
            String own = c.getFileName().toString();
            if ((own.equals("brig.server") || own.equals("brig.monitor")) && cgroupHierarchiesQuietly().contains(c.getParent())) continue;
            // Brig's default parent, kept empty while a server runs (it removes it at exit).
            if (own.equals("brig") && cgroupHierarchiesQuietly().contains(c.getParent()) && !hasSubdirectory(c)) continue;
            // Other tenants of the machine (systemd) make cgroups too: only those of this run
            // count, wherever the test put them (its ids, Brig's default parent, below this
            // JVM's own cgroup where a relative cgroupsPath lands).
            if (c.toString().contains(PREFIX) || c.getFileName().toString().equals("brig") || underOwnCgroup(c)) leaked.add(c);
        }
        leaked.sort(Comparator.comparing((Path p) -> p.getNameCount()).reversed());
        for (Path c : leaked) {
            leaks.add("cgroup " + c);
            killAndRemove(c);
        }
        try (Stream<Path> tmp = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            for (Path t : tmp.filter(d -> d.getFileName().toString().startsWith("junit")).toList()) {
                try (Stream<Path> s = Files.walk(t, 3)) {
                    for (Path state : s.filter(d -> d.getFileName().toString().equals("state") && Files.isDirectory(d)).toList()) {
                        try (Stream<Path> ids = Files.list(state)) {
                            ids.filter(id -> id.getFileName().toString().startsWith(PREFIX)).forEach(id -> leaks.add("state " + id));
                        }
                    }
                }
            }
        } catch (IOException ignored) {
            // a temporary directory removed while we walk it is not a leak
        }
        if (!leaks.isEmpty()) fail("left behind: " + String.join("; ", leaks));
    }

    // ---- mounts ----

    static Map<String, Mount> mounts() throws IOException {
        Map<String, Mount> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            StringBuilder optional = new StringBuilder();
            for (int k = 6; k < f.length && !f[k].equals("-"); k++) optional.append(optional.isEmpty() ? "" : " ").append(f[k]);
            String point = unescape(f[4]);
            if (HOST_OWNED.stream().anyMatch(point::startsWith)) continue;
            out.put(f[0], new Mount(f[0], point, optional.isEmpty() ? "private" : optional.toString()));
        }
        return out;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < s.length(); k++) {
            if (s.charAt(k) == '\\' && k + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(k + 1, k + 4), 8));
                k += 3;
            } else {
                b.append(s.charAt(k));
            }
        }
        return b.toString();
    }

    /** What changed in the host's mount table since {@code before}; new mounts are undone. */
    static List<String> mountLeaks(Map<String, Mount> before) throws IOException {
        List<String> leaks = new ArrayList<>();
        Map<String, Mount> after = mounts();
        List<Mount> added = new ArrayList<>();
        for (Mount m : after.values()) {
            Mount was = before.get(m.id());
            if (was == null) {
                added.add(m);
            } else if (!was.propagation().equals(m.propagation())) {
                leaks.add("propagation of " + m.point() + " changed from " + was.propagation() + " to " + m.propagation());
                // The peer group cannot be rejoined; shared again (in a new group) is the closest.
                if (was.propagation().contains("shared:")) sh("mount", "--make-shared", m.point());
                else if (m.propagation().contains("shared:") && !was.propagation().contains("master:")) sh("mount", "--make-private", m.point());
            }
        }
        for (Mount m : before.values()) {
            if (!after.containsKey(m.id())) leaks.add("host mount " + m.point() + " was unmounted");
        }
        // Deepest (latest) first: a leaked tree comes off from its leaves.
        for (Mount m : added.reversed()) {
            leaks.add("mount " + m.point());
            sh("umount", "-l", m.point());
        }
        return leaks;
    }

    private static void sh(String... cmd) {
        try {
            new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        } catch (IOException | InterruptedException ignored) {
            // reported as a leak already
        }
    }

    // ---- cgroups ----

    private static List<Path> cgroupHierarchiesQuietly() {
        try {
            return cgroupHierarchies();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The mount points of the cgroup hierarchies (v1 and v2), from /proc/self/mountinfo. */
    public static List<Path> cgroupHierarchies() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (dash > 0 && (f[dash + 1].equals("cgroup") || f[dash + 1].equals("cgroup2"))) out.add(Path.of(unescape(f[4])));
        }
        return out;
    }

    /** This JVM's own cgroup directories, one per hierarchy. */
    private static List<Path> ownCgroups() throws IOException {
        List<Path> out = new ArrayList<>();
        List<String> self = Files.readAllLines(Path.of("/proc/self/cgroup"));
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (dash < 0) continue;
            String type = f[dash + 1];
            if (!type.equals("cgroup") && !type.equals("cgroup2")) continue;
            Set<String> opts = Set.of(f[dash + 3].split(","));
            for (String s : self) {
                String[] c = s.split(":", 3);
                boolean match = type.equals("cgroup2") ? c[0].equals("0") && c[1].isEmpty()
                        : !c[1].isEmpty() && opts.containsAll(List.of(c[1].split(",")));
                // The hierarchy's root is mounted (f[3] is "/"), so the path is under it.
                if (match) out.add(Path.of(unescape(f[4]), c[2].substring(1)));
            }
        }
        return out;
    }

    private static boolean underOwnCgroup(Path c) {
        try {
            for (Path own : ownCgroups()) if (c.startsWith(own) && !c.equals(own)) return true;
        } catch (IOException ignored) {
            // no cgroups to judge
        }
        return false;
    }

    /** Every cgroup directory of every hierarchy (deep enough for what tests make). */
    static Set<Path> cgroupDirs() throws IOException {
        Set<Path> out = new TreeSet<>();
        for (Path h : cgroupHierarchies()) {
            // A cgroup removed while we walk (a server's, a monitor's) ends the walk there: walk
            // again, or the cgroups not reached yet (another tenant's, below the root) would
            // count as new after the test (seen once: podman's libpod_parent in a CI run).
            for (int attempt = 0; attempt < 5; attempt++) {
                Set<Path> found = new TreeSet<>();
                try (Stream<Path> s = Files.walk(h, 8)) {
                    s.filter(p -> Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).forEach(found::add);
                    out.addAll(found);
                    break;
                } catch (IOException | java.io.UncheckedIOException e) {
                    // walked into a cgroup as it went: once more
                }
            }
        }
        return out;
    }

    private static boolean hasSubdirectory(Path dir) {
        try (var s = Files.newDirectoryStream(dir, Files::isDirectory)) {
            return s.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills every process in the cgroup and below (until none is left), then removes it. */
    static void killAndRemove(Path cgroup) {
        try {
            if (Files.exists(cgroup.resolve("cgroup.kill"))) Files.writeString(cgroup.resolve("cgroup.kill"), "1");
            for (int round = 0; round < 100; round++) {
                boolean any = false;
                try (Stream<Path> s = Files.walk(cgroup)) {
                    for (Path procs : s.filter(p -> p.getFileName().toString().equals("cgroup.procs")).toList()) {
                        for (String pid : Files.readAllLines(procs)) {
                            any = true;
                            ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
                        }
                    }
                }
                if (!any) break;
                Thread.sleep(20);
            }
            try (Stream<Path> s = Files.walk(cgroup)) {
                for (Path d : s.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).toList()) {
                    for (int round = 0; round < 50 && Files.exists(d); round++) {
                        try {
                            Files.deleteIfExists(d);
                        } catch (IOException busy) {
                            Thread.sleep(20);
                        }
                    }
                }
            }
        } catch (IOException | InterruptedException | NumberFormatException | java.io.UncheckedIOException ignored) {
            // reported as a leak already
        }
    }

    /**
     * What an operator does after killing a container's supervisor: kills what is left in the
     * container's cgroups (wherever they are, in every hierarchy), removes them and the state.
     */
    public static void removeContainer(String id, Path stateRoot) throws IOException {
        List<Path> mine = new ArrayList<>();
        for (Path c : cgroupDirs()) if (c.getFileName().toString().equals(id)) mine.add(c);
        for (Path c : mine) killAndRemove(c);
        for (Path c : mine) {
            Path parent = c.getParent();
            if (parent.getFileName().toString().equals("brig")) {
                try {
                    Files.deleteIfExists(parent); // Brig's default parent, if no other container is in it
                } catch (IOException busy) {
                    // another container's
                }
            }
        }
        if (!Files.exists(stateRoot)) return;
        try (Stream<Path> s = Files.walk(stateRoot)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
