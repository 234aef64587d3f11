package brig.cli;

import brig.inspect.ProcessTree;
import brig.runtime.BrigException;
import brig.runtime.ContainerState;
import brig.runtime.StateStore;
import java.util.List;

/**
 * `brig container top [--tree] [--format table|json] ID`: the container's processes with host
 * and container pids (see {@link ProcessTree}); registered under the `container` group.
 */
final class ContainerTopCommand {
    private ContainerTopCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.bool("show the processes as a tree, children under their parents (as ps axf)", "tree"),
            Args.Flag.value("select one of: table or json (default: \"table\")", "format", "f"));

    static int run(Invocation inv, Args a) throws Args.UsageException, BrigException {
        String id = a.exactly("container top", 1).get(0);
        String format = a.value("format", "table");
        if (!format.equals("table") && !format.equals("json")) throw new Args.UsageException("invalid format option \"" + format + "\": use table or json");
        StateStore.checkId(id);
        ContainerState s = new StateStore(inv.globals().root()).read(id);
        if (s == null) throw StateStore.notFound();
        ProcessTree t = ProcessTree.of(s);
        if (format.equals("json")) inv.out().println(brig.json.Json.pretty(t.toJson()));
        else inv.out().print(t.table(a.bool("tree")));
        return 0;
    }
}
