package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.ConsoleSocket;
import brig.runtime.Notify;
import brig.runtime.Planner;
import brig.runtime.Runtime;
import brig.runtime.Started;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * `brig run [--bundle DIR] [-d] [--keep] ID`: runs a container in the foreground (with -d:
 * create and start, see {@link CreateCommand#create}; with --keep the stopped container stays
 * until `brig delete`). Once it has started, the
 * JVM hands it to the supervisor it runs under (see {@link Supervisor}) and exits; the
 * supervisor relays signals, copies the terminal, and exits with the container's status
 * (128+N if killed by signal N).
 */
final class RunCommand {
    private RunCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("path to the root of the bundle directory, defaults to the current directory", "bundle", "b"),
            Args.Flag.value("path to an AF_UNIX socket which will receive the console's master fd", "console-socket"),
            Args.Flag.bool("detach from the container's process", "detach", "d"),
            Args.Flag.value("specify the file to write the process id to", "pid-file"),
            Args.Flag.bool("disable the use of the subreaper used to reap reparented processes", "no-subreaper"),
            Args.Flag.bool("do not use pivot root to jail process inside rootfs", "no-pivot"),
            Args.Flag.bool("do not create a new session keyring for the container", "no-new-keyring"),
            Args.Flag.value("pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)", "preserve-fds"),
            Args.Flag.bool("do not delete the container after it exits", "keep"),
            Args.Flag.bool("print every kernel step of the plan in plain words, and run nothing", "explain"));

    static int run(Invocation inv, Args a) throws BrigFailure {
        String id = a.exactly("run", 1).get(0);
        // -d: runc's create and start in one; the container goes on without brig.
        if (a.bool("detach")) return CreateCommand.create(inv, a, id, true);
        boolean keep = a.bool("keep");
        int preserve = a.intValue("preserve-fds", 0);
        if (preserve < 0) throw new Args.UsageException("invalid value \"" + preserve + "\" for flag -preserve-fds");
        int listen = CreateCommand.listenFds(inv);
        Runtime rt = new Runtime(inv.globals().root(), inv.helper(), inv::warn, new brig.runtime.Hooks.Output(inv.out(), inv.err(), inv.cwd()));
        Supervisor sv = inv.sv();
        Notify[] notify = {null}; // NOTIFY_SOCKET: bound before the program may run, as runc binds it
        try {
            inv.host().ignoreDirectSignals();
            String notifyAt = CreateCommand.notifySocket(inv);
            Runtime.Prepared p = rt.prepare(id, new Runtime.Options(inv.path(a.value("bundle", ".")),
                    a.bool("no-pivot"), preserve, listen, a.bool("no-new-keyring")).withCaller(inv.caller().pid())
                    .withNotifySocket(notifyAt), Planner.Mode.RUN);
            if (a.bool("explain")) {
                inv.out().print(p.explain());
                if (!keep) inv.out().println(rt.teardown(p).explain());
                return 0;
            }
            Notify.Relay relay = notifyAt == null ? null : CreateCommand.notifier(inv);
            if (inv.globals().debug()) p.explain().lines().forEach(l -> inv.debug("plan: " + l));
            // In the foreground a terminal is relayed by the supervisor, never sent to a socket.
            String misuse = ConsoleSocket.misuse(false, p.spec().process().terminal(), a.has("console-socket"));
            if (misuse != null) return inv.fail(misuse);
            // Under the supervisor: only fds the caller really passed, and if this JVM dies
            // half-way, the supervisor removes the container (delete --force, same --root).
            Path pidFile = a.has("pid-file") ? inv.path(a.value("pid-file", "")) : null;
            Runtime.BeforeRun beforeRun = pid -> {
                if (pidFile != null) writePidFile(pidFile, pid);
                try {
                    if (notifyAt != null) notify[0] = Notify.listen(rt.store().dir(id), id);
                } catch (brig.runtime.BrigException e) {
                    throw new java.io.IOException(e.getMessage(), e);
                }
            };
            Started s = sv == null ? rt.start(p, listen + preserve, null, (cid, start) -> {}, beforeRun)
                    : rt.start(p, listen + preserve, sv.passedFds(), (cid, start) -> sv.starting(List.of("--root",
                            inv.globals().root().toString(), "delete", "--force", "--start", start, cid)), beforeRun);
            try {
                Runtime.testCrashPoint("started");
                // runc's foreground run: READY first (MAINPID: the caller's process, which stays), then the hand-over.
                if (notify[0] != null) notify[0].relay(s.state(), (int) inv.caller().pid(), notifyAt, relay);
                if (sv == null) { // not under the launcher: wait here
                    int status = s.waitFor(keep);
                    if (s.oomReport() != null) inv.err().println("brig: " + s.oomReport());
                    return status;
                }
                // --keep: the stopped container stays for `delete`; the supervisor must not run
                // the delete it was told at the start once the container exits.
                if (keep) sv.forget();
                sv.container(s.pid(), s.terminalFd(), s.handOver(keep), keep ? null : s.teardown());
                return 0;
            } catch (BrigFailure e) {
                s.abort();
                throw e;
            }
        } catch (BrigFailure e) {
            // Runtime.start and abort removed what they made.
            if (sv != null) sv.forget();
            throw e;
        } finally {
            if (notify[0] != null) notify[0].close();
        }
    }

    /**
     * Written whole or not at all: engines read it as soon as it appears. The temporary file is
     * new (O_EXCL, a random name, O_NOFOLLOW): a symlink planted beside the pid file, or a file
     * someone else holds open, is never written through; the rename replaces a symlink at the
     * final name rather than following it.
     *
     * @param file absolute (resolved against the caller's working directory)
     */
    static void writePidFile(Path file, int pid) throws IOException {
        if (!file.isAbsolute()) throw new IllegalArgumentException("pid file not resolved: " + file);
        Path abs = file;
        byte[] text = Integer.toString(pid).getBytes(StandardCharsets.US_ASCII);
        for (int attempt = 0; ; attempt++) {
            Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            int fd;
            try {
                fd = Libc.openat(Libc.AT_FDCWD, tmp.toString(), Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_NOFOLLOW, 0644);
            } catch (SyscallException e) {
                if (e.errno() == EEXIST && attempt < 10) continue;
                throw new IOException("cannot write pid file " + abs + ": " + e.getMessage());
            }
            try {
                Libc.writeFully(fd, text);
            } catch (SyscallException e) {
                Files.deleteIfExists(tmp);
                throw new IOException("cannot write pid file " + abs + ": " + e.getMessage());
            } finally {
                Libc.close(fd);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                Files.deleteIfExists(tmp);
                throw new IOException("cannot write pid file " + abs + ": " + e.getMessage());
            }
            return;
        }
    }

    private static final int EEXIST = 17;
}
