package brig.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
    }
}
