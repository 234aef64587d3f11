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

    static int run(Main.Globals g, List<String> argv) throws Args.UsageException {
        if (ImageFlags.help(argv, "pull [options] [docker://]REGISTRY/REPO[:TAG|@DIGEST]", FLAGS)) return 0;
        Args a = Args.parse(argv, 0, FLAGS, false);
        String name = a.exactly("pull", 1).get(0);
        try {
            Reference ref = Reference.parse(name);
            Layout store = Layout.openOrCreate(ImageFlags.storeDir(a));
            RegistryClient client = client(a, ref);
            Puller.Pulled p;
            try (Progress progress = Progress.of(a.bool("quiet"))) {
                p = Puller.pull(client, ref, ImageFlags.platform(a), store, ref.toString(), progress);
            }
            System.out.println(p.configDigest());
            return 0;
        } catch (ImageException e) {
            return Main.fail(g, e.getMessage());
        }
    }

    static RegistryClient client(Args a, Reference ref) throws ImageException, Args.UsageException {
        Path authFile = a.has("authfile") ? Path.of(a.value("authfile", "")) : null;
        return new RegistryClient(ref, ImageFlags.tlsVerify(a), Credentials.find(authFile, ref.registry(), ref.repository()));
    }
}
