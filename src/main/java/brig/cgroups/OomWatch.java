package brig.cgroups;

import brig.syscalls.Errno;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Whether the OOM killer has struck in a container's memory cgroup (what {@code events}
 * reports). Two sources, because either alone can miss one:
 * <ul>
 * <li>the kernel's counters, read at any time: v1 memory.oom_control's "oom_kill" (kernels
 *     from 4.13), v2 memory.events' "oom_kill" (and "oom": the limit was hit and the OOM
 *     killer ran, whether or not it found a task to kill);
 * <li>v1 only, an eventfd registered with cgroup.event_control. It counts OOMs from its
 *     registration on: registered after the kill it sees nothing. So {@link #register} must
 *     happen before the container's program runs (right after the cgroup is made), and the
 *     counters must be read before the cgroup is deleted.
 * </ul>
 * The counters at registration are the baseline: only OOMs after it are reported.
 */
public final class OomWatch implements AutoCloseable {
    private final Path file;       // memory.oom_control (v1) or memory.events (v2)
    private final boolean v1;
    private final long baseOom, baseKills;
    private int eventFd;            // v1 only; -1 when closed or on v2
    private long events;            // what the eventfd delivered so far

    private OomWatch(Path file, boolean v1, int eventFd, long baseOom, long baseKills) {
        this.file = file;
        this.v1 = v1;
        this.eventFd = eventFd;
        this.baseOom = baseOom;
        this.baseKills = baseKills;
    }

    /** OOMs since registration: how often the limit could not be met, and tasks killed for it. */
    public record Report(long ooms, long oomKills) {
        public boolean any() { return ooms > 0 || oomKills > 0; }
    }

    /**
     * Starts watching the container's memory cgroup (the v1 one where there is one, else the
     * unified one). Call before the container's program runs; close when done.
     */
    public static OomWatch register(List<Path> containerDirs) throws CgroupException {
        for (Path d : containerDirs) {
            if (Files.exists(d.resolve("memory.oom_control"))) return registerV1(d);
        }
        for (Path d : containerDirs) {
            if (Files.exists(d.resolve("memory.events"))) {
                Path events = d.resolve("memory.events");
                Counters c = parse(read(events), events, false);
                return new OomWatch(events, false, -1, c.ooms(), c.kills());
            }
        }
        throw new CgroupException("cgroup: no memory cgroup for " + containerDirs
                + ": neither a v1 memory.oom_control nor a cgroup v2 memory.events file");
    }

    /** eventfd2(2) flags. */
    private static final int EFD_CLOEXEC = 02000000, EFD_NONBLOCK = 04000;

    private static long sysEventfd2() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64" -> 19;
            default -> 290; // x86-64
        };
    }

    private static OomWatch registerV1(Path dir) throws CgroupException {
        Path control = dir.resolve("memory.oom_control");
        int efd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a);
            efd = (int) Libc.call(st, Libc.Fn.SYSCALL, sysEventfd2(), 0, EFD_CLOEXEC | EFD_NONBLOCK, 0, 0, 0);
            if (efd < 0) throw new CgroupException("cgroup: watch " + control + ": " + new SyscallException("eventfd", null, Libc.errno(st)).getMessage());
        }
        try {
            // The kernel keeps the file it was given open for the registration's life: this
            // fd may be closed right after the write.
            int cfd;
            try {
                cfd = Libc.open(control.toString(), Libc.O_RDONLY, 0);
            } catch (SyscallException e) {
                throw new CgroupException("cgroup: watch " + control + ": " + e.getMessage());
            }
            try {
                ContainerCgroup.write(dir.resolve("cgroup.event_control"), efd + " " + cfd);
            } finally {
                Libc.close(cfd);
            }
            Counters c = parse(read(control), control, true);
            return new OomWatch(control, true, efd, c.ooms(), c.kills());
        } catch (CgroupException e) {
            Libc.close(efd);
            throw e;
        }
    }

    /**
     * The OOMs since registration. On v1 "ooms" are the eventfd's notifications (v1 has no OOM
     * counter), on v2 memory.events' "oom"; the kills are the kernel's counter on both. Once the
     * cgroup is gone the counters are too: what the eventfd saw is all that is left then.
     */
    public Report report() throws CgroupException {
        drain();
        Counters now;
        try {
            now = parse(Files.readString(file), file, v1);
        } catch (NoSuchFileException e) {
            return new Report(events, 0);
        } catch (IOException e) {
            throw new CgroupException("cgroup: read " + file + ": " + e.getMessage());
        }
        return new Report(v1 ? events : now.ooms() - baseOom, now.kills() - baseKills);
    }

    /**
     * Waits until an OOM is reported or the timeout passes (polling every 10 ms: these reads
     * cost microseconds, and a wait for an OOM is rare); returns what was seen.
     */
    public Report await(Duration timeout) throws CgroupException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Report r = report();
            if (r.any() || System.nanoTime() > deadline) return r;
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return r;
            }
        }
    }

    /**
     * Adds what the eventfd holds to the events seen. v1 also signals it once when the cgroup
     * is removed: after that, one of the signals is the removal, not an OOM.
     */
    private void drain() throws CgroupException {
        if (eventFd < 0) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8, 8);
            int n;
            try {
                n = Libc.read(eventFd, buf, 8);
            } catch (SyscallException e) {
                if (e.errno() == Errno.EAGAIN) return;
                throw new CgroupException("cgroup: read the OOM eventfd of " + file + ": " + e.getMessage());
            }
            if (n != 8) return;
            long got = buf.get(ValueLayout.JAVA_LONG, 0);
            // The removal is one signal more, added to any OOMs not read yet.
            if (!Files.exists(file)) got--;
            events += Math.max(0, got);
        }
    }

    /**
     * The file whose "oom_kill" line counts the OOM kills in the container's cgroup: v1
     * memory.oom_control where the memory controller is a v1 hierarchy, else the unified
     * directory's memory.events (there only while its parent enables memory). Null without
     * either. Decided from the layout alone: the directories need not exist yet.
     */
    public static Path killCounter(ContainerCgroup cgroup) {
        for (ContainerCgroup.Dir d : cgroup.dirs()) {
            if (d.hierarchy().has("memory")) return d.path().resolve("memory.oom_control");
        }
        for (ContainerCgroup.Dir d : cgroup.dirs()) {
            if (d.hierarchy().unified()) return d.path().resolve("memory.events");
        }
        return null;
    }

    /** The "oom_kill" count in a {@link #killCounter} file. */
    public static long kills(Path counter) throws CgroupException {
        return parse(read(counter), counter, counter.getFileName().toString().equals("memory.oom_control")).kills();
    }

    /** The line runc's {@code events} prints for an OOM: {"type":"oom","id":ID}. */
    public static com.google.gson.JsonObject event(String id) {
        com.google.gson.JsonObject o = new com.google.gson.JsonObject();
        o.addProperty("type", "oom");
        o.addProperty("id", id);
        return o;
    }

    @Override
    public void close() {
        Libc.close(eventFd);
        eventFd = -1;
    }

    record Counters(long ooms, long kills) {}

    /**
     * v1 memory.oom_control: "oom_kill_disable 0", "under_oom 0", "oom_kill N"; v2
     * memory.events: "low", "high", "max", "oom", "oom_kill", "oom_group_kill".
     */
    static Counters parse(String text, Path file, boolean v1) throws CgroupException {
        var keys = CgroupStats.keyed(text, file.toString());
        if (!keys.containsKey("oom_kill")) {
            throw new CgroupException("cgroup: " + file + ": no \"oom_kill\" counter (kernel older than 4.13?)");
        }
        return new Counters(v1 ? 0 : keys.getOrDefault("oom", 0L), keys.get("oom_kill"));
    }

    private static String read(Path file) throws CgroupException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new CgroupException("cgroup: read " + file + ": " + e.getMessage());
        }
    }
}
