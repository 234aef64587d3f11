package brig.cli;

import brig.runtime.Runtime;
import brig.errors.BrigFailure;

/** `brig start ID`: lets a created container run its program (runc's start). */
final class StartCommand {
    private StartCommand() {}

    static int run(Invocation inv, Args a) throws BrigFailure {
        new Runtime(inv.globals().root(), (java.nio.file.Path) null, inv::warn, new brig.runtime.Hooks.Output(inv.out(), inv.err(), inv.cwd())).startCreated(a.exactly("start", 1).get(0));
        return 0;
    }
}
