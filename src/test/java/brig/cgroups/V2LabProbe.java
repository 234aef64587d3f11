package brig.cgroups;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Run by {@link CgroupV2LabIT} inside the v2 guest, on a spinning container's cgroup: the
 * library operations behind pause, resume and events (Freezer, CgroupStats) on a real v2 kernel,
 * which the host (v1) cannot show. Prints what it saw; the test judges it.
 */
public final class V2LabProbe {
    private V2LabProbe() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        List<Path> dirs = List.of(dir);
        Freezer.freeze(dirs);
        long a = usage(dir);
        Thread.sleep(300);
        System.out.println("frozen " + Freezer.state(dirs) + " ran " + (usage(dir) - a));
        Freezer.thaw(dirs);
        a = usage(dir);
        Thread.sleep(300);
        System.out.println("thawed " + Freezer.state(dirs) + " ran " + (usage(dir) - a));
        System.out.println("stats " + CgroupStats.read(dirs).toJson());
    }

    /** CPU time of the cgroup so far, in microseconds. */
    private static long usage(Path dir) throws Exception {
        for (String line : Files.readAllLines(dir.resolve("cpu.stat"))) {
            if (line.startsWith("usage_usec ")) return Long.parseLong(line.substring(11));
        }
        throw new AssertionError("no usage_usec in " + dir.resolve("cpu.stat"));
    }
}
