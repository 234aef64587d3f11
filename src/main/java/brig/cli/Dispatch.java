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
     * Verbs whose caller's own process supervises the call (`brig container` as a whole: its
     * run, start and exec start containers): it starts the helper processes
     * (so the container is its descendant, with its stdio and fds), relays signals and the
     * terminal, and removes a container whose start was cut short.
     */
    public static boolean supervised(String verb) {
        return "run".equals(verb) || "create".equals(verb) || "exec".equals(verb) || "container".equals(verb);
    }

    /**
     * {@link #supervised(String)}, and `start` when the caller has NOTIFY_SOCKET: the
     * container's READY then goes to that socket from the caller's own process (the supervisor),
     * the pid systemd takes notifications from (brig.runtime.Notify).
     */
    public static boolean supervised(String verb, Map<String, String> env) {
        String notify = env.get("NOTIFY_SOCKET");
        return supervised(verb) || ("start".equals(verb) && notify != null && !notify.isEmpty());
    }

    /**
     * Whether the call will most likely start a helper (run, create, exec, container run or
     * exec; not --explain or --help), so that one may be started ahead while it plans. A guess:
     * a wrong one costs a helper that exits unused, or the time it would have saved.
     */
    public static boolean startsHelper(List<String> argv) {
        String verb = verb(argv);
        if (!supervised(verb) || argv.contains("--explain") || argv.contains("--help") || argv.contains("-h")) return false;
        if (!verb.equals("container")) return true;
        int at = argv.indexOf(verb) + 1;
        return at < argv.size() && (argv.get(at).equals("run") || argv.get(at).equals("exec"));
    }

    /**
     * The caller's process as supervisor of a {@link #supervised} call: where the supervisor's
     * messages go and what starts the helper processes.
     */
    public interface Link {
        /** A supervisor message (brig.cli.Supervisor's types), with at most one fd. */
        void send(int type, byte[] payload, int fd) throws brig.syscalls.SyscallException;

        brig.helper.Helper.Launcher launcher();

        /**
         * An AF_UNIX stream socket connected to {@code path} by the caller's process (the
         * console socket's peer is then the caller, not this process); throws as
         * {@link brig.syscalls.Libc#connectUnix} does.
         */
        int connectUnix(Path path) throws brig.syscalls.SyscallException;

        /**
         * What sends a container's READY to the host's NOTIFY_SOCKET from the caller's process
         * (systemd takes it from the service's main pid), and tells when the caller has gone.
         */
        brig.runtime.Notify.Relay notifier();
    }

    /**
     * As {@link #run(List, InputStream, PrintStream, PrintStream, Map, Path, int, long, int, int, Path)},
     * supervised by the caller's process through {@code link} (null: not supervised).
     */
    public static int run(List<String> argv, InputStream in, PrintStream out, PrintStream err, Map<String, String> env,
                          Path cwd, int umask, long pid, int uid, int gid, Path home, Link link) {
        if (link == null) return run(argv, in, out, err, env, cwd, umask, pid, uid, gid, home);
        Invocation inv = new Invocation(in, out, err, env, cwd, umask, new Invocation.Caller(pid, uid, gid),
                Invocation.Globals.DEFAULT, Invocation.Host.served(home, Supervisor.served(link::send, link.notifier(), env), link.launcher(),
                link::connectUnix));
        // TEST ONLY (as Main does for a cold JVM): the server kills itself at that point of this
        // start, so tests can see the client clean up after a server lost mid-start.
        String crash = env.get("BRIG_TEST_CRASH_AT");
        if (crash != null) brig.runtime.Runtime.testCrashAt(crash);
        try {
            return Main.run(inv, argv);
        } finally {
            if (crash != null) brig.runtime.Runtime.testCrashAt(null);
        }
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
