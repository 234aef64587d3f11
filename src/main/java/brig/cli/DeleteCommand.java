package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.Runtime;
import java.util.List;

/**
 * `brig delete [--force] ID`: removes a container and everything it holds (processes,
 * cgroups, state), with runc's semantics and error texts. A stopped or created container goes
 * at once; a running one only with --force, which kills all its processes. With --force an
 * unknown id is not an error (engines clean up blindly). Brig's supervisor runs it too, when
 * the JVM that was starting a container died half-way, with --start naming that start, so
 * that only what it made goes.
 */
final class DeleteCommand {
    private DeleteCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.bool("forcibly deletes the container if it is still running (uses SIGKILL)", "force", "f"),
            Args.Flag.value("brig's own: only the container the start with this token made, forcibly", "start"));

    static int run(Invocation inv, Args a) throws BrigFailure {
        String id = a.exactly("delete", 1).get(0);
        new Runtime(inv.globals().root(), (java.nio.file.Path) null, inv::warn, new brig.runtime.Hooks.Output(inv.out(), inv.err(), inv.cwd())).delete(id, a.bool("force"), a.has("start") ? a.value("start", "") : null);
        return 0;
    }
}
