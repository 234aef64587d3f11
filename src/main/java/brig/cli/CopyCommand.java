package brig.cli;

import brig.image.ImageException;
import brig.image.Importer;
import brig.image.Layout;
import brig.image.Transport;
import brig.registry.Copier;
import brig.registry.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig copy SRC DST` between docker://, oci:DIR[:REF], oci-archive:FILE[:REF] and
 * docker-archive:FILE[:REF]; and `brig import FILE.tar [NAME]`, a flat rootfs tarball to a
 * one-layer image in the store.
 */
final class CopyCommand {
    private CopyCommand() {}

    static final List<Args.Flag> FLAGS = List.of(ImageFlags.PLATFORM, ImageFlags.TLS_VERIFY, ImageFlags.AUTHFILE, ImageFlags.QUIET);

    static int copy(Main.Globals g, List<String> argv) throws Args.UsageException {
        if (ImageFlags.help(argv, "copy [options] SRC DST   (docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF])", FLAGS)) return 0;
        Args a = Args.parse(argv, 0, FLAGS, false);
        List<String> p = a.exactly("copy", 2);
        try {
            Transport src = parse(p.get(0)), dst = parse(p.get(1));
            try (Progress progress = Progress.of(a.bool("quiet"))) {
                Copier.copy(src, dst, ImageFlags.platform(a), ref -> {
                    try {
                        return PullCommand.client(a, ref);
                    } catch (Args.UsageException e) {
                        throw new ImageException(e.getMessage());
                    }
                }, progress);
            }
            return 0;
        } catch (ImageException e) {
            return Main.fail(g, e.getMessage());
        }
    }

    private static Transport parse(String text) throws ImageException {
        Transport t = Transport.parse(text, true);
        if (t instanceof Transport.Store) {
            throw new ImageException("invalid image location \"" + text + "\": give a transport (docker://, oci:, oci-archive:, docker-archive:)");
        }
        return t;
    }

    static final List<Args.Flag> IMPORT_FLAGS = List.of(ImageFlags.STORE);

    static int importTar(Main.Globals g, List<String> argv) throws Args.UsageException {
        if (ImageFlags.help(argv, "import [options] FILE.tar [NAME]   (a flat rootfs tarball, plain, gzip or zstd)", IMPORT_FLAGS)) return 0;
        Args a = Args.parse(argv, 0, IMPORT_FLAGS, false);
        List<String> p = a.positional();
        if (p.isEmpty() || p.size() > 2) throw new Args.UsageException("\"import\" requires 1 or 2 argument(s): FILE.tar [NAME]");
        Path tar = Path.of(p.get(0));
        try {
            if (!Files.isRegularFile(tar)) throw new ImageException(tar + ": no such file");
            String name = Importer.name(p.size() > 1 ? p.get(1) : null, tar);
            var img = Importer.importTar(tar, Layout.openOrCreate(ImageFlags.storeDir(a)), name);
            System.out.println(img.id());
            return 0;
        } catch (ImageException e) {
            return Main.fail(g, e.getMessage());
        }
    }
}
