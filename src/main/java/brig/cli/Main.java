package brig.cli;

import brig.errors.BrigFailure;
import brig.syscalls.Libc;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The brig command: runc's command line (global flags before the command, runc's verbs and
 * error texts) plus Brig's own verbs, all in one table ({@link #COMMANDS}). Every error is one
 * line on stderr and a non-zero exit.
 */
public final class Main {
    private Main() {}

    static final String VERSION = "0.1.0";

    static final List<Args.Flag> GLOBAL = List.of(
            Args.Flag.value("root directory for storage of container state", "root"),
            Args.Flag.value("set the log file to write runtime errors to", "log"),
            Args.Flag.value("set the log format ('text' (default), or 'json')", "log-format"),
            Args.Flag.bool("enable debug logging", "debug"),
            Args.Flag.bool("enable systemd cgroup support", "systemd-cgroup"),
            Args.Flag.value("ignore cgroup permission errors ('true', 'false', or 'auto')", "rootless"),
            Args.Flag.value("path to the criu binary used for checkpoint and restore", "criu"),
            Args.Flag.bool("show help", "help", "h"),
            Args.Flag.bool("print the version", "version", "v"),
            Args.Flag.bool("run this call in a JVM of its own, not in the resident server (as BRIG_SERVER=off does)", "no-server"));

    /**
     * Every verb, in the order `brig --help` lists them; runc's verbs Brig does not have yet
     * are refused by name rather than as unknown. A new verb is one line here, e.g. replacing
     * its notYet line:
     *
     * <pre>{@code
     * Command.runc("update", "change a container's resource limits", "[options] <container-id>", UpdateCommand.FLAGS, UpdateCommand::run),
     * }</pre>
     *
     * with {@code static int run(Invocation inv, Args a) throws ...} in UpdateCommand: the
     * flags come parsed (runc's way: they end at the first argument), --help is answered, and
     * a BrigFailure thrown is reported by {@link #run}'s one handler (stderr, --log, status 1).
     * {@code .runsLong()} for a verb that runs until stopped (events).
     */
    static final List<Command> COMMANDS = List.of(
            Command.runc("spec", "create a new specification file (config.json)", "[options]", SpecCommand.FLAGS, SpecCommand::run),
            Command.runc("run", "create and run a container from a bundle, in the foreground", "[options] <container-id>", RunCommand.FLAGS, RunCommand::run),
            Command.runc("delete", "delete a container and all it holds (--force: one still running too)", "[options] <container-id>", DeleteCommand.FLAGS, DeleteCommand::run),
            Command.runc("create", "create a container from a bundle, waiting for start", "[options] <container-id>", CreateCommand.FLAGS, CreateCommand::run),
            Command.runc("start", "run the program of a created container", "<container-id>", List.of(), StartCommand::run),
            Command.runc("state", "print a container's state as JSON", "<container-id>", List.of(), StateCommand::run),
            Command.runc("list", "list the containers under --root", "[options]", ListCommand.FLAGS, ListCommand::run),
            Command.runc("ps", "list the processes of a container", "[options] <container-id> [ps options]", PsCommand.FLAGS, PsCommand::run),
            Command.runc("kill", "send a signal to a container's first process (or, with --all, to all)", "[options] <container-id> [signal]", KillCommand.FLAGS, KillCommand::run),
            Command.runc("exec", "run another process in a running container", "[options] <container-id> <command> [command options]   (or --process FILE <container-id>)", ExecCommand.FLAGS, ExecCommand::run),
            Command.runc("pause", "freeze every process of a container", "<container-id>", List.of(), PauseCommand::pause),
            Command.runc("resume", "thaw a paused container", "<container-id>", List.of(), PauseCommand::resume),
            Command.runc("events", "print a container's events (OOM kills) and its resource usage every interval, as JSON lines", "[options] <container-id>", EventsCommand.FLAGS, EventsCommand::run).runsLong(),
            Command.runc("update", "change a container's resource limits", "[options] <container-id>", UpdateCommand.FLAGS, UpdateCommand::run),
            Command.runc("features", "print the features this runtime has, as JSON (the runtime-spec's features document)", "", List.of(), FeaturesCommand::run),
            Command.notYet("checkpoint", "checkpoint a running container"),
            Command.notYet("restore", "restore a container from a checkpoint"),
            Command.brig("server", "the resident server that answers the quick commands: status, or stop it", "status|stop", List.of(), ServerCommand::run),
            Command.brig("lsns", "list namespaces (as util-linux lsns) and the container that owns each", "[options] [namespace]", LsnsCommand.FLAGS, LsnsCommand::run),
            Command.brig("container", "docker's long forms for people: run an image on a copy-on-write rootfs with limits, and manage its containers", ContainerCommand.USAGE, List.of(), ContainerCommand::run),
            Command.brig("image", "docker's long forms of the image verbs: pull, ls, inspect, rm, import, unpack, copy", ImageCommand.USAGE, List.of(), ImageCommand::run),
            Command.brig("demo", "run a small container assembled from this host's /usr (no image needed)", "[options]", DemoCommand.FLAGS, DemoCommand::run),
            Command.image("pull", "pull [docker://]REGISTRY/REPO[:TAG|@DIGEST] into the store (busybox is docker.io/library/busybox:latest)", "[options] [docker://]REGISTRY/REPO[:TAG|@DIGEST]", PullCommand.FLAGS, PullCommand::run),
            Command.image("images", "list the images in the store", "[options]", ImageCommands.IMAGES_FLAGS, ImageCommands::images).quick(),
            Command.image("inspect", "show an image's manifest and config (a store name or oci:DIR[:REF])", "[options] IMAGE   (a store name or id, or oci:DIR[:REF])", ImageCommands.INSPECT_FLAGS, ImageCommands::inspect).quick(),
            Command.image("rmi", "remove images from the store and delete the blobs no image uses", "[options] IMAGE...", ImageCommands.RMI_FLAGS, ImageCommands::rmi),
            Command.image("import", "import FILE.tar [NAME]: a flat rootfs tarball as a one-layer image (localhost/NAME)", "[options] FILE.tar [NAME]   (a flat rootfs tarball, plain, gzip or zstd)", CopyCommand.IMPORT_FLAGS, CopyCommand::importTar),
            Command.image("unpack", "unpack IMAGE BUNDLE: rootfs/ and config.json from a store image or oci:DIR[:REF]", "[options] IMAGE BUNDLE   (IMAGE: a store name or id, oci:DIR[:REF], or docker://REF)", UnpackCommand.FLAGS, UnpackCommand::run),
            Command.image("copy", "copy SRC DST between docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF]", "[options] SRC DST", CopyCommand.FLAGS, CopyCommand::copy));

    /** The command of that verb, or null. */
    static Command command(String verb) {
        for (Command c : COMMANDS) if (c.verb().equals(verb)) return c;
        return null;
    }

    public static void main(String[] argv) {
        System.exit(run(processInvocation(), Arrays.asList(argv)));
    }

    /**
     * This process's own invocation: the JVM's streams, environment and working directory,
     * and the caller's umask and credentials from /proc/self/status (read as a file, not
     * through FFM, which would cost a quick command a good part of its time). The only place
     * that reads them; everything else gets an {@link Invocation}.
     */
    static Invocation processInvocation() {
        Map<String, String> real = System.getenv();
        if (real.containsKey("BRIG_TEST_CRASH_AT")) brig.runtime.Runtime.testCrashAt(real.get("BRIG_TEST_CRASH_AT"));
        // The launcher's own variables are this process's, not the caller's environment.
        Map<String, String> env = new java.util.HashMap<>(real);
        env.keySet().removeAll(List.of("BRIG_SUPERVISOR", "BRIG_FDS"));
        // One read of /proc/self/status, parsed by hand, through java.io: NIO's channels
        // (their native library), a regex or ProcessHandle each cost a quick command about a
        // millisecond of its ~40.
        String status = "";
        try (var in = new java.io.FileInputStream("/proc/self/status")) {
            status = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        } catch (IOException e) {
            // no /proc: libc and ProcessHandle below
        }
        int umask = (int) statusField(status, "Umask", 8, 022);
        int uid = (int) statusField(status, "Uid", 10, -1), gid = (int) statusField(status, "Gid", 10, -1);
        if (uid < 0) uid = Libc.geteuid();
        if (gid < 0) gid = Libc.getegid();
        // The pid the caller started (what LISTEN_PID names): under the launcher, the
        // supervisor's, whose child this JVM is.
        long pid = statusField(status, real.containsKey("BRIG_SUPERVISOR") ? "PPid" : "Pid", 10, -1);
        if (pid < 0) pid = ProcessHandle.current().pid();
        String home = System.getProperty("brig.home");
        return new Invocation(System.in, System.out, System.err, env, Path.of(System.getProperty("user.dir")),
                umask, new Invocation.Caller(pid, uid, gid), Invocation.Globals.DEFAULT,
                Invocation.Host.process(home == null ? null : Path.of(home), real));
    }

    /**
     * The first number of a /proc/PID/status line ("Uid:\t0\t0\t0\t0": the real id; for Uid
     * and Gid the second, the effective one), or {@code fallback}.
     */
    static long statusField(String status, String name, int radix, long fallback) {
        int at = status.startsWith(name + ":") ? 0 : status.indexOf("\n" + name + ":");
        if (at < 0) return fallback;
        int end = status.indexOf('\n', at + 1);
        String[] f = status.substring(at + name.length() + (at == 0 ? 1 : 2), end < 0 ? status.length() : end).trim().split("\t");
        try {
            return Long.parseLong(f[name.equals("Uid") || name.equals("Gid") ? 1 : 0].trim(), radix);
        } catch (RuntimeException e) {
            return fallback;
        }
    }

    /** Runs one brig command line for {@code inv}'s caller; returns the exit status. */
    static int run(Invocation inv, List<String> argv) {
        try {
            Args a = Args.parse(argv, 0, GLOBAL, true);
            String format = a.value("log-format", "text");
            inv = inv.withGlobals(new Invocation.Globals(inv.path(a.value("root", Invocation.Globals.DEFAULT.root().toString())),
                    a.has("log") ? inv.path(a.value("log", "")) : null, format.equals("json"), a.bool("debug"), a.bool("systemd-cgroup")));
            if (!List.of("text", "json").contains(format)) {
                throw new Args.UsageException("invalid log format \"" + format + "\": use text or json");
            }
            if (a.bool("version")) {
                inv.out().println("brig version " + VERSION + "\nspec: " + brig.spec.Spec.VERSION);
                return 0;
            }
            List<String> rest = a.positional();
            if (rest.isEmpty() || a.bool("help")) {
                inv.out().print(usage());
                return 0;
            }
            String verb = rest.get(0);
            List<String> args = rest.subList(1, rest.size());
            if (verb.equals("help") || verb.equals("h")) {
                if (args.isEmpty()) {
                    inv.out().print(usage());
                    return 0;
                }
                verb = args.get(0);
                Command c = command(verb);
                if (c == null) return unknown(inv, verb);
                inv.out().print(c.help());
                return 0;
            }
            Command c = command(verb);
            if (c == null) return unknown(inv, verb);
            // The supervisor's fd: close-on-exec before anything could start a helper.
            if (verb.equals("demo")) inv.sv();
            if (inv.globals().systemdCgroup() && !verb.equals("spec")) {
                return inv.fail("--systemd-cgroup: Brig has no systemd cgroup driver; leave the flag out and give linux.cgroupsPath as a cgroupfs path such as \"/brig/NAME\"");
            }
            if (a.has("rootless") && a.value("rootless", "").equals("true")) {
                return inv.fail("--rootless=true is not supported yet: run brig as root");
            }
            if (c.body() == null) return inv.fail("\"" + verb + "\" is not supported yet");
            signalsFor(c, inv);
            // The image verbs are docker's fronts: its grouped one-letter flags; runc's keep Go's grammar.
            Args ca = c.group() == Command.Group.IMAGES ? Args.parseGrouped(args, 0, c.parsedFlags(), !c.flagsAnywhere())
                    : Args.parse(args, 0, c.parsedFlags(), !c.flagsAnywhere());
            if (ca.bool("help")) {
                inv.out().print(c.help());
                return 0;
            }
            inv.debug("brig " + String.join(" ", argv) + " (root " + inv.globals().root() + ", caller pid " + inv.caller().pid() + ")");
            int status = c.body().run(inv, ca);
            inv.debug(verb + ": exit status " + status);
            return status;
        } catch (BrigFailure e) {
            // Bad input or a failure on the system: its own one line, with its details in the log.
            return inv.fail(e.getMessage(), e);
        } catch (IOException e) {
            return inv.fail(e.getMessage() != null ? e.getMessage() : e.toString());
        } catch (Exception e) {
            // A bug, not bad input: still one line, naming what broke.
            return inv.fail("internal error: " + e);
        }
    }

    /** runc's words and status for a verb it does not know. */
    private static int unknown(Invocation inv, String verb) {
        inv.err().println("No help topic for '" + verb + "'");
        inv.log("error", "No help topic for '" + verb + "'", null);
        return 3;
    }

    /**
     * Under the launcher's supervisor, signals wait until brig says where they go. Commands
     * that may run long have them forwarded to this JVM; run and demo give them to their
     * container; quick ones finish first (telling the supervisor costs the first FFM call,
     * a good part of a short command's time).
     */
    static void signalsFor(Command c, Invocation inv) {
        if (!c.longRunning()) return;
        Supervisor sv = inv.sv();
        if (sv == null) return;
        try {
            sv.forwardSignals();
        } catch (brig.syscalls.SyscallException e) {
            // the supervisor is gone: nothing to tell
        }
    }

    /** `brig --help`: the commands from the table, by group, and the global options. */
    static String usage() {
        StringBuilder sb = new StringBuilder("""
                brig - an OCI container runtime and image tool

                usage: brig [global options] command [command options] [arguments...]
                """);
        for (Command.Group g : Command.Group.values()) {
            sb.append('\n').append(g.title).append(":\n");
            for (Command c : COMMANDS) {
                if (c.group() == g && c.body() != null) sb.append(String.format("   %-8s %s%n", c.verb(), c.summary()));
            }
            List<String> notYet = COMMANDS.stream().filter(c -> c.group() == g && c.body() == null).map(Command::verb).toList();
            if (!notYet.isEmpty()) sb.append("   (not yet: ").append(String.join(" ", notYet)).append(")\n");
        }
        sb.append("\n   help     show the commands, or one command's usage and options: brig help COMMAND (or brig COMMAND --help)\n");
        return sb.append("\nglobal options:\n").append(Args.help(GLOBAL)).toString();
    }
}
