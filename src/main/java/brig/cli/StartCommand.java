package brig.cli;

import brig.runtime.BrigException;
import brig.runtime.Runtime;
import java.io.PrintStream;
import java.util.List;

/** `brig start ID`: lets a created container run its program (runc's start). */
final class StartCommand {
    private StartCommand() {}

    static int run(Main.Globals g, List<String> argv, PrintStream out) throws Args.UsageException {
        String id = Args.parse(argv, 0, List.of(), true).exactly("start", 1).get(0);
        try {
            new Runtime(g.root(), null).startCreated(id);
            return 0;
        } catch (BrigException e) {
            return Main.fail(g, e.getMessage());
        }
    }
}
