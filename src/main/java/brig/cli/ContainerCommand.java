package brig.cli;

import brig.container.ContainerConfig;
import brig.container.RunOptions;
import brig.container.Sizes;
import brig.errors.BrigFailure;
import brig.image.ContainerBundles;
import brig.image.Image;
import brig.image.ImageException;
import brig.image.Images;
import brig.image.Layout;
import brig.json.Json;
import brig.runtime.ContainerState;
import brig.runtime.Planner;
import brig.runtime.Runtime;
import brig.runtime.Started;
import brig.syscalls.Libc;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * `brig container VERB ...`: docker's long forms for people (run, create, start, stop, kill,
 * rm, ps). A container is a bundle of {@link ContainerBundles} in the image store
 * (STORE/containers/NAME, its copy-on-write rootfs) plus, while it runs, the runtime's state
 * under --root with the name as its id. The policy (docker's flags and defaults) is
 * brig.container's; this class parses, looks images up and starts bundles as `brig run` does.
 * Docker's exit codes: 125 when Brig fails, 126 and 127 when the command cannot be run, else
 * the container's.
 */
final class ContainerCommand {
    private ContainerCommand() {}

    static final String USAGE = "run|create|start|stop|kill|rm|ps|logs|wait|top|inspect|exec|stats [options] ...   (brig container VERB --help)";

    /** Docker's "the daemon failed": bad flags, no image, a start that failed. */
    static final int FAILED = 125, NOT_EXECUTABLE = 126, NOT_FOUND = 127;

    /** In a bundle: the container has run and exited (without it and without state: created). */
    static final String EXITED = "exited";

    /** Marks a container made with --rm: its bundle goes when it exits. */
    static final String AUTO_REMOVE = "brig.container.autoRemove";

    static final List<Args.Flag> RUN_FLAGS = List.of(
            ImageFlags.STORE,
            Args.Flag.value("the container's name (default: a random one)", "name"),
            Args.Flag.bool("remove the container (its writable layer and state) when it exits", "rm"),
            Args.Flag.value("set an environment variable K=V (K alone: the caller's value); repeatable", "env", "e"),
            Args.Flag.value("read K=V lines from a file; repeatable", "env-file"),
            Args.Flag.value("working directory inside the container", "workdir", "w"),
            Args.Flag.value("user (name or uid), optionally :group", "user", "u"),
            Args.Flag.value("the container's host name (default: its name)", "hostname", "h"),
            Args.Flag.value("replace the image's Entrypoint (\"\" clears it; the image's Cmd is dropped)", "entrypoint"),
            Args.Flag.value("memory limit (100M, 1g)", "memory", "m"),
            Args.Flag.value("memory plus swap limit (-1: unlimited; default twice --memory)", "memory-swap"),
            Args.Flag.value("swappiness 0-100 (cgroup v1)", "memory-swappiness"),
            Args.Flag.value("relative CPU weight (cgroup v1 shares)", "cpu-shares", "c"),
            Args.Flag.value("CPUs the container may use (1.5)", "cpus"),
            Args.Flag.value("CPUs it may run on (0-1, 0,2)", "cpuset-cpus"),
            Args.Flag.value("at most this many tasks (processes and threads)", "pids-limit"),
            Args.Flag.bool("mount the root file system read-only", "read-only"),
            Args.Flag.value("bind mount a host path: /HOST/PATH:/CONTAINER/PATH[:ro] (made as a directory if missing); repeatable", "volume", "v"),
            Args.Flag.value("mount a tmpfs: /CONTAINER/PATH[:OPTIONS] (default noexec,nosuid,nodev; size=64m, mode=1777, exec, ...); repeatable", "tmpfs"),
            Args.Flag.bool("run a static init (tini, as docker-init) as PID 1: it reaps zombies and passes signals on", "init"),
            Args.Flag.value("add a capability (NET_ADMIN, ALL); repeatable", "cap-add"),
            Args.Flag.value("drop a capability (ALL); repeatable", "cap-drop"),
            Args.Flag.value("seccomp=FILE (an OCI linux.seccomp JSON) or seccomp=unconfined", "security-opt"),
            Args.Flag.value("none (default: a network namespace of its own, no interface but lo) or host", "network", "net"),
            Args.Flag.value("pull the image: missing (default), never or always", "pull"),
            Args.Flag.bool("give the container a terminal", "tty", "t"),
            Args.Flag.bool("keep stdin open: the caller's (without it, and without -t, the container's stdin is /dev/null)", "interactive", "i"),
            Args.Flag.bool("run in the background: print the name once it runs (logs, wait, stop)", "detach", "d"));

    static final List<Args.Flag> STOP_FLAGS = List.of(ImageFlags.STORE,
            Args.Flag.value("seconds to wait after SIGTERM before SIGKILL (default 10)", "time", "t"));
    static final List<Args.Flag> KILL_FLAGS = List.of(ImageFlags.STORE, Args.Flag.value("signal (default KILL)", "signal", "s"));
    static final List<Args.Flag> RM_FLAGS = List.of(ImageFlags.STORE, Args.Flag.bool("kill a running container first", "force", "f"));
    static final List<Args.Flag> PS_FLAGS = List.of(ImageFlags.STORE, Args.Flag.bool("all containers, not only running ones", "all", "a"),
            Args.Flag.bool("only names", "quiet", "q"));
    static final List<Args.Flag> START_FLAGS = List.of(ImageFlags.STORE, Args.Flag.bool("attached, also for a container created with -d (which starts detached)", "attach", "a"));
    static final List<Args.Flag> CLEANUP_FLAGS = List.of(ImageFlags.STORE, Args.Flag.bool("", "rm"), Args.Flag.value("", "start"));

    private static List<Args.Flag> withStore(List<Args.Flag> flags) {
        List<Args.Flag> all = new ArrayList<>(flags);
        all.add(ImageFlags.STORE);
        return all;
    }

    /** `brig container VERB ...`: every failure of Brig's own is 125, as docker's. */
    static int run(Invocation inv, Args top) {
        List<String> argv = top.positional();
        if (argv.isEmpty()) {
            inv.err().println("usage: brig container " + USAGE);
            return FAILED;
        }
        String verb = argv.get(0);
        List<String> rest = argv.subList(1, argv.size());
        try {
            List<Args.Flag> flags = switch (verb) {
                case "run", "create" -> RUN_FLAGS;
                case "start" -> START_FLAGS;
                case "stop" -> STOP_FLAGS;
                case "kill" -> KILL_FLAGS;
                case "rm" -> RM_FLAGS;
                case "ps", "ls", "list" -> PS_FLAGS;
                case "cleanup" -> CLEANUP_FLAGS;
                // --store as every container verb takes it: the name is the runtime's id all the same.
                case "top" -> withStore(ContainerTopCommand.FLAGS);
                case "inspect" -> withStore(ContainerInspectCommand.FLAGS);
                case "exec" -> ContainerExecCommand.FLAGS;
                case "stats" -> withStore(ContainerStatsCommand.FLAGS);
                case "logs" -> ContainerLogsCommand.FLAGS;
                case "wait" -> ContainerWaitCommand.FLAGS;
                case "monitored" -> ContainerDetach.MONITORED_FLAGS;
                default -> throw new Args.UsageException("\"container " + verb + "\" is not a command: use " + USAGE);
            };
            List<Args.Flag> withHelp = new ArrayList<>(flags);
            withHelp.add(Args.Flag.bool("show help", "help"));
            Args a = Args.parseGrouped(rest, 0, withHelp, true); // docker's -it, -dit, -ite K=V
            if (a.bool("help")) {
                inv.out().print("usage: brig container " + verb + " [options]" + (verb.equals("run") || verb.equals("create") ? " IMAGE [COMMAND [ARG...]]" : verb.equals("ps") ? "" : " NAME...") + "\n\noptions:\n" + Args.help(flags));
                return 0;
            }
            return switch (verb) {
                case "run" -> runOrCreate(inv, a, true);
                case "create" -> runOrCreate(inv, a, false);
                case "start" -> start(inv, a);
                case "stop" -> stop(inv, a);
                case "kill" -> kill(inv, a);
                case "rm" -> rm(inv, a);
                case "cleanup" -> cleanup(inv, a);
                case "top" -> ContainerTopCommand.run(inv, a);
                case "inspect" -> ContainerInspectCommand.run(inv, a);
                case "exec" -> ContainerExecCommand.run(inv, a);
                case "stats" -> ContainerStatsCommand.run(inv, a);
                case "logs" -> ContainerLogsCommand.run(inv, a);
                case "wait" -> ContainerWaitCommand.run(inv, a);
                case "monitored" -> ContainerDetach.monitored(inv, a);
                default -> ps(inv, a);
            };
        } catch (BrigFailure e) {
            inv.fail(e.getMessage(), e);
            return exitFor(e.getMessage());
        } catch (IOException e) {
            inv.fail(e.getMessage() != null ? e.getMessage() : e.toString());
            return FAILED;
        } catch (Exception e) {
            inv.fail("internal error: " + e);
            return FAILED;
        }
    }

    /**
     * 127 when the command is not there, 126 when it cannot be executed (both found by the
     * runtime's check of process.args[0] before the start), else 125.
     */
    static int exitFor(String message) {
        // The runtime's words for process.args[0] (runc's): exec: "CMD": executable file not
        // found in $PATH, or exec: "CMD": stat CMD: ENOENT/EACCES: ...
        if (message.startsWith("exec: ")) {
            if (message.contains("not found") || message.contains("ENOENT")) return NOT_FOUND;
            if (message.contains("EACCES") || message.contains("permission denied") || message.contains("not executable")
                    || message.contains("is a directory")) return NOT_EXECUTABLE;
        }
        return FAILED;
    }

    // --- run and create -------------------------------------------------------------------

    static int runOrCreate(Invocation inv, Args a, boolean run) throws Exception {
        if (a.positional().isEmpty()) throw new Args.UsageException("\"container " + (run ? "run" : "create") + "\" requires an image");
        String imageName = a.positional().get(0);
        List<String> cmd = a.positional().subList(1, a.positional().size());
        Path storeDir = ImageFlags.storeDir(inv, a);
        RunOptions o = options(inv, a, cmd);
        String name = o.name();
        Layout store = Layout.openOrCreate(storeDir);
        if (Files.exists(ContainerBundles.bundle(store, name))) {
            throw new ImageException("container name \"" + name + "\" is already in use: remove it with brig container rm " + name + " or choose another --name");
        }
        Image image = image(inv, a, store, storeDir, imageName);
        ContainerBundles.Prepared p = ContainerBundles.prepare(store, image, name);
        if (p.tmpfsUpper()) {
            // Issue 12: where the upper cannot live (a store on overlayfs, as the v2 guest's
            // root), it goes on a tmpfs, "and say so": its writes do not outlive the container.
            inv.warn("container " + name + ": " + p.bundle() + " is on overlayfs, which cannot hold an upper directory:"
                    + " the container's writable layer is on a tmpfs of its own and is lost when it stops");
        }
        boolean done = false;
        try {
            Path file = p.bundle().resolve("config.json");
            JsonObject config = Json.parseObjectFile(file);
            ContainerConfig.apply(config, image.config(), o, p.layers(), inv.env(), ContainerConfig.hostHardNofile());
            if (a.bool("rm")) config.getAsJsonObject("annotations").addProperty(AUTO_REMOVE, "true");
            if (a.bool("detach")) config.getAsJsonObject("annotations").addProperty(ContainerDetach.DETACH, "true");
            // docker: without -i the container's stdin is /dev/null (with -t the terminal is its stdin)
            if (!a.bool("interactive") && !a.bool("tty")) config.getAsJsonObject("annotations").addProperty(brig.process.Stdin.ANNOTATION, "null");
            Files.write(file, (Json.pretty(config) + "\n").getBytes(StandardCharsets.UTF_8));
            done = true;
        } finally {
            if (!done) ContainerBundles.remove(p.bundle());
        }
        if (!run) {
            inv.out().println(name);
            return 0;
        }
        if (a.bool("detach")) return ContainerDetach.start(inv, storeDir, p.bundle(), name, a.bool("rm"));
        return startBundle(inv, storeDir, p.bundle(), name, a.bool("rm"));
    }

    /** The store's image, pulled first as --pull says (docker's default: when missing). */
    static Image image(Invocation inv, Args a, Layout store, Path storeDir, String name) throws Exception {
        String pull = a.value("pull", "missing");
        if (!List.of("missing", "never", "always").contains(pull)) throw new Args.UsageException("invalid --pull \"" + pull + "\": use missing, never or always");
        ImageException missing = null;
        if (!pull.equals("always")) {
            try {
                return Images.find(store, name, brig.image.Platform.host());
            } catch (ImageException e) {
                missing = e;
            }
        }
        if (pull.equals("never")) throw missing;
        int status = PullCommand.run(inv, Args.parse(List.of("--store", storeDir.toString(), "-q", name), 0, PullCommand.FLAGS, false));
        if (status != 0) throw new ImageException(name + ": pull failed");
        return Images.find(store, name, brig.image.Platform.host());
    }

    static RunOptions options(Invocation inv, Args a, List<String> cmd) throws Exception {
        List<String> env = new ArrayList<>();
        for (String f : a.values("env-file")) {
            Path file = inv.path(f);
            List<String> lines;
            try {
                lines = Files.readAllLines(file);
            } catch (IOException e) {
                throw new Args.UsageException("--env-file " + file + ": " + e.getMessage());
            }
            for (String line : lines) {
                String l = line.strip();
                if (!l.isEmpty() && !l.startsWith("#")) env.add(l);
            }
        }
        env.addAll(a.values("env"));
        String seccomp = null;
        for (String s : a.values("security-opt")) {
            if (s.startsWith("seccomp=") || s.startsWith("seccomp:")) {
                String v = s.substring(8);
                seccomp = v.equals("unconfined") ? v : inv.path(v).toString();
            } else {
                throw new Args.UsageException("--security-opt " + s + ": only seccomp=FILE or seccomp=unconfined are supported");
            }
        }
        String name = a.value("name", null);
        if (name == null) name = "brig-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()).substring(0, 12);
        double cpus = 0;
        if (a.has("cpus")) {
            try {
                cpus = Double.parseDouble(a.value("cpus", ""));
                if (!(cpus > 0) || cpus > 1024) throw new NumberFormatException();
            } catch (NumberFormatException e) {
                throw new Args.UsageException("invalid --cpus \"" + a.value("cpus", "") + "\": a number of CPUs above 0 (1.5)");
            }
        }
        return new RunOptions(name, env, a.value("workdir", null), a.value("user", null), a.value("hostname", null),
                a.value("entrypoint", null),
                a.has("memory") ? Sizes.parse("--memory", a.value("memory", "")) : -1,
                a.has("memory-swap") ? Sizes.parse("--memory-swap", a.value("memory-swap", "")) : 0,
                a.intValue("memory-swappiness", -1), longValue(a, "cpu-shares"), cpus, a.value("cpuset-cpus", null),
                longValue(a, "pids-limit"), a.bool("read-only"), a.values("cap-add"), a.values("cap-drop"), seccomp,
                a.value("network", "none"), a.bool("tty"), cmd, a.values("volume"), a.values("tmpfs"),
                a.bool("init") ? brig.container.Volumes.STATIC_INIT : null);
    }

    private static long longValue(Args a, String flag) throws Args.UsageException {
        String v = a.value(flag, null);
        if (v == null) return -1;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new Args.UsageException("invalid value \"" + v + "\" for --" + flag + ": a whole number");
        }
    }

    /**
     * Runs the container's bundle in the foreground as `brig run` does: the launcher's
     * supervisor relays signals and the terminal, prints the OOM report, and when the container
     * has exited runs `container cleanup`, which removes the runtime's state and cgroups and,
     * for --rm, the bundle with its writable layer. Returns 0 once handed over (the
     * supervisor's exit status is then the container's).
     */
    static int startBundle(Invocation inv, Path storeDir, Path bundle, String name, boolean rm) throws Exception {
        return startBundle(inv, storeDir, bundle, name, rm, true);
    }

    /**
     * As {@link #startBundle(Invocation, Path, Path, String, boolean)}; with {@code notify}, the
     * caller's NOTIFY_SOCKET (a systemd unit of Type=notify running `brig container run`) gets
     * the container's READY=1 as `brig run` passes it on (podman's --sdnotify=container): the
     * container's own socket at /run/notify, and the caller's process, which stays, as MAINPID
     * (for a detached run, its monitor: ContainerDetach).
     */
    static int startBundle(Invocation inv, Path storeDir, Path bundle, String name, boolean rm, boolean notify) throws Exception {
        Runtime rt = runtime(inv);
        Supervisor sv = inv.sv();
        Started s;
        String notifyAt = notify ? CreateCommand.notifySocket(inv) : null;
        brig.runtime.Notify[] listening = {null};
        try {
            try {
                inv.host().ignoreDirectSignals();
                Runtime.Prepared p = rt.prepare(name, new Runtime.Options(bundle, false, 0, 0, false).withNotifySocket(notifyAt), Planner.Mode.RUN);
                brig.runtime.Notify.Relay relay = notifyAt == null ? null : CreateCommand.notifier(inv);
                Runtime.BeforeRun beforeRun = pid -> {
                    try {
                        if (notifyAt != null) listening[0] = brig.runtime.Notify.listen(rt.store().dir(name), name);
                    } catch (brig.runtime.BrigException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                };
                s = sv == null ? rt.start(p, 0, null, (cid, start) -> {}, beforeRun)
                        : rt.start(p, 0, sv.passedFds(), (cid, start) -> sv.starting(cleanupArgs(inv, storeDir, name, rm, start)), beforeRun);
                if (listening[0] != null) {
                    try {
                        listening[0].relay(s.state(), (int) inv.caller().pid(), notifyAt, relay);
                    } catch (BrigFailure e) {
                        s.abort();
                        throw e;
                    }
                }
            } catch (BrigFailure e) {
                // Runtime.start removed what it made; --rm takes the bundle too, as docker's.
                if (sv != null) sv.forget();
                if (rm) removeQuietly(bundle);
                throw e;
            }
            if (sv == null) { // not under the launcher (a library caller's JVM): wait here
                int status = s.waitFor(false);
                if (s.oomReport() != null) inv.err().println("brig: " + s.oomReport());
                if (rm) ContainerBundles.remove(bundle);
                return status;
            }
            try {
                // --rm also removes the bundle, which is Java's: then `container cleanup` does it all.
                sv.container(s.pid(), s.terminalFd(), s.handOver(false), rm ? null : s.teardown().marking(bundle.resolve(EXITED)));
            } catch (BrigFailure e) {
                s.abort();
                throw e;
            }
            return 0;
        } finally {
            if (listening[0] != null) listening[0].close();
        }
    }

    static List<String> cleanupArgs(Invocation inv, Path storeDir, String name, boolean rm, String start) {
        List<String> c = new ArrayList<>(List.of("--root", inv.globals().root().toString(), "container", "cleanup", "--store", storeDir.toString(),
                "--start", start));
        if (rm) c.add("--rm");
        c.add(name);
        return c;
    }

    /** After the container (or a JVM that died starting it): the runtime's delete of that start, and the bundle for --rm. */
    static int cleanup(Invocation inv, Args a) throws Exception {
        String name = a.exactly("container cleanup", 1).get(0);
        runtime(inv).delete(name, true, a.value("start", null));
        Path bundle = ContainerBundles.bundle(Layout.open(ImageFlags.storeDir(inv, a)), name);
        if (a.bool("rm")) {
            if (Files.exists(bundle)) {
                awaitWaiters(bundle);
                ContainerBundles.remove(bundle);
            }
        } else if (Files.isDirectory(bundle)) {
            Files.writeString(bundle.resolve(EXITED), ""); // ps -a: exited, not created
        }
        return 0;
    }

    /**
     * `container wait` holds a shared lock on the bundle until it has read the exit file: a
     * --rm removal waits for it (2 s at most: a stopped waiter does not hold the removal up),
     * else a removal that follows the exit by a millisecond (a served clean-up) is faster than
     * the waiter's poll.
     */
    private static void awaitWaiters(Path bundle) {
        int fd = -1;
        try {
            fd = Libc.open(bundle.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            for (int k = 0; k < 200 && !Libc.flock(fd, Libc.LOCK_EX, false, bundle.toString()); k++) Thread.sleep(10);
        } catch (brig.syscalls.SyscallException e) {
            // gone already, or no lock to take: nothing to wait for
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Libc.close(fd); // the removal that follows needs no lock: waiters that come later find nothing
        }
    }

    private static void removeQuietly(Path bundle) {
        try {
            ContainerBundles.remove(bundle);
        } catch (ImageException e) {
            // the start's own failure is what the user needs to see
        }
    }

    static Runtime runtime(Invocation inv) {
        return new Runtime(inv.globals().root(), inv.helper(), inv::warn, new brig.runtime.Hooks.Output(inv.out(), inv.err()));
    }

    // --- the others -------------------------------------------------------------------------

    /** `start NAME`: runs a created or exited container again, attached. */
    static int start(Invocation inv, Args a) throws Exception {
        String name = a.exactly("container start", 1).get(0);
        Path storeDir = ImageFlags.storeDir(inv, a);
        Path bundle = existing(storeDir, name);
        ContainerState st = state(inv, name);
        if (st != null && !st.status().equals("stopped")) throw new Args.UsageException("container " + name + " is " + st.status());
        if (st != null) runtime(inv).delete(name, false);
        JsonObject config = Json.parseObjectFile(bundle.resolve("config.json"));
        JsonElement rm = config.has("annotations") ? config.getAsJsonObject("annotations").get(AUTO_REMOVE) : null;
        if (!a.bool("attach") && ContainerDetach.annotation(bundle, ContainerDetach.DETACH)) {
            return ContainerDetach.start(inv, storeDir, bundle, name, rm != null && rm.getAsString().equals("true"));
        }
        Files.deleteIfExists(brig.container.MonitorFiles.exit(bundle)); // a detached run's exit is no longer the last
        return startBundle(inv, storeDir, bundle, name, rm != null && rm.getAsString().equals("true"));
    }

    /** `stop [-t N] NAME...`: SIGTERM (or the image's StopSignal), then SIGKILL to all after N seconds. */
    static int stop(Invocation inv, Args a) throws Exception {
        if (a.positional().isEmpty()) throw new Args.UsageException("\"container stop\" requires at least 1 argument");
        int seconds = a.intValue("time", 10);
        Runtime rt = runtime(inv);
        for (String name : a.positional()) {
            existing(ImageFlags.storeDir(inv, a), name);
            if (running(inv, name)) {
                JsonObject config = Json.parseObjectFile(existing(ImageFlags.storeDir(inv, a), name).resolve("config.json"));
                JsonElement sig = config.has("annotations") ? config.getAsJsonObject("annotations").get("org.opencontainers.image.stopSignal") : null;
                signal(rt, name, sig == null ? Libc.SIGTERM : brig.runtime.Signals.parse(sig.getAsString()), false);
                long deadline = System.nanoTime() + seconds * 1_000_000_000L;
                while (running(inv, name) && System.nanoTime() < deadline) Thread.sleep(20);
                if (running(inv, name)) signal(rt, name, Libc.SIGKILL, true);
                for (int k = 0; k < 500 && running(inv, name); k++) Thread.sleep(10);
            }
            inv.out().println(name);
        }
        return 0;
    }

    static int kill(Invocation inv, Args a) throws Exception {
        if (a.positional().isEmpty()) throw new Args.UsageException("\"container kill\" requires at least 1 argument");
        int sig = brig.runtime.Signals.parse(a.value("signal", "KILL"));
        for (String name : a.positional()) {
            existing(ImageFlags.storeDir(inv, a), name);
            if (!running(inv, name)) throw new Args.UsageException("container " + name + " is not running");
            runtime(inv).kill(name, sig, false);
            inv.out().println(name);
        }
        return 0;
    }

    /** `rm [-f] NAME...`: the bundle with its writable layer; -f kills and deletes a running one first. */
    static int rm(Invocation inv, Args a) throws Exception {
        if (a.positional().isEmpty()) throw new Args.UsageException("\"container rm\" requires at least 1 argument");
        Runtime rt = runtime(inv);
        for (String name : a.positional()) {
            Path bundle = existing(ImageFlags.storeDir(inv, a), name);
            ContainerState st = state(inv, name);
            if (st != null) {
                if (!st.status().equals("stopped") && !a.bool("force")) {
                    throw new Args.UsageException("container " + name + " is " + st.status() + ": stop it first, or rm -f");
                }
                java.util.Optional<ProcessHandle> supervisor = ProcessHandle.of(st.pid()).flatMap(ProcessHandle::parent);
                rt.delete(name, true);
                ContainerDetach.awaitSupervisor(supervisor);
                ContainerDetach.forgetMonitor(name);
                if (!Files.exists(bundle)) { // --rm: its supervisor's clean-up took it
                    inv.out().println(name);
                    continue;
                }
            }
            ContainerDetach.forgetMonitor(name);
            ContainerBundles.remove(bundle);
            inv.out().println(name);
        }
        return 0;
    }

    /** `ps [-a]`: NAME IMAGE COMMAND STATUS; exited ones only with -a. */
    static int ps(Invocation inv, Args a) throws Exception {
        a.exactly("container ps", 0);
        Path dir = ImageFlags.storeDir(inv, a).resolve("containers");
        List<Path> bundles = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().forEach(bundles::add);
            }
        }
        if (!a.bool("quiet")) inv.out().printf("%-24s %-32s %-24s %s%n", "NAME", "IMAGE", "COMMAND", "STATUS");
        for (Path b : bundles) {
            String name = b.getFileName().toString();
            ContainerState st = state(inv, name);
            brig.container.MonitorFiles.Exit exit = st == null || st.status().equals("stopped") ? brig.container.MonitorFiles.readExit(b) : null;
            String status = exit != null ? "Exited (" + exit.status() + ")" : st != null ? st.status() : Files.exists(b.resolve(EXITED)) ? "exited" : "created";
            if (!a.bool("all") && !status.equals("running") && !status.equals("paused")) continue;
            if (a.bool("quiet")) {
                inv.out().println(name);
                continue;
            }
            JsonObject config = Json.parseObjectFile(b.resolve("config.json"));
            JsonObject ann = config.has("annotations") ? config.getAsJsonObject("annotations") : new JsonObject();
            String image = ann.has("org.opencontainers.image.ref.name") ? ann.get("org.opencontainers.image.ref.name").getAsString() : "";
            List<String> args = new ArrayList<>();
            config.getAsJsonObject("process").getAsJsonArray("args").forEach(e -> args.add(e.getAsString()));
            String command = String.join(" ", args);
            if (command.length() > 22) command = command.substring(0, 21) + "…";
            inv.out().printf("%-24s %-32s %-24s %s%n", name, image, "\"" + command + "\"", status);
        }
        return 0;
    }

    private static Path existing(Path storeDir, String name) throws ImageException {
        Path bundle = ContainerBundles.bundle(Layout.open(storeDir), name);
        if (!Files.isRegularFile(bundle.resolve("config.json"))) throw new ImageException("no such container: " + name);
        return bundle;
    }

    /** The runtime's state of the container, or null when it is not running (no state). */
    private static ContainerState state(Invocation inv, String name) throws BrigFailure {
        return runtime(inv).store().read(name);
    }

    private static boolean running(Invocation inv, String name) throws BrigFailure {
        ContainerState s = state(inv, name);
        return s != null && !s.status().equals("stopped");
    }

    private static void signal(Runtime rt, String name, int sig, boolean all) throws BrigFailure {
        try {
            rt.kill(name, sig, all);
        } catch (brig.runtime.BrigException e) {
            if (!e.getMessage().contains("not running") && !e.getMessage().contains("does not exist")) throw e;
        }
    }

}
