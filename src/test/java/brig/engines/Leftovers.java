package brig.engines;

import brig.testing.NoLeaks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * What engines leave on the host after their containers are gone, and its removal: their
 * helper processes (conmon, podman's cleanup, containerd's shims) still finishing, the storage
 * mounts podman makes under its graph root, and the parent cgroups engines create for their
 * containers (runc leaves those too). Each method returns what it found, for the test to report.
 */
final class Leftovers {
    private Leftovers() {}

    /** Processes (not this JVM) whose command line mentions {@code marker}. */
    static List<ProcessHandle> mentioning(String marker) {
        long self = ProcessHandle.current().pid();
        return ProcessHandle.allProcesses().filter(p -> p.pid() != self && p.info().commandLine().orElse("").contains(marker)).toList();
    }

    /** Waits up to {@code seconds} for those processes to end, then kills what is left; returns what had to be killed. */
    static List<String> awaitGone(String marker, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!mentioning(marker).isEmpty() && System.nanoTime() < end) Thread.sleep(50);
        List<String> killed = new ArrayList<>();
        for (ProcessHandle p : mentioning(marker)) {
            killed.add(p.pid() + " " + p.info().commandLine().orElse(""));
            p.destroyForcibly();
        }
        return killed;
    }

    /** Mount points at or below {@code dir} in this mount namespace, deepest first. */
    static List<String> mountsUnder(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4].replace("\\040", " ");
            if (point.equals(dir.toString()) || point.startsWith(dir + "/")) out.add(point);
        }
        return out.reversed();
    }

    /** Unmounts whatever is mounted at or below {@code dir}; returns what was. */
    static List<String> unmountUnder(Path dir) throws IOException {
        List<String> found = mountsUnder(dir);
        for (String m : found) Cmd.run(Path.of(System.getProperty("java.io.tmpdir")), Map.of(), 30, "umount", "-l", m);
        return found;
    }

    /**
     * Removes {@code relative} (a cgroup path such as "/brigtest-1-podman") and everything below
     * it in every hierarchy, deepest first; returns the directories that could not be removed.
     */
    static List<String> removeCgroups(String relative) throws IOException, InterruptedException {
        List<String> stuck = new ArrayList<>();
        for (Path h : NoLeaks.cgroupHierarchies()) {
            Path top = h.resolve(relative.replaceFirst("^/+", ""));
            if (!Files.isDirectory(top)) continue;
            List<Path> dirs;
            try (Stream<Path> s = Files.walk(top)) {
                dirs = s.filter(Files::isDirectory).sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
            }
            for (Path d : dirs) {
                // A cgroup whose last process has just exited stays busy for a moment.
                for (int k = 0; k < 50 && Files.exists(d); k++) {
                    try {
                        Files.delete(d);
                    } catch (IOException busy) {
                        Thread.sleep(20);
                    }
                }
                if (Files.exists(d)) stuck.add(d.toString());
            }
        }
        return stuck;
    }
}
