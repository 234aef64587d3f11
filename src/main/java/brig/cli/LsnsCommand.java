package brig.cli;

import brig.inspect.Namespaces;
import brig.runtime.StateStore;
import java.util.List;

/**
 * `brig lsns [-p PID] [-t TYPE] [-J] [-n] [NS]`: util-linux lsns's rows (NS TYPE NPROCS PID USER
 * COMMAND) and the Brig container under --root that owns each namespace (see {@link Namespaces}).
 */
final class LsnsCommand {
    private LsnsCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("only the namespaces of this process", "task", "p"),
            Args.Flag.value("only namespaces of this type: mnt, net, ipc, user, pid, uts, cgroup or time", "type", "t"),
            Args.Flag.bool("print JSON ({\"namespaces\": [...]}, as lsns -J, with \"container\")", "json", "J"),
            Args.Flag.bool("no header line", "noheadings", "n"));

    static int run(Invocation inv, Args a) throws Args.UsageException {
        List<String> pos = a.positional();
        if (pos.size() > 1) throw new Args.UsageException("\"lsns\" takes at most one namespace (its inode number)");
        long only = pos.isEmpty() ? 0 : number(pos.get(0), "namespace");
        String type = a.value("type", null);
        if (type != null && !Namespaces.TYPES.contains(type)) {
            throw new Args.UsageException("unknown namespace type: " + type + " (one of " + String.join(", ", Namespaces.TYPES) + ")");
        }
        int pid = a.has("task") ? (int) number(a.value("task", ""), "-p") : 0;
        if (pid > 0 && !java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/" + pid))) {
            return inv.fail("lsns: -p " + pid + ": no such process (/proc/" + pid + ": ENOENT: no such file or directory)");
        }
        var owners = Namespaces.owners(new StateStore(inv.globals().root()), inv::warn);
        List<Namespaces.Namespace> rows = Namespaces.list(owners);
        if (pid > 0) rows = Namespaces.ofPid(rows, pid);
        rows = rows.stream().filter(n -> (type == null || n.type().equals(type)) && (only == 0 || n.inode() == only)).toList();
        if (a.bool("json")) {
            inv.out().println(brig.json.Json.pretty(Namespaces.toJson(rows)));
        } else {
            inv.out().print(Namespaces.table(rows, !a.bool("noheadings")));
        }
        return 0;
    }

    private static long number(String s, String what) throws Args.UsageException {
        try {
            long n = Long.parseLong(s);
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw new Args.UsageException("invalid " + what + " \"" + s + "\": expected a positive number");
    }
}
