package brig.cli;

import brig.json.Json;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * The brig command: runc's command line (global flags before the command, runc's verbs and
 * error texts) plus Brig's own verbs. Every error is one line on stderr and a non-zero exit.
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
            Args.Flag.bool("print the version", "version", "v"));

    /** runc's verbs that Brig does not have yet: refused by name rather than "unknown". */
    private static final List<String> NOT_YET = List.of("create", "start", "state", "list", "ps", "kill",
            "exec", "pause", "resume", "events", "features", "checkpoint", "restore");

    /** Global settings every command sees. */
    record Globals(Path root, Path log, boolean json, boolean debug, boolean systemdCgroup) {}

    public static void main(String[] argv) {
        System.exit(run(Arrays.asList(argv)));
    }

    static int run(List<String> argv) {
        Globals g = new Globals(brig.runtime.StateStore.DEFAULT_ROOT, null, false, false, false);
        signalsForBrig(firstCommand(argv));
        try {
            Args a = Args.parse(argv, 0, GLOBAL, true);
            g = new Globals(Path.of(a.value("root", g.root().toString())), a.has("log") ? Path.of(a.value("log", "")) : null,
                    a.value("log-format", "text").equals("json"), a.bool("debug"), a.bool("systemd-cgroup"));
            if (!List.of("text", "json").contains(a.value("log-format", "text"))) {
                throw new Args.UsageException("invalid log format \"" + a.value("log-format", "") + "\": use text or json");
            }
            if (a.bool("version")) {
                System.out.println("brig version " + VERSION + "\nspec: 1.2.0");
                return 0;
            }
            List<String> rest = a.positional();
            if (rest.isEmpty() || a.bool("help") || rest.get(0).equals("help")) {
                System.out.print(usage());
                return 0;
            }
            String command = rest.get(0);
            // The supervisor's fd: close-on-exec before anything could start a helper.
            if (command.equals("demo")) Supervisor.find();
            if (g.systemdCgroup() && !command.equals("spec")) {
                return fail(g, "--systemd-cgroup is not supported yet: give linux.cgroupsPath as a cgroupfs path");
            }
            if (a.has("rootless") && a.value("rootless", "").equals("true")) {
                return fail(g, "--rootless=true is not supported yet: run brig as root");
            }
            List<String> args = rest.subList(1, rest.size());
            return switch (command) {
                case "spec" -> SpecCommand.run(g, args);
                case "run" -> RunCommand.run(g, args);
                case "delete" -> DeleteCommand.run(g, args);
                case "update" -> UpdateCommand.run(g, args);
                case "demo" -> DemoCommand.run(g, args);
                case "pull" -> PullCommand.run(g, args);
                case "copy" -> CopyCommand.copy(g, args);
                case "import" -> CopyCommand.importTar(g, args);
                case "images" -> ImageCommands.images(g, args);
                case "rmi" -> ImageCommands.rmi(g, args);
                case "inspect" -> ImageCommands.inspect(g, args);
                case "unpack" -> UnpackCommand.run(g, args);
                default -> {
                    if (NOT_YET.contains(command)) yield fail(g, "\"" + command + "\" is not supported yet");
                    System.err.println("No help topic for '" + command + "'");
                    yield 3;
                }
            };
        } catch (Args.UsageException e) {
            return fail(g, e.getMessage());
        } catch (RuntimeException e) {
            // A bug, not bad input: still one line, naming what broke.
            return fail(g, "internal error: " + e);
        }
    }

    /** Commands that may run long enough to be interrupted: they want the caller's signals. */
    private static final List<String> LONG_RUNNING = List.of("pull", "copy", "import", "unpack", "rmi");

    /**
     * Under the launcher's supervisor, signals wait until brig says where they go. Commands
     * that may run long have them forwarded to this JVM; run and demo give them to their
     * container; quick ones finish first (telling the supervisor costs the first FFM call,
     * a good part of a short command's time).
     */
    private static void signalsForBrig(String command) {
        if (!LONG_RUNNING.contains(command)) return;
        Supervisor sv = Supervisor.find();
        if (sv == null) return;
        try {
            sv.forwardSignals();
        } catch (brig.syscalls.SyscallException e) {
            // the supervisor is gone: nothing to tell
        }
    }

    /** The command word: the first argument after the global flags. */
    private static String firstCommand(List<String> argv) {
        try {
            List<String> rest = Args.parse(argv, 0, GLOBAL, true).positional();
            return rest.isEmpty() ? "" : rest.get(0);
        } catch (Args.UsageException e) {
            return "";
        }
    }

    static String usage() {
        return """
                brig - an OCI container runtime and image tool

                usage: brig [global options] command [command options] [arguments...]

                commands (runc's, for engines and by hand):
                   spec     create a new specification file (config.json)
                   run      create and run a container from a bundle, in the foreground
                   delete   delete a container and all it holds (--force: one still running too)
                   update   change a running container's resource limits (--resources FILE, runc's flags)

                commands of brig's own:
                   demo     run a small container assembled from this host's /usr (no image needed)

                images (the store is an OCI image layout, default /var/lib/brig/images, ~/.local/share/brig/images if not root; --store DIR):
                   pull     pull [docker://]REGISTRY/REPO[:TAG|@DIGEST] into the store (busybox is docker.io/library/busybox:latest)
                   images   list the images in the store
                   inspect  show an image's manifest and config (a store name or oci:DIR[:REF])
                   rmi      remove images from the store and delete the blobs no image uses
                   import   import FILE.tar [NAME]: a flat rootfs tarball as a one-layer image (localhost/NAME)
                   unpack   unpack IMAGE BUNDLE: rootfs/ and config.json from a store image or oci:DIR[:REF]
                   copy     copy SRC DST between docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF]

                global options:
                """ + Args.help(GLOBAL);
    }

    /** Reports an error: one line on stderr, and in the --log file if there is one. Returns 1. */
    static int fail(Globals g, String message) {
        System.err.println("brig: " + message);
        log(g, "error", message);
        return 1;
    }

    static void log(Globals g, String level, String message) {
        if (g.log() == null) return;
        String time = Instant.now().toString();
        String line;
        if (g.json()) {
            JsonObject o = new JsonObject();
            o.addProperty("level", level);
            o.addProperty("msg", message);
            o.addProperty("time", time);
            line = Json.compact(o);
        } else {
            line = "time=\"" + time + "\" level=" + level + " msg=" + Json.compact(new com.google.gson.JsonPrimitive(message));
        }
        try {
            Files.writeString(g.log(), line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("brig: cannot write log " + g.log() + ": " + e.getMessage());
        }
    }

    /** The distribution directory (target/brig), set by the launcher. */
    static Path home() {
        String h = System.getProperty("brig.home");
        if (h == null) throw new IllegalStateException("brig.home is not set: start brig with bin/brig");
        return Path.of(h);
    }

    static Path helper() {
        return home().resolve("libexec/brig-helper");
    }
}
