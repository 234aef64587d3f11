package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.ConsoleSocket;
import brig.runtime.Notify;
import brig.runtime.Planner;
import brig.runtime.Runtime;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N]
 * [--no-new-keyring] ID`: makes the container and returns once its process waits for `brig
 * start` (runc's create). With process.terminal, the terminal's master goes to the console
 * socket (see {@link ConsoleSocket}). The process outlives brig and its
 * supervisor: the supervisor is told to forget it once it is made (it only removes a
 * container whose create died half-way).
 */
final class CreateCommand {
    private CreateCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("path to the root of the bundle directory, defaults to the current directory", "bundle", "b"),
            Args.Flag.value("path to an AF_UNIX socket which will receive the console's master fd", "console-socket"),
            Args.Flag.value("specify the file to write the process id to", "pid-file"),
            Args.Flag.bool("do not use pivot root to jail process inside rootfs", "no-pivot"),
            Args.Flag.bool("do not create a new session keyring for the container", "no-new-keyring"),
            Args.Flag.value("pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)", "preserve-fds"),
            Args.Flag.bool("print every kernel step of the plan in plain words, and run nothing", "explain"));

    static int run(Invocation inv, Args a) throws BrigFailure {
        return create(inv, a, a.exactly("create", 1).get(0), false);
    }

    /**
     * create, and with {@code thenStart} start right after (`run -d`: runc's create and start in
     * one, so a terminal's master reaches the console socket before the program runs). Returns
     * once the container is made (and started); it outlives brig and its supervisor.
     */
    static int create(Invocation inv, Args a, String id, boolean thenStart) throws BrigFailure {
        int preserve = a.intValue("preserve-fds", 0);
        if (preserve < 0) throw new Args.UsageException("invalid value \"" + preserve + "\" for flag -preserve-fds");
        Runtime rt = new Runtime(inv.globals().root(), inv.helper(), inv::warn, new brig.runtime.Hooks.Output(inv.out(), inv.err(), inv.cwd()));
        Supervisor sv = inv.sv();
        int listen = listenFds(inv);
        try {
            inv.host().ignoreDirectSignals();
            String notify = notifySocket(inv);
            Runtime.Prepared p = rt.prepare(id, new Runtime.Options(inv.path(a.value("bundle", ".")),
                    a.bool("no-pivot"), preserve, listen, a.bool("no-new-keyring")).withCaller(inv.caller().pid())
                    .withNotifySocket(notify), Planner.Mode.CREATE);
            if (a.bool("explain")) {
                inv.out().print(p.explain());
                return 0;
            }
            Notify.Relay relay = thenStart && notify != null ? notifier(inv) : null;
            if (inv.globals().debug()) p.explain().lines().forEach(l -> inv.debug("plan: " + l));
            String misuse = ConsoleSocket.misuse(true, p.spec().process().terminal(), a.has("console-socket"));
            if (misuse != null) return inv.fail(misuse);
            Path pidFile = a.has("pid-file") ? inv.path(a.value("pid-file", "")) : null;
            Runtime.BeforeRun beforeRun = pid -> {
                if (pidFile != null) RunCommand.writePidFile(pidFile, pid);
            };
            // Connected first, as runc does: a wrong socket fails before anything is made.
            try (ConsoleSocket console = a.has("console-socket") ? ConsoleSocket.connect(inv.path(a.value("console-socket", "")), inv.host()::connectUnix) : null) {
                if (sv == null) {
                    rt.create(p, listen + preserve, null, (cid, start) -> {}, beforeRun, console);
                } else {
                    // Should this JVM die before the container is made, the supervisor removes it.
                    rt.create(p, listen + preserve, sv.passedFds(), (cid, start) -> sv.starting(List.of("--root",
                            inv.globals().root().toString(), "delete", "--force", "--start", start, cid)), beforeRun, console);
                    Runtime.testCrashPoint("created");
                    sv.forget(); // made: it is the user's now, not the supervisor's to clean up
                }
            }
            if (thenStart) {
                try {
                    start(rt, id, notify, relay, null); // this JVM ignores TERM, INT and HUP (a half-made create)
                } catch (BrigFailure e) {
                    // runc's run -d removes a container whose run failed; start leaves it.
                    if (notify != null) rt.delete(id, true);
                    throw e;
                }
            }
            return 0;
        } catch (BrigFailure e) {
            // Runtime.start removed what it made.
            if (sv != null) sv.forget();
            throw e;
        }
    }

    /**
     * `start` of a created container; with the caller's NOTIFY_SOCKET ({@code notify}), returns
     * once its program has sent READY (passed on by {@code relay}) or its first process is gone;
     * {@code forwardTo}, if not null, is told to forward the caller's signals meanwhile.
     */
    static void start(Runtime rt, String id, String notify, Notify.Relay relay, Supervisor forwardTo) throws BrigFailure {
        try (Notify n = rt.startCreated(id, notify)) {
            if (n == null) return;
            // The program runs: from now on the caller's signals end this wait, as they end runc's.
            if (forwardTo != null) forwardTo.forwardSignals();
            brig.runtime.ContainerState s = rt.state(id);
            n.relay(s, s.pid(), notify, relay);
        }
    }

    /** The caller's NOTIFY_SOCKET as an address ({@link Notify#address}), or null. */
    static String notifySocket(Invocation inv) throws BrigFailure {
        return Notify.address(inv.env("NOTIFY_SOCKET"), inv.cwd());
    }

    /**
     * What passes READY on to the caller's NOTIFY_SOCKET: the supervisor, the process the
     * caller started. A JVM started some other way (plain java) has none: refused.
     */
    static Notify.Relay notifier(Invocation inv) throws BrigFailure {
        Supervisor sv = inv.sv();
        if (sv == null || sv.notifier() == null) {
            throw new brig.runtime.BrigException("NOTIFY_SOCKET: no supervisor to pass READY on from the caller's process (start brig with bin/brig)");
        }
        return sv.notifier();
    }

    /**
     * Socket activation (sd_listen_fds): LISTEN_FDS fds from 3 up, meant for this runtime only
     * if LISTEN_PID is the pid its caller started (under the launcher, the supervisor's; see
     * {@link Invocation.Caller}). Anything else, or nonsense, is 0: the fds are not passed.
     */
    static int listenFds(Invocation inv) {
        String fds = inv.env("LISTEN_FDS"), pid = inv.env("LISTEN_PID");
        if (fds == null || pid == null) return 0;
        try {
            if (Long.parseLong(pid.trim()) != inv.caller().pid()) return 0;
            return Math.max(0, Integer.parseInt(fds.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
