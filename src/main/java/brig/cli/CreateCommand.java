package brig.cli;

import brig.helper.HelperException;
import brig.rootfs.RootfsException;
import brig.runtime.BrigException;
import brig.runtime.Planner;
import brig.runtime.Runtime;
import brig.spec.SpecException;
import java.io.IOException;
import java.io.PrintStream;
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

    static int run(Main.Globals g, List<String> argv, PrintStream out) throws Args.UsageException {
        Args a = Args.parse(argv, 0, FLAGS, true);
        String id = a.exactly("create", 1).get(0);
        int preserve = a.intValue("preserve-fds", 0);
        if (preserve < 0) throw new Args.UsageException("invalid value \"" + preserve + "\" for flag -preserve-fds");
        Runtime rt = new Runtime(g.root(), Main.helper());
        Supervisor sv = Supervisor.find();
        try {
            Supervisor.ignoreDirectSignals();
            Runtime.Prepared p = rt.prepare(id, new Runtime.Options(Path.of(a.value("bundle", ".")),
                    a.bool("no-pivot"), preserve), Planner.Mode.CREATE);
            if (a.bool("explain")) {
                out.print(p.explain());
                return 0;
            }
            // runc's words; the terminal itself (made inside, its master sent over the socket) is to come.
            boolean terminal = p.spec().process().terminal();
            if (terminal && !a.has("console-socket")) {
                return Main.fail(g, "cannot allocate tty if brig will detach without setting console socket");
            }
            if (!terminal && a.has("console-socket")) {
                return Main.fail(g, "cannot use console socket if brig will not detach or allocate tty");
            }
            if (a.has("console-socket")) return Main.fail(g, "create --console-socket is not supported yet");
            Path pidFile = a.has("pid-file") ? Path.of(a.value("pid-file", "")) : null;
            Runtime.BeforeRun beforeRun = pid -> {
                if (pidFile != null) RunCommand.writePidFile(pidFile, pid);
            };
            if (sv == null) {
                rt.create(p, preserve, null, (cid, start) -> {}, beforeRun);
            } else {
                // Should this JVM die before the container is made, the supervisor removes it.
                rt.create(p, preserve, sv.passedFds(), (cid, start) -> sv.starting(List.of("--root",
                        g.root().toAbsolutePath().toString(), "delete", "--force", "--start", start, cid)), beforeRun);
                Runtime.testCrashPoint("created");
                sv.forget(); // made: it is the user's now, not the supervisor's to clean up
            }
            return 0;
        } catch (SpecException | RootfsException | HelperException | BrigException | IOException e) {
            // Runtime.start removed what it made.
            if (sv != null) sv.forget();
            return Main.fail(g, e.getMessage());
        }
    }
}
