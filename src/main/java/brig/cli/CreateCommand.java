package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.Planner;
import brig.runtime.Runtime;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig create [--bundle DIR] [--pid-file FILE] ID`: makes the container and returns once its
 * process waits for `brig start` (runc's create). The process outlives brig and its
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
        String id = a.exactly("create", 1).get(0);
        int preserve = a.intValue("preserve-fds", 0);
        if (preserve < 0) throw new Args.UsageException("invalid value \"" + preserve + "\" for flag -preserve-fds");
        Runtime rt = new Runtime(inv.globals().root(), inv.helper(), inv::warn);
        Supervisor sv = inv.sv();
        try {
            inv.host().ignoreDirectSignals();
            Runtime.Prepared p = rt.prepare(id, new Runtime.Options(inv.path(a.value("bundle", ".")),
                    a.bool("no-pivot"), preserve), Planner.Mode.CREATE);
            if (a.bool("explain")) {
                inv.out().print(p.explain());
                return 0;
            }
            // runc's words; the terminal itself (made inside, its master sent over the socket) is to come.
            boolean terminal = p.spec().process().terminal();
            if (terminal && !a.has("console-socket")) {
                return inv.fail("cannot allocate tty if brig will detach without setting console socket");
            }
            if (!terminal && a.has("console-socket")) {
                return inv.fail("cannot use console socket if brig will not detach or allocate tty");
            }
            if (a.has("console-socket")) return inv.fail("create --console-socket is not supported yet");
            Path pidFile = a.has("pid-file") ? inv.path(a.value("pid-file", "")) : null;
            Runtime.BeforeRun beforeRun = pid -> {
                if (pidFile != null) RunCommand.writePidFile(pidFile, pid);
            };
            if (sv == null) {
                rt.create(p, preserve, null, (cid, start) -> {}, beforeRun);
            } else {
                // Should this JVM die before the container is made, the supervisor removes it.
                rt.create(p, preserve, sv.passedFds(), (cid, start) -> sv.starting(List.of("--root",
                        inv.globals().root().toString(), "delete", "--force", "--start", start, cid)), beforeRun);
                Runtime.testCrashPoint("created");
                sv.forget(); // made: it is the user's now, not the supervisor's to clean up
            }
            return 0;
        } catch (BrigFailure e) {
            // Runtime.start removed what it made.
            if (sv != null) sv.forget();
            throw e;
        }
    }
}
