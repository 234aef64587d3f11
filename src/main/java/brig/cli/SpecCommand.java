package brig.cli;

import brig.json.Json;
import brig.spec.SpecDefaults;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** `brig spec [--rootless] [--bundle DIR]`: writes runc's default config.json. */
final class SpecCommand {
    private SpecCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("path to the root of the bundle directory", "bundle", "b"),
            Args.Flag.bool("generate a configuration for a rootless container", "rootless"));

    static int run(Invocation inv, Args a) throws Args.UsageException {
        a.exactly("spec", 0);
        // Messages name the bundle as the caller wrote it; the files are the caller's.
        Path shown = Path.of(a.value("bundle", "."));
        Path bundle = inv.path(shown.toString());
        if (!Files.isDirectory(bundle)) return inv.fail("chdir " + shown + ": ENOENT: no such file or directory");
        Path file = bundle.resolve("config.json");
        String json = Json.pretty(SpecDefaults.config(a.bool("rootless"), inv.caller().uid(), inv.caller().gid()));
        try {
            // 0666 less the caller's umask, as runc writes it.
            Files.write(Files.createFile(file, PosixFilePermissions.asFileAttribute(permissions(0666 & ~inv.umask()))),
                    (json + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return inv.fail("File " + shown.resolve("config.json") + " exists. Remove it first");
        } catch (IOException e) {
            return inv.fail("cannot write " + shown.resolve("config.json") + ": " + e.getMessage());
        }
        return 0;
    }

    /** The permission bits of {@code mode} as NIO's set. */
    static Set<PosixFilePermission> permissions(int mode) {
        PosixFilePermission[] all = PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE: 0400 down to 01
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < 9; i++) if ((mode & (0400 >> i)) != 0) out.add(all[i]);
        return out;
    }
}
