package brig.cli;

import brig.errors.BrigFailure;
import java.util.List;
import java.util.Map;

/**
 * `brig image VERB ...`: docker's long forms over the image verbs (pull, ls, inspect, rm,
 * import, unpack, copy), which stay at the root as well (`brig pull`, `brig images`, `brig
 * rmi`...). Each runs the root verb's command, flags and all: one home per verb.
 */
final class ImageCommand {
    private ImageCommand() {}

    /** docker's name (and its aliases) to the root verb. */
    private static final Map<String, String> VERBS = Map.ofEntries(
            Map.entry("pull", "pull"), Map.entry("ls", "images"), Map.entry("list", "images"), Map.entry("inspect", "inspect"),
            Map.entry("rm", "rmi"), Map.entry("remove", "rmi"), Map.entry("import", "import"), Map.entry("unpack", "unpack"),
            Map.entry("copy", "copy"), Map.entry("cp", "copy"));

    static final String USAGE = "pull|ls|inspect|rm|import|unpack|copy [options] ...   (brig image VERB --help)";

    static int run(Invocation inv, Args top) throws BrigFailure {
        List<String> argv = top.positional();
        String verb = argv.isEmpty() ? null : VERBS.get(argv.get(0));
        if (verb == null) {
            inv.err().println(argv.isEmpty() ? "usage: brig image " + USAGE
                    : "brig: \"image " + argv.get(0) + "\" is not a command: use " + USAGE);
            return 1;
        }
        Command c = Main.command(verb);
        Args a = Args.parseGrouped(argv.subList(1, argv.size()), 0, c.parsedFlags(), !c.flagsAnywhere());
        if (a.bool("help")) {
            inv.out().print(c.help().replaceFirst("brig " + verb, "brig image " + argv.get(0)));
            return 0;
        }
        try {
            return c.body().run(inv, a);
        } catch (BrigFailure e) {
            throw e;
        } catch (Exception e) {
            return inv.fail(e.getMessage() != null ? e.getMessage() : e.toString());
        }
    }
}
