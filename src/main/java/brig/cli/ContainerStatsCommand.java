package brig.cli;

import brig.container.ContainerException;
import brig.inspect.ContainerStats;
import brig.runtime.ContainerState;
import brig.runtime.StateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * `brig container stats [--no-stream] [NAME...]`: docker's stats columns as far as cgroups give
 * them (see {@link ContainerStats}), for the containers named or every running one of the
 * store. The CPU % needs two readings: the first table comes one second after the first
 * reading (docker's --no-stream waits as long), then one every second until interrupted.
 */
final class ContainerStatsCommand {
    private ContainerStatsCommand() {}

    static final List<Args.Flag> FLAGS = List.of(Args.Flag.bool("print once, not every second", "no-stream"));

    /** The interval between two readings, docker's. */
    static final long INTERVAL_MS = 1000;

    static int run(Invocation inv, Args a) throws Exception {
        boolean stream = !a.bool("no-stream");
        List<String> names = new ArrayList<>(a.positional());
        boolean all = names.isEmpty();
        StateStore store = new StateStore(inv.globals().root());
        for (String n : names) {
            StateStore.checkId(n);
            ContainerState s = store.read(n);
            if (s == null || !s.status().equals("running")) throw new ContainerException("container " + n + " is not running");
        }
        if (stream && inv.sv() != null) {
            // `container` is a quick verb, whose signals wait until it is done; a stream runs until ^C.
            try {
                inv.sv().forwardSignals();
            } catch (brig.syscalls.SyscallException e) {
                // the supervisor is gone: nothing to tell
            }
        }
        Map<String, ContainerStats.Sample> before = read(inv, store, all ? running(inv, a, store) : names, all);
        do {
            Thread.sleep(INTERVAL_MS);
            Map<String, ContainerStats.Sample> now = read(inv, store, all ? running(inv, a, store) : names, true);
            StringBuilder out = new StringBuilder(stream ? "\033[2J\033[H" : ""); // docker clears the screen between tables
            out.append(ContainerStats.HEADER).append('\n');
            for (ContainerStats.Sample s : now.values()) out.append(ContainerStats.row(before.get(s.name()), s)).append('\n');
            inv.out().print(out);
            inv.out().flush();
            if (inv.out().checkError()) return 0; // the reader has gone
            before = now;
        } while (stream);
        return 0;
    }

    /** The store's containers that run now, by name. */
    private static List<String> running(Invocation inv, Args a, StateStore store) throws Exception {
        Path dir = ImageFlags.storeDir(inv, a).resolve("containers");
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path b : s.sorted().toList()) {
                String n = b.getFileName().toString();
                ContainerState st = store.read(n);
                if (st != null && st.status().equals("running")) out.add(n);
            }
        }
        return out;
    }

    /** A reading of each; one that stopped meanwhile is left out when {@code skipGone}, else an error. */
    private static Map<String, ContainerStats.Sample> read(Invocation inv, StateStore store, List<String> names, boolean skipGone) throws Exception {
        Map<String, ContainerStats.Sample> out = new LinkedHashMap<>();
        for (String n : names) {
            ContainerState s = store.read(n);
            if (s == null || !s.status().equals("running")) {
                if (skipGone) continue;
                throw new ContainerException("container " + n + " is not running");
            }
            try {
                out.put(n, ContainerStats.sample(s));
            } catch (brig.cgroups.CgroupException e) {
                if (!skipGone) throw e; // it stopped between the state and its cgroup files
            }
        }
        return out;
    }
}
