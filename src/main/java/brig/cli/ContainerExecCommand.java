package brig.cli;

import brig.container.ContainerException;
import brig.image.ImageException;
import brig.image.Users;
import brig.runtime.ContainerState;
import brig.runtime.StateStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * `brig container exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER[:GROUP]] NAME COMMAND [ARG...]`:
 * docker's exec, done by the runtime's exec ({@link ExecCommand}, which hands the process to
 * the launcher's supervisor as it does for `brig exec`). What is docker's here: a user by name,
 * looked up in the container's own /etc/passwd and /etc/group (its rootfs as it is now, through
 * /proc/PID/root), -e K taking the caller's value, and the exit codes (125 when Brig fails,
 * 126/127 when the command cannot be run, the command's own otherwise).
 */
final class ContainerExecCommand {
    private ContainerExecCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.bool("keep stdin open (it always is: the caller's)", "interactive", "i"),
            Args.Flag.bool("give the command a terminal", "tty", "t"),
            Args.Flag.bool("run the command in the background: brig returns once it runs", "detach", "d"),
            Args.Flag.value("set an environment variable K=V (K alone: the caller's value); repeatable", "env", "e"),
            Args.Flag.value("working directory inside the container (default: the container's)", "workdir", "w"),
            Args.Flag.value("user (name or uid), optionally :group (default: the container's)", "user", "u"));

    static int run(Invocation inv, Args a) throws Exception {
        List<String> pos = a.positional();
        if (pos.size() < 2) throw new Args.UsageException("\"container exec\" requires at least 2 arguments: NAME COMMAND [ARG...]");
        String name = pos.get(0);
        StateStore.checkId(name);
        ContainerState st = new StateStore(inv.globals().root()).read(name);
        if (st == null) throw new ContainerException("no such container: " + name + " (or it is not running)");
        if (!st.status().equals("running")) throw new ContainerException("container " + name + " is not running (" + st.status() + ")");
        // runc's exec flags for the same process.
        List<String> runc = new ArrayList<>();
        for (String e : a.values("env")) {
            if (e.indexOf('=') > 0) {
                runc.addAll(List.of("--env", e));
            } else if (inv.env().containsKey(e)) { // docker: -e K is the caller's K, left out if unset
                runc.addAll(List.of("--env", e + "=" + inv.env().get(e)));
            } else if (e.isEmpty() || e.startsWith("=")) {
                throw new ContainerException("-e \"" + e + "\": the variable's name is empty");
            }
        }
        if (a.has("workdir")) {
            String w = a.value("workdir", "");
            if (!w.startsWith("/")) throw new ContainerException("-w " + w + ": the working directory must be an absolute path");
            runc.addAll(List.of("--cwd", w));
        }
        if (a.has("user")) {
            String spec = a.value("user", "");
            Users.User u;
            try {
                u = Users.resolve(Path.of("/proc/" + st.pid() + "/root"), spec);
            } catch (ImageException e) {
                // Users speaks of the image's User; here it is the flag, read in the container.
                throw new ContainerException("-u " + spec + ": " + e.getMessage().replaceFirst("^image config User \"[^\"]*\": ", "")
                        .replace("the image's", "the container's"));
            }
            runc.addAll(List.of("--user", u.uid() + ":" + u.gid()));
            if (!u.additionalGids().isEmpty()) {
                runc.addAll(List.of("--additional-gids", u.additionalGids().stream().map(String::valueOf).collect(Collectors.joining(","))));
            }
        }
        if (a.bool("tty")) runc.add("--tty");
        if (a.bool("detach")) runc.add("--detach");
        runc.addAll(pos);
        int status = ExecCommand.run(inv, Args.parse(runc, 0, ExecCommand.FLAGS, true));
        // Under the launcher a status of 0 means "handed over" (the supervisor exits with the
        // command's); anything else is ExecCommand's own refusal, which is Brig's failure.
        return inv.sv() != null && status != 0 ? ContainerCommand.FAILED : status;
    }
}
