package brig.cli;

import brig.runtime.BrigException;
import brig.runtime.PsTable;
import brig.runtime.Runtime;
import com.google.gson.JsonArray;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * `brig ps [--format table|json] ID [PS-ARGS...]`: the host's ps (default -ef) shown for the
 * container's processes only, or with --format json the array of their pids, as runc's ps.
 */
final class PsCommand {
    private PsCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("select one of: table or json (default: \"table\")", "format", "f"));

    static int run(Invocation inv, Args a) throws Args.UsageException {
        var out = inv.out();
        List<String> pos = a.positional();
        if (pos.isEmpty()) throw new Args.UsageException("\"ps\" requires a minimum of 1 argument(s)");
        String format = a.value("format", "table");
        if (!format.equals("table") && !format.equals("json")) throw new Args.UsageException("invalid format option");
        try {
            List<Integer> pids = new Runtime(inv.globals().root(), (java.nio.file.Path) null).pids(pos.get(0));
            if (format.equals("json")) {
                JsonArray arr = new JsonArray();
                pids.forEach(arr::add);
                out.println(brig.json.Json.compact(arr));
                return 0;
            }
            List<String> cmd = new ArrayList<>(List.of(ps(inv.env("PATH"))));
            cmd.addAll(pos.size() > 1 ? pos.subList(1, pos.size()) : List.of("-ef"));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            // The caller's environment (PS_FORMAT, TZ, COLUMNS...), not this JVM's: a resident
            // server's is empty.
            pb.environment().clear();
            pb.environment().putAll(inv.env());
            Process p = pb.start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int status = p.waitFor();
            if (status != 0) return inv.fail("ps: exit status " + status + ": " + text.strip());
            out.print(PsTable.filter(text, pids));
            return 0;
        } catch (BrigException | IOException e) {
            return inv.fail(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return inv.fail("interrupted");
        }
    }

    /** The host's ps: engines give runtimes no PATH, so the usual places are looked at too. */
    private static String ps(String path) {
        List<String> dirs = new ArrayList<>(path == null || path.isEmpty() ? List.of() : List.of(path.split(":")));
        dirs.addAll(List.of("/usr/bin", "/bin"));
        for (String d : dirs) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "ps"))) return Path.of(d, "ps").toString();
        }
        return "ps";
    }
}
