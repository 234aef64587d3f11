package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.Runtime;

/** `brig pause ID` and `brig resume ID`: freeze and thaw every process of a container. */
final class PauseCommand {
    private PauseCommand() {}

    static int pause(Invocation inv, Args a) throws BrigFailure {
        new Runtime(inv.globals().root(), (java.nio.file.Path) null).pause(a.exactly("pause", 1).get(0));
        return 0;
    }

    static int resume(Invocation inv, Args a) throws BrigFailure {
        new Runtime(inv.globals().root(), (java.nio.file.Path) null).resume(a.exactly("resume", 1).get(0));
        return 0;
    }
}
