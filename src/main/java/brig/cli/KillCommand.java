package brig.cli;

import brig.cgroups.CgroupException;
import brig.runtime.BrigException;
import brig.runtime.Runtime;
import brig.runtime.Signals;
import java.io.PrintStream;
import java.util.List;

/** `brig kill [--all] ID [SIGNAL]`: signals a container's process (SIGTERM unless told), as runc's kill. */
final class KillCommand {
    private KillCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.bool("send the specified signal to all processes inside the container", "all", "a"));

    static int run(Main.Globals g, List<String> argv, PrintStream out) throws Args.UsageException {
        Args a = Args.parse(argv, 0, FLAGS, true);
        List<String> pos = a.positional();
        if (pos.isEmpty()) throw new Args.UsageException("\"kill\" requires a minimum of 1 argument(s)");
        if (pos.size() > 2) throw new Args.UsageException("\"kill\" requires a maximum of 2 argument(s)");
        try {
            int signal = Signals.parse(pos.size() == 2 ? pos.get(1) : "SIGTERM");
            new Runtime(g.root(), null).kill(pos.get(0), signal, a.bool("all"));
            return 0;
        } catch (BrigException | CgroupException e) {
            return Main.fail(g, e.getMessage());
        }
    }
}
