package brig.cli;

import brig.errors.BrigFailure;
import brig.json.Json;
import brig.syscalls.Errno;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One call of a brig command and everything it may know of its caller: the streams, the
 * environment, the working directory, the umask, who called, and the global flags. Commands
 * read these from here and nowhere else (not System.out, System.getenv, the JVM's working
 * directory or properties), so that one JVM can run commands for many callers;
 * {@link Main#main} builds the only one taken from the real process.
 *
 * <p>Not here yet: the container's stdio. `run` and `demo` hand the container this process's
 * fds 0-2 (the helper inherits them), which are the caller's only when the JVM is the caller's
 * own process; a JVM serving other callers must receive their fds and pass them on.
 *
 * @param cwd the caller's working directory, absolute: every relative path a command is given
 *     is resolved against it ({@link #path}). A name rather than an fd because NIO takes
 *     names; a JVM that receives a caller's directory as an O_PATH fd can name it
 *     /proc/self/fd/N, which the kernel resolves to that directory
 * @param umask the caller's umask
 * @param host the process the command runs in, for what only a command that owns it may do
 */
record Invocation(InputStream in, PrintStream out, PrintStream err, Map<String, String> env, Path cwd, int umask,
                  Caller caller, Globals globals, Host host) {

    Invocation {
        if (!cwd.isAbsolute()) throw new IllegalArgumentException("the working directory must be absolute: " + cwd);
        env = Map.copyOf(env);
    }

    /**
     * The process a command runs in: the distribution it was started from, and what only a
     * command that has the process to itself may do. Each is asked only by the commands that
     * need it (the first FFM call costs a quick command a good part of its time).
     */
    interface Host {
        /** The distribution directory (target/brig: libexec/brig-helper), or null if unknown. */
        Path home();

        /** The launcher's supervisor this process runs under, or null. */
        Supervisor supervisor();

        /** What starts the helper processes: by default this process, from the distribution's binary. */
        default brig.helper.Helper.Launcher launcher() {
            Path home = home();
            if (home == null) throw new IllegalStateException("brig.home is not set: start brig with bin/brig");
            return brig.helper.Helper.Launcher.of(home.resolve("libexec/brig-helper"));
        }

        /**
         * An AF_UNIX stream socket connected to {@code path} by the caller's own process (the
         * engine's console socket: its peer's credentials are the caller's): by default this
         * process. Throws as {@link brig.syscalls.Libc#connectUnix} does.
         */
        default int connectUnix(Path path) throws brig.syscalls.SyscallException {
            return brig.runtime.ConsoleSocket.Connector.HERE.connect(path);
        }

        /** Whether the caller's stderr is a terminal (progress bars). */
        boolean errTerminal();

        /**
         * For commands that start a container from this process: signals a terminal or a
         * user sends this process itself are ignored (see {@link Supervisor#ignoreDirectSignals}).
         */
        void ignoreDirectSignals();

        /** This JVM's own process: {@code env} is its real environment (the supervisor's fd is in it). */
        static Host process(Path home, Map<String, String> env) {
            return new Host() {
                @Override
                public Path home() {
                    return home;
                }

                @Override
                public Supervisor supervisor() {
                    return Supervisor.find(env);
                }

                @Override
                public boolean errTerminal() {
                    return brig.syscalls.Libc.isatty(2);
                }

                @Override
                public void ignoreDirectSignals() {
                    Supervisor.ignoreDirectSignals();
                }
            };
        }

        /**
         * A caller that is not this process but whose own process supervises the call (the
         * resident server's client, for run, create and exec): it starts the helper processes,
         * so containers are its descendants with its stdio, it connects the console socket,
         * and it takes the supervisor's messages. No terminal here; signals are the supervisor's.
         */
        static Host served(Path home, Supervisor supervisor, brig.helper.Helper.Launcher launcher,
                           brig.runtime.ConsoleSocket.Connector connector) {
            return new Other(home, supervisor, launcher, connector);
        }

        /** A caller that is not this process: no supervisor, no terminal, signals left alone. */
        static Host detached(Path home) {
            return new Other(home, null, null, null);
        }

        /**
         * The host of a caller that is not this process; a null launcher: this process starts
         * helpers; a null connector: this process connects.
         */
        record Other(Path home, Supervisor supervisor, brig.helper.Helper.Launcher given,
                     brig.runtime.ConsoleSocket.Connector connector) implements Host {
            @Override
            public brig.helper.Helper.Launcher launcher() {
                return given != null ? given : Host.super.launcher();
            }

            @Override
            public int connectUnix(Path path) throws brig.syscalls.SyscallException {
                return connector != null ? connector.connect(path) : Host.super.connectUnix(path);
            }

            @Override
            public boolean errTerminal() {
                return false;
            }

            @Override
            public void ignoreDirectSignals() {}
        }
    }

    /**
     * Who called: the pid the caller started (under the launcher, its supervisor's: the one
     * systemd's LISTEN_PID names) and the effective credentials.
     */
    record Caller(long pid, int uid, int gid) {}

    /**
     * The global flags.
     *
     * @param root the state directory, absolute
     * @param log the --log file, absolute, or null
     */
    record Globals(Path root, Path log, boolean json, boolean debug, boolean systemdCgroup) {
        static final Globals DEFAULT = new Globals(brig.runtime.StateStore.DEFAULT_ROOT, null, false, false, false);
    }

    Invocation withGlobals(Globals g) {
        return new Invocation(in, out, err, env, cwd, umask, caller, g, host);
    }

    /** A path the caller gave, resolved against the caller's working directory. */
    Path path(String given) {
        return cwd.resolve(given);
    }

    /** An environment variable of the caller, or null. */
    String env(String name) {
        return env.get(name);
    }

    /** What starts the helper processes (this process, or the caller's for a resident server). */
    brig.helper.Helper.Launcher helper() {
        return host.launcher();
    }

    /** The supervisor this call runs under, or null. */
    Supervisor sv() {
        return host.supervisor();
    }

    /** Reports an error: one line on stderr, and in the --log file if there is one. Returns 1. */
    int fail(String message) {
        return fail(message, null);
    }

    /**
     * {@link #fail(String)}, with the failure's typed details (field, path, syscall, errno) as
     * fields of the log line.
     */
    int fail(String message, BrigFailure detail) {
        err.println("brig: " + message);
        log("error", message, detail);
        return 1;
    }

    /** Reports a warning (a failed poststart or poststop hook): one line on stderr, and in the --log file. */
    void warn(String message) {
        err.println("brig: warning: " + message);
        log("warning", message, null);
    }

    /**
     * With --debug, a debug line as runc writes one: in the --log file if there is one, else
     * on stderr (where runc's logrus writes without --log). Without --debug, nothing.
     */
    void debug(String message) {
        if (!globals.debug()) return;
        if (globals.log() != null) {
            log("debug", message, null);
        } else {
            err.println("time=\"" + brig.json.Rfc3339.now() + "\" level=debug msg=" + Json.compact(new JsonPrimitive(message)));
        }
    }

    /**
     * A line in the --log file, as runc writes it: logrus's text format, or with --log-format
     * json one JSON object per line ({"level":"error","msg":"...","time":"..."}), where
     * engines take the last error line as the reason a command failed.
     */
    void log(String level, String message, BrigFailure detail) {
        if (globals.log() == null) return;
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("level", level);
        fields.put("msg", message);
        fields.put("time", brig.json.Rfc3339.now());
        if (detail != null) {
            if (!detail.field().isEmpty()) fields.put("field", detail.field());
            if (!detail.path().isEmpty()) fields.put("path", detail.path());
            if (!detail.syscall().isEmpty()) fields.put("syscall", detail.syscall());
            if (detail.errno() != 0) fields.put("errno", Errno.name(detail.errno()));
        }
        String line;
        if (globals.json()) {
            JsonObject o = new JsonObject();
            fields.forEach(o::addProperty);
            line = Json.compact(o);
        } else {
            StringBuilder sb = new StringBuilder("time=\"" + fields.remove("time") + "\" level=" + fields.remove("level"));
            fields.forEach((k, v) -> sb.append(' ').append(k).append('=').append(Json.compact(new JsonPrimitive(v))));
            line = sb.toString();
        }
        try {
            Files.writeString(globals.log(), line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            err.println("brig: cannot write log " + globals.log() + ": " + e.getMessage());
        }
    }
}
