package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.ConsoleSocket;
import brig.runtime.ExecPlanner;
import brig.runtime.Runtime;
import brig.spec.Capability;
import brig.spec.Spec;
import brig.spec.SpecReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * `brig exec [options] ID COMMAND [ARGS...]` (or `--process FILE ID`): runs another process in
 * a running container, as runc's exec. In the foreground the JVM hands the process to the
 * supervisor it runs under (as `run` does with a container): the supervisor relays signals and
 * exits with the process's status, and cleans up nothing, for the container is not its
 * business. With --detach brig returns once the program runs.
 */
final class ExecCommand {
    private ExecCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("path to the process.json (config.json's \"process\") to run instead of arguments", "process", "p"),
            Args.Flag.value("set environment variables (NAME=VALUE; repeatable)", "env", "e"),
            Args.Flag.value("current working directory in the container", "cwd"),
            Args.Flag.value("UID (format: <uid>[:<gid>])", "user", "u"),
            Args.Flag.value("additional gids (repeatable)", "additional-gids", "g"),
            Args.Flag.value("add a capability to the bounding, effective and permitted sets, and the ambient set if the process has an inheritable one (repeatable)", "cap", "c"),
            Args.Flag.bool("allocate a pseudo-TTY (made in the container; brig relays it); with --process, its \"terminal\" decides", "tty", "t"),
            Args.Flag.value("path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal (with -d and a terminal)", "console-socket"),
            Args.Flag.bool("detach from the process: brig returns once it runs", "detach", "d"),
            Args.Flag.value("specify the file to write the process id to", "pid-file"),
            Args.Flag.value("pass N additional file descriptors to the process (stdio + N in total)", "preserve-fds"),
            Args.Flag.bool("set the no new privileges value for the process", "no-new-privs"),
            Args.Flag.bool("allow exec in a paused container (the process starts frozen)", "ignore-paused"),
            Args.Flag.bool("print every kernel step of the plan in plain words, and run nothing", "explain"));

    /** The flags that change the process: --process describes it whole instead. */
    private static final List<String> PROCESS_FLAGS = List.of("env", "cwd", "user", "additional-gids", "cap", "no-new-privs");

    static int run(Invocation inv, Args a) throws BrigFailure {
        List<String> pos = a.positional();
        boolean file = a.has("process");
        if (pos.isEmpty() || (!file && pos.size() < 2)) throw new Args.UsageException("\"exec\" requires a minimum of 2 arguments");
        String id = pos.get(0);
        int preserve = a.intValue("preserve-fds", 0);
        if (preserve < 0) throw new Args.UsageException("invalid value \"" + preserve + "\" for flag -preserve-fds");
        Spec.Process process = null;
        ExecPlanner.Overrides overrides = null;
        if (file) {
            for (String f : PROCESS_FLAGS) {
                if (a.has(f)) throw new Args.UsageException("--process FILE describes the whole process: give " + f + " in it, not as --" + f);
            }
            // -t is not refused: conmon passes `--process FILE --tty` (the file says "terminal": true);
            // the file decides, as with runc, which ignores -t beside --process.
            if (pos.size() > 1) throw new Args.UsageException("--process FILE describes the whole process: give the command in its \"args\", not after the container id");
            process = SpecReader.readProcess(inv.path(a.value("process", "")));
        } else {
            overrides = overrides(a, pos.subList(1, pos.size()));
        }
        Runtime rt = new Runtime(inv.globals().root(), inv.helper());
        Supervisor sv = inv.sv();
        inv.host().ignoreDirectSignals();
        Runtime.PreparedExec p = rt.prepareExec(id, process, overrides, a.bool("ignore-paused"), preserve);
        if (a.bool("explain")) {
            inv.out().print(p.explain());
            return 0;
        }
        // runc's words: a detached terminal needs a socket for its master, and a socket a detached terminal.
        String misuse = ConsoleSocket.misuse(a.bool("detach"), p.process().terminal(), a.has("console-socket"));
        if (misuse != null) return inv.fail(misuse);
        if (p.process().terminal() && !a.bool("detach") && sv == null) {
            return inv.fail("exec with a terminal needs brig's launcher (bin/brig), which relays it");
        }
        Path pidFile = a.has("pid-file") ? inv.path(a.value("pid-file", "")) : null;
        Runtime.ExecProcess x;
        // Connected before the process exists: a wrong path fails with nothing started.
        try (ConsoleSocket console = a.has("console-socket") ? ConsoleSocket.connect(inv.path(a.value("console-socket", "")), inv.host()::connectUnix) : null) {
            x = rt.exec(p, preserve, sv == null ? null : sv.passedFds(), pid -> {
                if (pidFile != null) RunCommand.writePidFile(pidFile, pid);
            }, console);
        }
        if (a.bool("detach")) return 0; // it is reparented when this process exits, and runs on
        if (sv == null) return x.waitFor();
        // The supervisor waits for it (it inherits it when this JVM exits), relays signals and
        // the terminal, and exits with its status; no clean-up: only this process is its business.
        sv.container(x.pid(), x.terminalFd(), List.of());
        return 0;
    }

    /** runc's flags that change the container's process. */
    static ExecPlanner.Overrides overrides(Args a, List<String> args) throws Args.UsageException {
        List<String> env = a.values("env");
        for (String e : env) {
            if (e.indexOf('=') <= 0) throw new Args.UsageException("invalid value \"" + e + "\" for flag -env: expected NAME=VALUE");
            if (e.indexOf(0) >= 0) throw new Args.UsageException("invalid value for flag -env: NUL character");
        }
        String cwd = a.value("cwd", null);
        if (cwd != null && (!cwd.startsWith("/") || cwd.indexOf(0) >= 0)) {
            throw new Args.UsageException("invalid value \"" + cwd + "\" for flag -cwd: must be an absolute path");
        }
        for (String s : args) if (s.indexOf(0) >= 0) throw new Args.UsageException("exec: an argument contains a NUL character");
        Long uid = null, gid = null;
        String user = a.value("user", null);
        if (user != null) {
            String[] parts = user.split(":", -1);
            if (parts.length > 2) throw new Args.UsageException("invalid value \"" + user + "\" for flag -user: expected UID[:GID]");
            uid = id(parts[0], "user", user);
            if (parts.length == 2) gid = id(parts[1], "user", user);
        }
        List<Long> gids = null;
        if (a.has("additional-gids")) {
            gids = new ArrayList<>();
            for (String v : a.values("additional-gids")) for (String g : v.split(",")) gids.add(id(g, "additional-gids", v));
        }
        List<Capability> caps = new ArrayList<>();
        for (String c : a.values("cap")) {
            Capability cap = Capability.ofName(c.toUpperCase(java.util.Locale.ROOT).startsWith("CAP_") ? c.toUpperCase(java.util.Locale.ROOT)
                    : "CAP_" + c.toUpperCase(java.util.Locale.ROOT));
            if (cap == null) throw new Args.UsageException("invalid value \"" + c + "\" for flag -cap: unknown capability");
            caps.add(cap);
        }
        Boolean nnp = a.has("no-new-privs") ? a.bool("no-new-privs") : null;
        return new ExecPlanner.Overrides(args, env, cwd, uid, gid, gids, caps, nnp, a.bool("tty"));
    }

    private static long id(String s, String flag, String whole) throws Args.UsageException {
        try {
            long v = Long.parseLong(s.trim());
            if (v < 0 || v > 0xfffffffeL) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new Args.UsageException("invalid value \"" + whole + "\" for flag -" + flag + ": expected numeric ids");
        }
    }
}
