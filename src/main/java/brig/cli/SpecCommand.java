package brig.cli;

import brig.json.Json;
import brig.spec.SpecDefaults;
import brig.syscalls.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** `brig spec [--rootless] [--bundle DIR]`: writes runc's default config.json. */
final class SpecCommand {
    private SpecCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("path to the root of the bundle directory", "bundle", "b"),
            Args.Flag.bool("generate a configuration for a rootless container", "rootless"));

    static int run(Main.Globals g, List<String> argv) throws Args.UsageException {
        Args a = Args.parse(argv, 0, FLAGS, false);
        a.exactly("spec", 0);
        Path bundle = Path.of(a.value("bundle", "."));
        if (!Files.isDirectory(bundle)) return Main.fail(g, "chdir " + bundle + ": ENOENT: no such file or directory");
        Path file = bundle.resolve("config.json");
        String json = Json.pretty(SpecDefaults.config(a.bool("rootless"), Libc.geteuid(), Libc.getegid()));
        try {
            Files.writeString(file, json + "\n", StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return Main.fail(g, "File " + file + " exists. Remove it first");
        } catch (IOException e) {
            return Main.fail(g, "cannot write " + file + ": " + e.getMessage());
        }
        return 0;
    }
}
