package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.Runtime;
import brig.runtime.Signals;
import java.util.List;

/** `brig kill [--all] ID [SIGNAL]`: signals a container's process (SIGTERM unless told), as runc's kill. */
final class KillCommand {
    private KillCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.bool("send the specified signal to all processes inside the container", "all", "a"));

    static int run(Invocation inv, Args a) throws BrigFailure {
        List<String> pos = a.positional();
        if (pos.isEmpty()) throw new Args.UsageException("\"kill\" requires a minimum of 1 argument(s)");
        if (pos.size() > 2) throw new Args.UsageException("\"kill\" requires a maximum of 2 argument(s)");
        int signal = Signals.parse(pos.size() == 2 ? pos.get(1) : "SIGTERM");
        new Runtime(inv.globals().root(), (java.nio.file.Path) null).kill(pos.get(0), signal, a.bool("all"));
        return 0;
    }
}
