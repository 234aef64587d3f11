package brig.runtime;

import brig.cgroups.CgroupException;
import brig.cgroups.CgroupStats;
import brig.cgroups.ContainerCgroup;
import brig.cgroups.OomWatch;
import com.google.gson.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * A container's events, as runc's {@code events} reports them: its resource usage every
 * interval, and each time the OOM killer strikes in its memory cgroup, until the container
 * stops. Each event prints as one JSON line ({@link Event#toJson}): {"type":"stats","id":ID,
 * "data":{...}} and {"type":"oom","id":ID}.
 */
public final class Events {
    private Events() {}

    /** One event of a container. */
    public sealed interface Event permits Stats, Oom {
        String id();

        /** The line runc prints for it. */
        JsonObject toJson();
    }

    /** The container's resource usage at one moment. */
    public record Stats(String id, CgroupStats stats) implements Event {
        @Override
        public JsonObject toJson() {
            return stats.toEvent(id);
        }
    }

    /** The OOM killer struck in the container's memory cgroup. */
    public record Oom(String id) implements Event {
        @Override
        public JsonObject toJson() {
            return OomWatch.event(id);
        }
    }

    /**
     * How often the watch looks for an OOM and for the container's end, between stats. One
     * round reads memory.oom_control (or memory.events), drains the eventfd and lists one
     * hierarchy's cgroup.procs. Measured with a round every 100 ms: 0.29 s of CPU over 18 s
     * (1.6 % of a core, C1-compiled); every 250 ms: 0.15 s over 18 s (0.8 %), and an OOM or
     * the end still shows within a quarter of a second.
     */
    static final Duration TICK = Duration.ofMillis(250);

    /**
     * The container's usage now (`events --stats`). Fails as runc's events does for a
     * container that is not running.
     */
    static Stats stats(StateStore store, String id) throws BrigException, CgroupException {
        ContainerState s;
        try (StateStore.Lock lock = store.lock(id)) {
            s = running(store, id);
        }
        return new Stats(id, CgroupStats.read(s.cgroups()));
    }

    /**
     * Reports the container's events to {@code sink} until it stops: its stats every
     * {@code interval} (the first one interval from now, as runc's), and an {@link Oom} for each
     * OOM in its memory cgroup from now on. The container has stopped once no process is left
     * in its cgroups, or they are gone (a `delete`): runc's end on cgroup v2 (there the cgroup
     * is unpopulated; on v1 runc waits until the cgroup is removed, which here comes with the
     * container's end or its delete). Stats that cannot be read (the container ending
     * meanwhile) are reported to {@code warn}, and the watch goes on, as in runc.
     */
    static void watch(StateStore store, String id, Duration interval, Consumer<Event> sink, Consumer<String> warn)
            throws BrigException, CgroupException {
        if (interval.isNegative() || interval.isZero()) throw new BrigException("duration interval must be greater than 0");
        ContainerState s;
        OomWatch oom;
        // Registered under the lock: a delete cannot remove the cgroup between the status
        // check and the registration. The lock is not held while watching (kill and delete
        // must not wait for a watch that runs as long as the container).
        try (StateStore.Lock lock = store.lock(id)) {
            s = running(store, id);
            oom = OomWatch.register(s.cgroups());
        }
        try (oom) {
            List<java.nio.file.Path> dirs = s.cgroups();
            // Every process of the container is in its subtree of each hierarchy: one tells.
            List<java.nio.file.Path> one = dirs.isEmpty() ? dirs : List.of(dirs.get(0));
            long seen = 0;
            long next = System.nanoTime() + interval.toNanos();
            while (true) {
                seen = reportOoms(oom, seen, id, sink);
                if (ContainerCgroup.pids(one).isEmpty()) {
                    reportOoms(oom, seen, id, sink); // a kill that ended it is counted by now
                    return;
                }
                long now = System.nanoTime();
                if (now - next >= 0) {
                    try {
                        sink.accept(new Stats(id, CgroupStats.read(dirs)));
                    } catch (CgroupException e) {
                        if (ContainerCgroup.pids(one).isEmpty()) continue; // it ended: the next round says so
                        warn.accept(e.getMessage());
                    }
                    next += interval.toNanos();
                    if (next - now < 0) next = now + interval.toNanos(); // a slow round: no burst to catch up
                    now = System.nanoTime();
                }
                long sleep = Math.min(TICK.toNanos(), Math.max(0, next - now));
                try {
                    Thread.sleep(Duration.ofNanos(sleep));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Reports the OOMs counted since {@code seen} (the larger of the two counts: v1 counts OOM
     * notifications, both count kills), one event each; returns the count now.
     */
    private static long reportOoms(OomWatch oom, long seen, String id, Consumer<Event> sink) throws CgroupException {
        OomWatch.Report r = oom.report();
        long now = Math.max(r.ooms(), r.oomKills());
        for (long k = seen; k < now; k++) sink.accept(new Oom(id));
        return Math.max(seen, now);
    }

    /** The container's state, if it is not stopped; runc's words otherwise. */
    private static ContainerState running(StateStore store, String id) throws BrigException {
        ContainerState s = store.read(id);
        if (s == null) throw StateStore.notFound();
        if (s.status().equals("stopped") || s.status().equals("creating")) {
            throw new BrigException("container with id " + id + " is not running");
        }
        return s;
    }
}
