package brig.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * One verb of the brig command: a row of {@link Main#COMMANDS}, the table that dispatch, the
 * help texts and the signal set-up all read.
 *
 * @param usage what follows "brig VERB" in the help ("[options] &lt;container-id&gt;")
 * @param flagsAnywhere whether flags may follow positional arguments (Brig's image verbs);
 *     otherwise they end at the first one, as runc's (Go's flag package) do
 * @param longRunning whether the command may run long enough to be interrupted: it gets the
 *     caller's signals at once (see {@link Main#signalsFor})
 * @param body what it does, or null for a runc verb Brig does not have yet (refused by name)
 */
record Command(String verb, Group group, String summary, String usage, List<Args.Flag> flags, boolean flagsAnywhere,
               boolean longRunning, Body body) {

    /** Where a verb is listed in `brig --help`. */
    enum Group {
        RUNC("commands (runc's, for engines and by hand)"),
        BRIG("commands of brig's own"),
        IMAGES("images (the store is an OCI image layout, default /var/lib/brig/images, ~/.local/share/brig/images if not root; --store DIR)");

        final String title;

        Group(String title) {
            this.title = title;
        }
    }

    /** A command's work, given its parsed flags and arguments; returns the exit status. */
    @FunctionalInterface
    interface Body {
        int run(Invocation inv, Args args) throws Exception;
    }

    static final Args.Flag HELP = Args.Flag.bool("show help", "help", "h");

    /** A runc verb: flags end at the first argument, quick (signals wait until it is done). */
    static Command runc(String verb, String summary, String usage, List<Args.Flag> flags, Body body) {
        return new Command(verb, Group.RUNC, summary, usage, flags, false, false, body);
    }

    /** A runc verb Brig does not have yet. */
    static Command notYet(String verb, String summary) {
        return new Command(verb, Group.RUNC, summary, "", List.of(), false, false, null);
    }

    /** One of Brig's own verbs. */
    static Command brig(String verb, String summary, String usage, List<Args.Flag> flags, Body body) {
        return new Command(verb, Group.BRIG, summary, usage, flags, false, false, body);
    }

    /** An image verb: flags anywhere, long-running (pulls and unpacks may be interrupted). */
    static Command image(String verb, String summary, String usage, List<Args.Flag> flags, Body body) {
        return new Command(verb, Group.IMAGES, summary, usage, flags, true, true, body);
    }

    /** This command, finishing quickly: signals wait until it is done. */
    Command quick() {
        return new Command(verb, group, summary, usage, flags, flagsAnywhere, false, body);
    }

    /** This command, running until stopped (events): the caller's signals reach it at once. */
    Command runsLong() {
        return new Command(verb, group, summary, usage, flags, flagsAnywhere, true, body);
    }

    /** The flags as parsed: the command's and --help, -h (every command's: a command does not define them). */
    List<Args.Flag> parsedFlags() {
        List<Args.Flag> all = new ArrayList<>(flags);
        all.add(HELP);
        return all;
    }

    /** `brig VERB --help` and `brig help VERB`. */
    String help() {
        StringBuilder sb = new StringBuilder("usage: brig ").append(verb);
        if (!usage.isEmpty()) sb.append(' ').append(usage);
        sb.append("\n\n").append(summary).append('\n');
        if (body == null) sb.append("\n(not supported by brig yet)\n");
        if (!flags.isEmpty()) sb.append("\noptions:\n").append(Args.help(flags));
        return sb.toString();
    }
}
