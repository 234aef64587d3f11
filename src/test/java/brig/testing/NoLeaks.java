package brig.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After each test: no mount, cgroup, process or state directory of Brig's test containers may
 * be left on the machine. Whatever is found is removed (so one failure does not cascade) and
 * reported as a failure.
 */
public final class NoLeaks implements AfterEachCallback {
    /**
     * Container ids of this test run start with this: test runs of other checkouts may run on
     * the same machine at the same time, and their containers are not ours to judge or kill.
     */
    public static final String PREFIX = "brigtest-" + ProcessHandle.current().pid() + "-";

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<String> leaks = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4];
            if (point.contains(PREFIX) || point.contains("/junit") || point.contains("brig-demo")) leaks.add("mount " + point);
        }
        for (Path h : cgroupHierarchies()) {
            Path brig = h.resolve("brig");
            if (!Files.isDirectory(brig)) continue;
            try (Stream<Path> s = Files.list(brig)) {
                for (Path p : s.filter(Files::isDirectory).toList()) {
                    if (!p.getFileName().toString().startsWith(PREFIX)) continue;
                    leaks.add("cgroup " + p);
                    killAndRemove(p);
                }
            }
        }
        ProcessHandle.allProcesses().forEach(p -> {
            String cmd = p.info().commandLine().orElse("");
            if (cmd.contains(PREFIX) && p.pid() != ProcessHandle.current().pid()) {
                leaks.add("process " + p.pid() + " " + cmd);
                p.destroyForcibly();
            }
        });
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
        }
        if (!leaks.isEmpty()) fail("left behind: " + String.join("; ", leaks));
    }

    static List<Path> cgroupHierarchies() throws IOException {
        List<Path> out = new ArrayList<>();
        Path root = Path.of("/sys/fs/cgroup");
        if (Files.exists(root.resolve("cgroup.controllers"))) return List.of(root);
        try (Stream<Path> s = Files.list(root)) {
            s.filter(Files::isDirectory).forEach(out::add);
        }
        return out;
    }

    private static void killAndRemove(Path cgroup) {
        try {
            for (String pid : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
                ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
            }
            Thread.sleep(100);
            Files.deleteIfExists(cgroup);
        } catch (IOException | InterruptedException | NumberFormatException ignored) {
            // reported as a leak already
        }
    }
}
