package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** What `--explain` shows of Brig's host work is what a run does: the container sees each write. */
@ExtendWith(NoLeaks.class)
class HostStepsIT {
    @TempDir Path dir;

    @Test
    void theHostStepsExplainedAreTheOnesTheContainerSees() throws Exception {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestBundle b = TestBundle.busybox(dir)
                .sh("cat /proc/self/uid_map /proc/self/gid_map /proc/self/oom_score_adj /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                        + "grep :memory: /proc/self/cgroup");
        b.userNamespace(100000, 65536);
        b.set("process.oomScoreAdj", "300");
        b.set("linux.resources", "{\"memory\":{\"limit\":67108864}}");
        List<String> plan = b.run("--explain").expect(0).out().lines().toList();
        int await = index(plan, " 5. wait while brig writes the uid and gid maps, places the process in its cgroup if the clone could not, sets its oom_score_adj");
        List<String> after = plan.stream().filter(l -> l.startsWith("host after clone: ")).toList();
        assertEquals(4, after.size(), String.join("\n", plan));
        assertEquals(await + 1, plan.indexOf(after.get(0)), "right after the wait: " + String.join("\n", plan));
        assertTrue(index(plan, "host: write 67108864 to ") < index(plan, " 3. clone "), String.join("\n", plan));

        // Each value the plan writes, as the container reads it back.
        String out = b.run().expect(0).out();
        List<String> seen = out.lines().map(l -> l.trim().replaceAll("\\s+", " ")).toList();
        assertEquals(List.of(written(after.get(0), "/proc/PID/uid_map"), written(after.get(1), "/proc/PID/gid_map"),
                written(after.get(3), "/proc/PID/oom_score_adj"), "67108864", seen.get(4)), seen, out);
        // In a user namespace too the process joins its v1 cgroups itself (the tasks files
        // Brig opened as root); Brig writes only the cgroup2 one, should the clone not do it.
        assertTrue(seen.get(4).matches("\\d+:memory:/brig/" + b.id()), out);
        assertTrue(after.get(2).startsWith("host after clone: place the process in its cgroup2 directory if the clone could not"), after.get(2));
    }

    private static int index(List<String> lines, String prefix) {
        // Step numbers are padded to the plan's widest.
        for (int k = 0; k < lines.size(); k++) if (lines.get(k).strip().startsWith(prefix.strip())) return k;
        throw new AssertionError("no line \"" + prefix + "...\" in\n" + String.join("\n", lines));
    }

    /** The value of a line "host after clone: write VALUE to FILE (...)", quotes removed. */
    private static String written(String line, String file) {
        Matcher m = Pattern.compile("host after clone: write \"?(.*?)\"? to " + Pattern.quote(file) + " \\(.*\\)").matcher(line);
        assertTrue(m.matches(), line);
        return m.group(1);
    }
}
