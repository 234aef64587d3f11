package brig.cli;

import brig.json.Json;
import brig.runtime.ContainerState;
import brig.runtime.Runtime;
import com.google.gson.JsonArray;
import java.util.ArrayList;
import java.util.List;

/** `brig list [--format table|json] [-q]`: the containers under --root, as runc lists them. */
final class ListCommand {
    private ListCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("select one of: table or json (default: \"table\")", "format", "f"),
            Args.Flag.bool("display only container IDs", "quiet", "q"));

    static int run(Invocation inv, Args a) throws Args.UsageException {
        var out = inv.out();
        a.exactly("list", 0);
        String format = a.value("format", "table");
        if (!format.equals("table") && !format.equals("json")) throw new Args.UsageException("invalid format option");
        Runtime rt = new Runtime(inv.globals().root(), (java.nio.file.Path) null);
        List<ContainerState> all = rt.list(warning -> inv.err().println("brig: " + warning));
        if (a.bool("quiet")) {
            for (ContainerState s : all) out.println(s.id());
        } else if (format.equals("json")) {
            // runc prints null, not [], when there is none.
            JsonArray arr = new JsonArray();
            for (ContainerState s : all) arr.add(s.toPublicJson(rt.store().owner(s.id())));
            out.println(all.isEmpty() ? "null" : Json.compact(arr));
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"});
            for (ContainerState s : all) {
                rows.add(new String[] {s.id(), Integer.toString(s.status().equals("stopped") ? 0 : s.pid()), s.status(),
                        s.bundle().toString(), s.created(), rt.store().owner(s.id())});
            }
            out.print(table(rows));
        }
        return 0;
    }

    /**
     * Columns as runc's table (Go's tabwriter: at least 12 wide, 3 spaces of padding after the
     * widest cell; the last column unpadded).
     */
    static String table(List<String[]> rows) {
        int cols = rows.get(0).length;
        int[] width = new int[cols];
        for (String[] r : rows) for (int c = 0; c < cols - 1; c++) width[c] = Math.max(width[c], Math.max(12, r[c].length() + 3));
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            for (int c = 0; c < cols - 1; c++) sb.append(r[c]).append(" ".repeat(width[c] - r[c].length()));
            sb.append(r[cols - 1]).append('\n');
        }
        return sb.toString();
    }
}
