package brig.cli;

import brig.runtime.BrigException;
import brig.runtime.Runtime;
import java.io.PrintStream;
import java.util.List;

/** `brig state ID`: the container's state as runc prints it (JSON, status as it is now). */
final class StateCommand {
    private StateCommand() {}

    static int run(Main.Globals g, List<String> argv, PrintStream out) throws Args.UsageException {
        String id = Args.parse(argv, 0, List.of(), true).exactly("state", 1).get(0);
        try {
            // Two spaces, as runc indents it (engines parse it; people read it).
            out.println(new com.google.gson.GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create()
                    .toJson(new Runtime(g.root(), null).state(id).toPublicJson()));
            return 0;
        } catch (BrigException e) {
            return Main.fail(g, e.getMessage());
        }
    }
}
