package brig.cgroups;

import brig.testing.Busybox;
import brig.testing.NoLeaks;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A cgroup made by a test straight in the host's hierarchies (named with NoLeaks.PREFIX), and
 * busybox processes moved into it by writing cgroup.procs: the operations under test work on
 * directories, whoever made them. {@link #close} kills what is in it and removes it.
 */
final class TestCgroup implements AutoCloseable {
    final List<Path> dirs = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    /** A directory named PREFIX+name in each of these hierarchies ("memory", "freezer", "unified", ...). */
    TestCgroup(String name, String... hierarchies) throws IOException {
        try {
            for (String h : hierarchies) {
                Path d = Path.of("/sys/fs/cgroup", h, NoLeaks.PREFIX + name);
                Files.createDirectory(d);
                dirs.add(d);
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    Path dir(String hierarchy) {
        return dirs.stream().filter(d -> d.getParent().getFileName().toString().equals(hierarchy)).findFirst().orElseThrow();
    }

    void write(String hierarchy, String file, String value) throws IOException, CgroupException {
        ContainerCgroup.write(dir(hierarchy).resolve(file), value);
    }

    /**
     * Starts {@code busybox sh -c script} and puts it in every directory of the cgroup before
     * the script goes on: it waits for a line on its stdin, sent once it is in. The PREFIX in
     * its command line lets NoLeaks find it should it survive.
     */
    Process start(String script) throws IOException, CgroupException {
        Process p = new ProcessBuilder(Busybox.BINARY.toString(), "sh", "-c", "read go; " + script, NoLeaks.PREFIX)
                .redirectErrorStream(true).start();
        processes.add(p);
        for (Path d : dirs) ContainerCgroup.write(d.resolve("cgroup.procs"), Long.toString(p.pid()));
        OutputStream in = p.getOutputStream();
        in.write('\n');
        in.flush();
        return p;
    }

    @Override
    public void close() {
        try {
            // Frozen tasks cannot die: thaw first (a test may have failed while frozen).
            for (Path d : dirs) {
                if (Files.exists(d.resolve("freezer.state"))) Files.writeString(d.resolve("freezer.state"), "THAWED");
                if (Files.exists(d.resolve("cgroup.freeze"))) Files.writeString(d.resolve("cgroup.freeze"), "0");
            }
            ContainerCgroup.kill(dirs);
        } catch (IOException | CgroupException ignored) {
            // NoLeaks reports what is left
        }
        for (Process p : processes) {
            p.destroyForcibly();
            try {
                p.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Path d : dirs) {
            for (int round = 0; round < 100 && Files.exists(d); round++) {
                try {
                    Files.deleteIfExists(d);
                } catch (IOException busy) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }
    }
}
