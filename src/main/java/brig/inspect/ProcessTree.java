package brig.inspect;

import brig.cgroups.ContainerCgroup;
import brig.runtime.BrigException;
import brig.runtime.ContainerState;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A container's processes as a forest: its first process and everything below it (children
 * by /proc/PID/task/TID/children), and every other process in its cgroup (an exec'd process
 * has a parent outside the container, so it is a root of its own), each with its host pid, its
 * pid in the container's pid namespace, its user and command: the lab's `ps axfo` / pstree.
 *
 * @param roots the first process's tree first, then the others by pid
 */
public record ProcessTree(List<Node> roots) {

    public ProcessTree {
        roots = List.copyOf(roots);
    }

    /** One process and those it started that are in the container. */
    public record Node(Proc proc, String user, List<Node> children) {
        public Node {
            children = List.copyOf(children);
        }
    }

    /** The tree of a live container (as {@code StateStore.read} gives it). */
    public static ProcessTree of(ContainerState s) throws BrigException {
        if (s.pid() <= 0 || s.status().equals("stopped")) throw new BrigException("container " + s.id() + " is not running (" + s.status() + ")");
        return of(s.pid(), ContainerCgroup.pids(s.cgroups()));
    }

    /** The tree below {@code init} together with the processes {@code others} (a cgroup's). */
    public static ProcessTree of(int init, Collection<Integer> others) {
        TreeSet<Integer> members = new TreeSet<>(others);
        List<Integer> todo = new ArrayList<>(List.of(init));
        while (!todo.isEmpty()) {
            int p = todo.remove(todo.size() - 1);
            if (members.add(p) || p == init) todo.addAll(Proc.children(p).stream().filter(c -> !members.contains(c)).toList());
        }
        Map<Integer, Proc> procs = new LinkedHashMap<>();
        for (int p : members) {
            Proc proc = Proc.read(p);
            if (proc != null) procs.put(p, proc);
        }
        Map<Integer, List<Integer>> kids = new LinkedHashMap<>();
        TreeSet<Integer> isChild = new TreeSet<>();
        for (int p : procs.keySet()) {
            List<Integer> c = Proc.children(p).stream().filter(procs::containsKey).toList();
            kids.put(p, c);
            isChild.addAll(c);
        }
        Proc.Users users = new Proc.Users();
        List<Node> roots = new ArrayList<>();
        if (procs.containsKey(init)) roots.add(node(init, procs, kids, users, new TreeSet<>()));
        for (int p : procs.keySet()) {
            if (p != init && !isChild.contains(p)) roots.add(node(p, procs, kids, users, new TreeSet<>()));
        }
        return new ProcessTree(roots);
    }

    private static Node node(int pid, Map<Integer, Proc> procs, Map<Integer, List<Integer>> kids, Proc.Users users, TreeSet<Integer> seen) {
        seen.add(pid);
        List<Node> children = new ArrayList<>();
        for (int c : kids.getOrDefault(pid, List.of())) if (!seen.contains(c)) children.add(node(c, procs, kids, users, seen));
        Proc p = procs.get(pid);
        return new Node(p, users.name(p.uid()), children);
    }

    /** Every process, parents before their children (the order the tree prints them in). */
    public List<Node> flat() {
        List<Node> out = new ArrayList<>();
        for (Node r : roots) walk(r, out);
        return out;
    }

    private static void walk(Node n, List<Node> out) {
        out.add(n);
        for (Node c : n.children()) walk(c, out);
    }

    /**
     * PID (the host's), CPID (the container's), PPID, USER, COMMAND; with {@code tree} the
     * commands indented under their parents as `ps f` does (" \_ "), else sorted by pid.
     */
    public String table(boolean tree) {
        List<String[]> rows = new ArrayList<>();
        if (tree) {
            for (Node r : roots) rows(r, "", rows);
        } else {
            flat().stream().sorted(java.util.Comparator.comparingInt(n -> n.proc().pid()))
                    .forEach(n -> rows.add(row(n, n.proc().command())));
        }
        int[] w = {3, 4, 4, 4};
        for (String[] r : rows) for (int k = 0; k < 4; k++) w[k] = Math.max(w[k], r[k].length());
        String fmt = "%" + w[0] + "s %" + w[1] + "s %" + w[2] + "s %-" + w[3] + "s %s%n";
        StringBuilder sb = new StringBuilder(String.format(fmt, "PID", "CPID", "PPID", "USER", "COMMAND"));
        for (String[] r : rows) sb.append(String.format(fmt, (Object[]) r));
        return sb.toString();
    }

    private static void rows(Node n, String indent, List<String[]> out) {
        out.add(row(n, indent + n.proc().command()));
        String below = indent.isEmpty() ? " \\_ " : "    " + indent;
        for (Node c : n.children()) rows(c, below, out);
    }

    private static String[] row(Node n, String command) {
        Proc p = n.proc();
        return new String[] {Integer.toString(p.pid()), Integer.toString(p.nsPid()), Integer.toString(p.ppid()), n.user(), command};
    }

    /** [{"pid", "containerPid", "ppid", "uid", "user", "command", "children": [...]}], the roots first. */
    public JsonArray toJson() {
        JsonArray a = new JsonArray();
        for (Node r : roots) a.add(json(r));
        return a;
    }

    private static JsonObject json(Node n) {
        JsonObject o = new JsonObject();
        o.addProperty("pid", n.proc().pid());
        o.addProperty("containerPid", n.proc().nsPid());
        o.addProperty("ppid", n.proc().ppid());
        o.addProperty("uid", n.proc().uid());
        o.addProperty("user", n.user());
        o.addProperty("command", n.proc().command());
        JsonArray c = new JsonArray();
        n.children().forEach(k -> c.add(json(k)));
        o.add("children", c);
        return o;
    }
}
