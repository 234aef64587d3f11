package brig.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The command table as the resident server (brig.server) sees it: which verb a command line
 * names, and running it for a caller that is not this process, through {@link Main#run} with
 * an {@link Invocation} built from what the caller sent.
 */
public final class Dispatch {
    private Dispatch() {}

    /**
     * The verb of a command line: its first argument after the global flags; "" when there is
     * none or --version or --help answer it; null when the global flags do not parse (Main
     * reports that).
     */
    public static String verb(List<String> argv) {
        try {
            Args a = Args.parse(argv, 0, Main.GLOBAL, true);
            List<String> rest = a.positional();
            return a.bool("version") || a.bool("help") || rest.isEmpty() ? "" : rest.get(0);
        } catch (Args.UsageException | RuntimeException e) {
            return null;
        }
    }

    /** Whether the verb is in the command table (null, a bad global flag, is not). */
    public static boolean known(String verb) {
        return verb != null && Main.command(verb) != null;
    }

    /** Whether the verb runs until stopped (events): the caller's signals end it at once. */
    public static boolean runsLong(String verb) {
        Command c = verb == null ? null : Main.command(verb);
        return c != null && c.longRunning();
    }

    /**
     * Runs {@code argv} for a caller of another process; returns the exit status.
     *
     * @param cwd the caller's working directory, absolute (see {@link Invocation#cwd})
     * @param home the distribution this process was started from
     */
    public static int run(List<String> argv, InputStream in, PrintStream out, PrintStream err, Map<String, String> env,
                          Path cwd, int umask, long pid, int uid, int gid, Path home) {
        Invocation inv = new Invocation(in, out, err, env, cwd, umask, new Invocation.Caller(pid, uid, gid),
                Invocation.Globals.DEFAULT, Invocation.Host.detached(home));
        return Main.run(inv, argv);
    }
}
