package brig.inspect;

import brig.runtime.ContainerState;
import brig.runtime.StateStore;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The namespaces of the host's processes, as util-linux's lsns lists them (one row per
 * namespace: its inode, type, how many processes are in it, the lowest of their pids, that
 * process's user and command), plus the Brig container that owns each: the one whose first
 * process is in it, where that is not the caller's own namespace of the type (a container
 * without a user namespace is in the host's, which is not its own).
 *
 * <p>Read from /proc/PID/ns/TYPE links; a process whose links cannot be read (gone, or pid 1
 * of a sandbox that refuses ptrace access even to root) is left out, as lsns leaves it out.
 */
public final class Namespaces {
    private Namespaces() {}

    /** lsns's types, in /proc/PID/ns names (not pid_for_children or time_for_children: those name the next child's). */
    public static final List<String> TYPES = List.of("mnt", "net", "pid", "uts", "ipc", "user", "cgroup", "time");

    /**
     * One namespace.
     *
     * @param pid the lowest pid in it
     * @param user the user of that process (its effective uid, by the host's name for it)
     * @param container the Brig container owning it, or "" (more than one, comma-separated,
     *     when containers were made to share it)
     */
    public record Namespace(long inode, String type, int nprocs, int pid, String user, String command, String container) {}

    /** Every namespace now, by inode; {@code owners} from {@link #owners}. */
    public static List<Namespace> list(Map<Long, String> owners) {
        record First(String type, int[] count, Proc proc) {}
        Map<Long, First> byInode = new TreeMap<>();
        for (int pid : Proc.pids()) {
            Proc p = null;
            for (String type : TYPES) {
                long ino = Proc.nsInode(pid, type);
                if (ino == 0) continue;
                if (p == null && (p = Proc.read(pid)) == null) break;
                First f = byInode.get(ino);
                // Ascending pids: the first seen is the lowest.
                if (f == null) byInode.put(ino, f = new First(type, new int[1], p));
                f.count[0]++;
            }
        }
        Proc.Users users = new Proc.Users();
        List<Namespace> out = new ArrayList<>();
        byInode.forEach((ino, f) -> out.add(new Namespace(ino, f.type, f.count[0], f.proc.pid(), users.name(f.proc.uid()),
                f.proc.command(), owners.getOrDefault(ino, ""))));
        return out;
    }

    /**
     * Which container owns which namespace: the namespaces of the first process of every
     * live container under the state root, less the caller's own.
     */
    public static Map<Long, String> owners(StateStore store, Consumer<String> warn) {
        Map<Long, String> own = new LinkedHashMap<>();
        for (String type : TYPES) {
            long mine = Proc.nsInode((int) ProcessHandle.current().pid(), type);
            if (mine != 0) own.put(mine, type);
        }
        Map<Long, String> out = new LinkedHashMap<>();
        for (ContainerState s : store.list(warn)) {
            if (s.pid() <= 0 || s.status().equals("stopped") || s.status().equals("creating")) continue;
            for (String type : TYPES) {
                long ino = Proc.nsInode(s.pid(), type);
                if (ino == 0 || own.containsKey(ino)) continue;
                out.merge(ino, s.id(), (a, b) -> a + "," + b);
            }
        }
        return out;
    }

    /** lsns -p PID: the namespaces that process is in. */
    public static List<Namespace> ofPid(List<Namespace> all, int pid) {
        List<Long> its = TYPES.stream().map(t -> Proc.nsInode(pid, t)).filter(i -> i != 0).toList();
        return all.stream().filter(n -> its.contains(n.inode())).toList();
    }

    /**
     * lsns's table, NS TYPE NPROCS PID USER, then CONTAINER ("-" for none) and COMMAND last,
     * where it may run on as in lsns (a command line is too long to pad a column after it to).
     */
    public static String table(List<Namespace> rows, boolean headings) {
        int nsW = 10, nW = 6, pW = 5, uW = 4, cW = 9;
        for (Namespace n : rows) {
            nsW = Math.max(nsW, Long.toString(n.inode()).length());
            nW = Math.max(nW, Integer.toString(n.nprocs()).length());
            pW = Math.max(pW, Integer.toString(n.pid()).length());
            uW = Math.max(uW, n.user().length());
            cW = Math.max(cW, n.container().length());
        }
        String fmt = "%" + nsW + "s %-6s %" + nW + "s %" + pW + "s %-" + uW + "s %-" + cW + "s %s";
        StringBuilder sb = new StringBuilder();
        if (headings) sb.append(String.format(fmt, "NS", "TYPE", "NPROCS", "PID", "USER", "CONTAINER", "COMMAND")).append('\n');
        for (Namespace n : rows) {
            sb.append(String.format(fmt, n.inode(), n.type(), n.nprocs(), n.pid(), n.user(),
                    n.container().isEmpty() ? "-" : n.container(), n.command())).append('\n');
        }
        return sb.toString();
    }

    /** lsns --json's shape ({"namespaces": [{"ns": ..., "type": ...}]}), with "container" (null for none). */
    public static JsonObject toJson(List<Namespace> rows) {
        JsonArray a = new JsonArray();
        for (Namespace n : rows) {
            JsonObject o = new JsonObject();
            o.addProperty("ns", n.inode());
            o.addProperty("type", n.type());
            o.addProperty("nprocs", n.nprocs());
            o.addProperty("pid", n.pid());
            o.addProperty("user", n.user());
            o.addProperty("command", n.command());
            if (n.container().isEmpty()) o.add("container", JsonNull.INSTANCE);
            else o.addProperty("container", n.container());
            a.add(o);
        }
        JsonObject o = new JsonObject();
        o.add("namespaces", a);
        return o;
    }
}
