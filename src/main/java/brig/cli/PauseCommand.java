package brig.cli;

import brig.cgroups.CgroupException;
import brig.runtime.BrigException;
import brig.runtime.Runtime;
import java.io.PrintStream;
import java.util.List;

/** `brig pause ID` and `brig resume ID`: freeze and thaw every process of a container. */
final class PauseCommand {
    private PauseCommand() {}

    static int pause(Main.Globals g, List<String> argv, PrintStream out) throws Args.UsageException {
        String id = Args.parse(argv, 0, List.of(), true).exactly("pause", 1).get(0);
        try {
            new Runtime(g.root(), null).pause(id);
            return 0;
        } catch (BrigException | CgroupException e) {
            return Main.fail(g, e.getMessage());
        }
    }

    static int resume(Main.Globals g, List<String> argv, PrintStream out) throws Args.UsageException {
        String id = Args.parse(argv, 0, List.of(), true).exactly("resume", 1).get(0);
        try {
            new Runtime(g.root(), null).resume(id);
            return 0;
        } catch (BrigException | CgroupException e) {
            return Main.fail(g, e.getMessage());
        }
    }
}
