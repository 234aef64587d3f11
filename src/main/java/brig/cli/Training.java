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
        if (args.length > 2 && args[0].equals("--bundle")) { // for src/build/train-verbs.sh: a bundle, no training
            DemoCommand.writeHostBundle(Path.of(args[1]), List.of(args).subList(2, args.length), "training");
            return;
        }
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
        DemoCommand.writeHostBundle(bundle, List.of("/bin/true"), "training");
        int[] sv = brig.syscalls.Libc.socketpair();
        Map<String, String> env = new HashMap<>(inv.env());
        env.put("BRIG_SUPERVISOR", Integer.toString(sv[1]));
        Invocation supervised = new Invocation(inv.in(), inv.out(), inv.err(), inv.env(), inv.cwd(), inv.umask(), inv.caller(),
                Invocation.Globals.DEFAULT, Invocation.Host.process(inv.host().home(), env));
        String root = bundle.resolve("state").toString();
        brig.runtime.Runtime rt = new brig.runtime.Runtime(Path.of(root), inv.helper());
        try {
            // What engines call: run; create, state, kill, delete; create, start, state, delete.
            if (brig(supervised, root, "run", "--bundle", bundle.toString(), "training") == 0) reap(rt);
            brig(supervised, root, "delete", "--force", "training");
            if (brig(supervised, root, "create", "--bundle", bundle.toString(), "training") == 0) {
                brig(supervised, root, "state", "training");
                brig(supervised, root, "kill", "training", "KILL");
                reap(rt);
            }
            brig(supervised, root, "delete", "training");
            if (brig(supervised, root, "create", "--bundle", bundle.toString(), "training") == 0) {
                brig(supervised, root, "start", "training");
                reap(rt);
                brig(supervised, root, "state", "training");
            }
        } finally {
            brig(inv, root, "delete", "--force", "training");
            brig.syscalls.Libc.close(sv[0]);
            brig.syscalls.Libc.close(sv[1]);
        }
    }

    private static int brig(Invocation inv, String root, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("--root", root));
        all.addAll(List.of(args));
        return Main.run(inv, all);
    }

    /** Waits for the container's process: this process's child, as it would be the supervisor's. */
    private static void reap(brig.runtime.Runtime rt) throws Exception {
        brig.syscalls.Libc.waitpid(rt.state("training").pid(), 0);
    }
}
