package brig.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The build's AOT training run: exercises the common commands so that their classes are in
 * the AOT cache. Runs a real demo container when the build runs as root.
 */
final class Training {
    private Training() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Invocation inv = Main.processInvocation();
        Main.run(inv, List.of("spec", "--bundle", dir.toString()));
        Files.createDirectories(dir.resolve("rootfs"));
        Main.run(inv, List.of("--root", dir.resolve("state").toString(), "run", "--explain", "--bundle", dir.toString(), "training"));
        Main.run(inv, List.of("--root", dir.resolve("state").toString(), "run", "--bundle", dir.resolve("missing").toString(), "training"));
        Path seccomp = brig.seccomp.Training.bundle(dir.resolve("config.json"), dir.resolve("seccomp"));
        Main.run(inv, List.of("--root", dir.resolve("state").toString(), "run", "--explain", "--bundle", seccomp.toString(), "training"));
        if (inv.caller().uid() == 0) Main.run(inv, List.of("--root", dir.resolve("state").toString(), "demo"));
        ImageTraining.run(inv, dir.resolve("image-training"));
        if (inv.caller().uid() == 0) supervisedRun(inv, dir.resolve("supervised"));
    }

    /**
     * A real `run` handed over to a supervisor, as bin/brig's cold path runs it: the channel to
     * the supervisor, the hand-over and what it sends are then in the cache too (their lambdas
     * and string concatenations were bootstrapped at run time in every cold run, ~5 ms). The
     * supervisor here is a socket nobody reads (its messages are a few hundred bytes); this
     * process waits for the container and removes it. Last: the supervisor, once found, is the
     * process's.
     */
    private static void supervisedRun(Invocation inv, Path bundle) throws Exception {
        Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
        com.google.gson.JsonObject config = brig.spec.SpecDefaults.config(false, 0, 0);
        config.getAsJsonObject("process").addProperty("terminal", false);
        com.google.gson.JsonArray args = new com.google.gson.JsonArray();
        args.add("/bin/true");
        config.getAsJsonObject("process").add("args", args);
        com.google.gson.JsonArray mounts = config.getAsJsonArray("mounts");
        for (String top : List.of("usr", "bin", "sbin", "lib", "lib64")) {
            Path host = Path.of("/" + top);
            if (Files.isSymbolicLink(host)) {
                Files.createSymbolicLink(rootfs.resolve(top), Files.readSymbolicLink(host));
            } else if (Files.isDirectory(host)) {
                mounts.add(brig.json.Json.parseQuietly("{\"destination\":\"" + host + "\",\"type\":\"bind\",\"source\":\"" + host
                        + "\",\"options\":[\"rbind\",\"ro\",\"nosuid\",\"nodev\"]}"));
            }
        }
        Files.writeString(bundle.resolve("config.json"), brig.json.Json.pretty(config));
        int[] sv = brig.syscalls.Libc.socketpair();
        Map<String, String> env = new HashMap<>(inv.env());
        env.put("BRIG_SUPERVISOR", Integer.toString(sv[1]));
        Invocation supervised = new Invocation(inv.in(), inv.out(), inv.err(), inv.env(), inv.cwd(), inv.umask(), inv.caller(),
                Invocation.Globals.DEFAULT, Invocation.Host.process(inv.host().home(), env));
        String root = bundle.resolve("state").toString();
        try {
            if (Main.run(supervised, List.of("--root", root, "run", "--bundle", bundle.toString(), "training")) == 0) {
                int pid = new brig.runtime.Runtime(Path.of(root), inv.helper()).state("training").pid();
                brig.syscalls.Libc.waitpid(pid, 0); // this process's child, as the supervisor's would be
            }
        } finally {
            Main.run(inv, List.of("--root", root, "delete", "--force", "training"));
            brig.syscalls.Libc.close(sv[0]);
            brig.syscalls.Libc.close(sv[1]);
        }
    }
}
