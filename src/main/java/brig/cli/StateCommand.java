package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.Runtime;

/** `brig state ID`: the container's state as runc prints it (JSON, status as it is now). */
final class StateCommand {
    private StateCommand() {}

    static int run(Invocation inv, Args a) throws BrigFailure {
        String id = a.exactly("state", 1).get(0);
        // Two spaces, as runc indents it (engines parse it; people read it).
        inv.out().println(new com.google.gson.GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
                .toJson(new Runtime(inv.globals().root(), (java.nio.file.Path) null).state(id).toPublicJson()));
        return 0;
    }
}
