package brig.cgroups;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * `brig update` on a container that `brig run` runs in the foreground (as from another
 * terminal), on this v1 host: the limits read back from the host's cgroup files, and what the
 * container's program feels.
 */
@ExtendWith(NoLeaks.class)
class UpdateIT {
    @TempDir Path dir;

    /** The container waits for /go (made from the host in its rootfs) before its work. */
    private static final String WAIT = "while [ ! -e /go ]; do sleep 0.05; done; ";

    /** 150 MiB held by sh at once (a command substitution keeps what it reads). */
    private static final String EAT = "echo eating; x=$(head -c 157286400 /dev/zero | tr '\\0' a); echo survived ${#x}";

    /**
     * brig with its output in files, not read by threads of the common pool: with 2 cores that
     * pool has one thread, which the running container's output holds (Brig.run reads there).
     */
    private Brig.Result brig(String stdin, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Brig.launcher().toString()));
        cmd.addAll(List.of(args));
        return Brig.execThroughFiles(dir, dir, java.util.Map.of(), 30, cmd, stdin == null ? null : stdin.getBytes(StandardCharsets.UTF_8));
    }

    /** A container running in the background until it is let go (or, failing that, deleted). */
    private final class Live implements AutoCloseable {
        final TestBundle b;
        final CompletableFuture<Brig.Result> run;

        Live(TestBundle b) throws Exception {
            this.b = b;
            // A thread of its own: the common pool may have one thread on 2 cores, and the
            // output of the commands run meanwhile is read there.
            run = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    run.complete(b.run(null, 60));
                } catch (Throwable e) {
                    run.completeExceptionally(e);
                }
            });
            t.setDaemon(true);
            t.start();
            brig.runtime.StateStore store = new brig.runtime.StateStore(b.stateRoot());
            for (int k = 0; k < 200 && !run.isDone(); k++) {
                brig.runtime.ContainerState s = store.read(b.id()); // the status is computed as it is read
                if (s != null && s.status().equals("running")) return;
                Thread.sleep(25);
            }
            throw new AssertionError("the container did not start: " + (run.isDone() ? run.join() : "still starting"));
        }

        Brig.Result update(String... flags) throws Exception {
            return updateWithStdin(null, flags);
        }

        Brig.Result updateWithStdin(String stdin, String... flags) throws Exception {
            List<String> args = new ArrayList<>(List.of("--root", b.stateRoot().toString(), "update"));
            args.addAll(List.of(flags));
            args.add(b.id());
            return brig(stdin, args.toArray(String[]::new));
        }

        /**
         * `update --memory SIZE --memory-swap SIZE` (no swap): --explain first, which names the
         * writes in their order (memsw first when raising, the limit first when lowering: the
         * kernel wants memsw >= limit at every moment) and changes nothing; then the update,
         * silent as runc's, and both limits read back.
         */
        void updateMemory(String size, long bytes, boolean raising) throws Exception {
            Path memory = cgroup("memory");
            String limit = "write " + bytes + " to " + memory.resolve("memory.limit_in_bytes") + " (--memory)\n";
            String memsw = "write " + bytes + " to " + memory.resolve("memory.memsw.limit_in_bytes") + " (--memory-swap)\n";
            long before = read("memory", "memory.limit_in_bytes");
            assertEquals(raising ? memsw + limit : limit + memsw, update("--explain", "--memory", size, "--memory-swap", size).expect(0).out());
            assertEquals(before, read("memory", "memory.limit_in_bytes"), "--explain changes nothing");
            assertEquals(new Brig.Result(0, "", ""), update("--memory", size, "--memory-swap", size), "silent, as runc");
            assertEquals(bytes, read("memory", "memory.limit_in_bytes"));
            assertEquals(bytes, read("memory", "memory.memsw.limit_in_bytes"));
        }

        Path cgroup(String controller) throws Exception {
            return Hierarchy.discover().stream().filter(h -> h.has(controller)).findFirst().orElseThrow().mountPoint()
                    .resolve("brig").resolve(b.id());
        }

        long read(String controller, String file) throws Exception {
            String v = Files.readString(cgroup(controller).resolve(file)).trim();
            return v.equals("max") ? -1 : Long.parseLong(v);
        }

        Brig.Result go() throws Exception {
            Files.writeString(b.rootfs().resolve("go"), "");
            return run.get(60, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws Exception {
            if (run.isDone()) return;
            Files.writeString(b.rootfs().resolve("go"), "");
            try {
                run.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                brig(null, "--root", b.stateRoot().toString(), "delete", "--force", b.id());
                run.get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** The eater, waiting for /go, under a memory limit of {@code bytes} and no swap (memsw = limit, swappiness 0). */
    private TestBundle eater(long bytes) throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh(WAIT + EAT);
        b.set("linux.resources", "{\"memory\":{\"limit\":" + bytes + ",\"swap\":" + bytes + ",\"swappiness\":0}}");
        return b;
    }

    @Test
    void raisingMemoryAndSwapLetsAnEaterKilledUnderTheOldLimitSurvive() throws Exception {
        // memsw = limit (no swap): raising the limit before memsw is EINVAL.
        try (Live c = new Live(eater(104857600))) {
            c.updateMemory("400M", 419430400, true);
            Brig.Result r = c.go();
            assertEquals("eating\nsurvived 157286400\n", r.out(), r.err());
            assertEquals(0, r.exit(), r.err());
        }
    }

    @Test
    void loweringMemoryAndSwapGetsAnEaterThatFitBeforeKilled() throws Exception {
        // memsw first would be below the limit the cgroup has: EINVAL.
        try (Live c = new Live(eater(419430400))) {
            c.updateMemory("100M", 104857600, false);
            // The limit alone may not pass memsw; swap alone may not go below the limit. Nothing changes.
            assertEquals("brig: --memory: 209715200 is above the memory plus swap limit the cgroup has (104857600, "
                    + "memory.memsw.limit_in_bytes): give the swap limit too\n", c.update("--memory", "200M").expect(1).err());
            assertEquals(104857600, c.read("memory", "memory.limit_in_bytes"));
            Brig.Result r = c.go();
            assertEquals("eating\n", r.out(), "the eater must not survive: " + r.err());
            assertEquals(137, r.exit(), r.err());
        }
    }

    @Test
    void cpuQuotaAndPeriodPidsAndCpusetOfARunningContainer() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh(WAIT + "cat /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/pids/pids.max "
                + "/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
        b.set("linux.resources", "{\"cpu\":{\"quota\":50000,\"period\":100000},\"pids\":{\"limit\":20}}");
        try (Live c = new Live(b)) {
            // A shorter period: the new quota first, or 50000 over 40000 passes a parent's ratio.
            Path cpu = c.cgroup("cpu");
            assertEquals("write 20000 to " + cpu.resolve("cpu.cfs_quota_us") + " (--cpu-quota)\n"
                    + "write 40000 to " + cpu.resolve("cpu.cfs_period_us") + " (--cpu-period)\n",
                    c.update("--explain", "--cpu-quota", "20000", "--cpu-period", "40000").expect(0).out());
            c.update("--cpu-quota", "20000", "--cpu-period", "40000").expect(0);
            assertEquals(20000, c.read("cpu", "cpu.cfs_quota_us"));
            assertEquals(40000, c.read("cpu", "cpu.cfs_period_us"));
            c.update("--cpu-period", "200000", "--cpu-quota", "300000").expect(0);
            assertEquals(300000, c.read("cpu", "cpu.cfs_quota_us"));
            assertEquals(200000, c.read("cpu", "cpu.cfs_period_us"));
            c.update("--cpu-quota", "-1").expect(0);
            assertEquals(-1, c.read("cpu", "cpu.cfs_quota_us"));
            assertEquals(200000, c.read("cpu", "cpu.cfs_period_us"), "the period stays");
            c.update("--pids-limit", "5", "--cpuset-cpus", "0").expect(0);
            assertEquals(5, c.read("pids", "pids.max"));
            assertEquals("0", Files.readString(c.cgroup("cpuset").resolve("cpuset.cpus")).trim());
            // As CRI sends it: linux.resources on stdin.
            c.updateWithStdin("{\"pids\":{\"limit\":-1},\"cpu\":{\"quota\":150000}}", "--resources", "-").expect(0);
            assertEquals(-1, c.read("pids", "pids.max"));
            assertEquals(150000, c.read("cpu", "cpu.cfs_quota_us"));
            // A value the kernel refuses names the file, the flag and the errno.
            Brig.Result bad = c.update("--cpuset-cpus", "0-1023");
            assertEquals("brig: cgroup: write \"0-1023\" to " + c.cgroup("cpuset").resolve("cpuset.cpus") + " (--cpuset-cpus): ",
                    bad.err().substring(0, bad.err().indexOf(": E") + 2), bad.err());
            Brig.Result r = c.go();
            assertEquals(0, r.exit(), r.err());
            // The container sees its new limits in its own cgroup files.
            assertEquals(List.of("0", "max", "150000"), r.out().lines().toList());
        }
    }

    @Test
    void anUnknownOrStoppedContainerFailsWithRuncsWords() throws Exception {
        Path root = dir.resolve("state");
        Brig.Result r = brig(null, "--root", root.toString(), "update", "--memory", "100M", NoLeaks.PREFIX + "none");
        assertEquals(new Brig.Result(1, "", "brig: container does not exist\n"), r);
        // A container whose process is gone (this JVM's pid, from another start time).
        String id = NoLeaks.PREFIX + "stopped";
        Files.createDirectories(root.resolve(id));
        Files.writeString(root.resolve(id).resolve("state.json"), """
                {"ociVersion":"1.2.0","id":"%s","pid":%d,"status":"running","bundle":"/","rootfs":"/","created":"2026-12-01T00:00:00Z",
                 "owner":"","brig":{"pidStart":1,"cgroups":[],"madeCgroups":[],"start":"1"}}""".formatted(id, ProcessHandle.current().pid()));
        try {
            r = brig(null, "--root", root.toString(), "update", "--pids-limit", "5", id);
            assertEquals(new Brig.Result(1, "", "brig: container not running\n"), r);
        } finally {
            NoLeaks.removeContainer(id, root);
        }
    }
}
