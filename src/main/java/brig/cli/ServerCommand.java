package brig.cli;

import brig.server.Client;
import java.util.List;

/**
 * `brig server status|stop` on the cold path (BRIG_SERVER=off, --no-server, or no server to
 * answer): asks the server, if one runs, over its socket. A running server answers these
 * itself when the native client reaches it (brig.server.Server).
 */
final class ServerCommand {
    private ServerCommand() {}

    static int run(Invocation inv, Args a) throws Exception {
        List<String> args = a.positional();
        if (args.size() != 1 || !List.of("status", "stop").contains(args.get(0))) {
            throw new Args.UsageException("server: give status or stop");
        }
        Client.Answer answer = Client.ask(inv.host().home(), args.get(0));
        if (answer == null) {
            inv.out().println(args.get(0).equals("stop") ? "no brig server is running" : "not running");
            return args.get(0).equals("stop") ? 0 : 3;
        }
        inv.out().print(answer.out());
        inv.err().print(answer.err());
        return answer.status();
    }
}
