package brig.cli;

import brig.runtime.Runtime;
import brig.errors.BrigFailure;

/**
 * `brig start ID`: lets a created container run its program (runc's start); with NOTIFY_SOCKET,
 * returns once it sent READY (see {@link brig.runtime.Notify}).
 */
final class StartCommand {
    private StartCommand() {}

    static int run(Invocation inv, Args a) throws BrigFailure {
        String id = a.exactly("start", 1).get(0);
        // NOTIFY_SOCKET (runc's): start returns once the program sent READY, passed on to it.
        String notify = CreateCommand.notifySocket(inv);
        brig.runtime.Notify.Relay relay = notify == null ? null : CreateCommand.notifier(inv);
        Runtime rt = new Runtime(inv.globals().root(), (java.nio.file.Path) null, inv::warn, new brig.runtime.Hooks.Output(inv.out(), inv.err(), inv.cwd()));
        CreateCommand.start(rt, id, notify, relay, notify == null ? null : inv.sv());
        return 0;
    }
}
