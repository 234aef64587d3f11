package brig.cli;

import brig.image.ImageException;
import brig.image.Layout;
import brig.image.Reference;
import brig.registry.Credentials;
import brig.registry.Progress;
import brig.registry.Puller;
import brig.registry.RegistryClient;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig pull [--store DIR] [--platform P] [--tls-verify=false] [--authfile F] [docker://]REF`:
 * fetches an image from its registry into the store and prints its id.
 */
final class PullCommand {
    private PullCommand() {}

    static final List<Args.Flag> FLAGS = List.of(ImageFlags.STORE, ImageFlags.PLATFORM, ImageFlags.TLS_VERIFY, ImageFlags.AUTHFILE,
            ImageFlags.QUIET);

    static int run(Invocation inv, Args a) throws ImageException, Args.UsageException {
        String name = a.exactly("pull", 1).get(0);
        Reference ref = Reference.parse(name);
        Layout store = Layout.openOrCreate(ImageFlags.storeDir(inv, a));
        RegistryClient client = client(inv, a, ref);
        Puller.Pulled p;
        try (Progress progress = progress(inv, a)) {
            p = Puller.pull(client, ref, ImageFlags.platform(a), store, ref.toString(), progress);
        }
        inv.out().println(p.configDigest());
        return 0;
    }

    static RegistryClient client(Invocation inv, Args a, Reference ref) throws ImageException, Args.UsageException {
        Path authFile = a.has("authfile") ? inv.path(a.value("authfile", "")) : null;
        return new RegistryClient(ref, ImageFlags.tlsVerify(a), Credentials.find(authFile, inv.env(), ref.registry(), ref.repository()));
    }

    /** Bars on the caller's stderr when it is a terminal and -q was not given. */
    static Progress progress(Invocation inv, Args a) {
        return Progress.of(inv.err(), !a.bool("quiet") && inv.host().errTerminal());
    }
}
