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

    static int copy(Invocation inv, Args a) throws ImageException, Args.UsageException {
        List<String> p = a.exactly("copy", 2);
        Transport src = parse(inv, p.get(0)), dst = parse(inv, p.get(1));
        try (Progress progress = PullCommand.progress(inv, a)) {
            Copier.copy(src, dst, ImageFlags.platform(a), ref -> {
                try {
                    return PullCommand.client(inv, a, ref);
                } catch (Args.UsageException e) {
                    throw new ImageException(e.getMessage());
                }
            }, progress);
        }
        return 0;
    }

    private static Transport parse(Invocation inv, String text) throws ImageException {
        Transport t = Transport.parse(text, true);
        if (t instanceof Transport.Store) {
            throw new ImageException("invalid image location \"" + text + "\": give a transport (docker://, oci:, oci-archive:, docker-archive:)");
        }
        return t.resolvedAgainst(inv.cwd());
    }

    static final List<Args.Flag> IMPORT_FLAGS = List.of(ImageFlags.STORE);

    static int importTar(Invocation inv, Args a) throws ImageException, Args.UsageException {
        List<String> p = a.positional();
        if (p.isEmpty() || p.size() > 2) throw new Args.UsageException("\"import\" requires 1 or 2 argument(s): FILE.tar [NAME]");
        Path tar = inv.path(p.get(0));
        if (!Files.isRegularFile(tar)) throw new ImageException(p.get(0) + ": no such file");
        String name = Importer.name(p.size() > 1 ? p.get(1) : null, tar);
        var img = Importer.importTar(tar, Layout.openOrCreate(ImageFlags.storeDir(inv, a)), name);
        inv.out().println(img.id());
        return 0;
    }
}
