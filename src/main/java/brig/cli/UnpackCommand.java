package brig.cli;

import brig.image.ImageException;
import brig.image.Images;
import brig.image.Layout;
import brig.image.Reference;
import brig.image.Unpacker;
import brig.registry.Progress;
import brig.registry.Puller;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig unpack [--store DIR] IMAGE BUNDLE`: makes a runtime bundle (rootfs/ and config.json) from
 * a store image, an oci:DIR[:REF] layout, or docker://REF (pulled into the store on the way).
 */
final class UnpackCommand {
    private UnpackCommand() {}

    static final List<Args.Flag> FLAGS = List.of(ImageFlags.STORE, ImageFlags.PLATFORM, ImageFlags.TLS_VERIFY, ImageFlags.AUTHFILE,
            ImageFlags.QUIET);

    static int run(Invocation inv, Args a) throws ImageException, Args.UsageException {
        List<String> p = a.exactly("unpack", 2);
        if (p.get(0).startsWith("docker://")) return pullAndUnpack(inv, a, p.get(0), inv.path(p.get(1)));
        Images.Located img = Images.locate(p.get(0), inv.cwd(), storeFor(inv, a, p.get(0)), ImageFlags.platform(a));
        Unpacker.unpack(img.layout(), img.image(), inv.path(p.get(1)));
        return 0;
    }

    /**
     * docker://REF: pulls into the store and unpacks in one go, each layer as soon as it is
     * downloaded while the others still are (one process, download overlapping extraction).
     */
    static int pullAndUnpack(Invocation inv, Args a, String image, Path bundle) throws ImageException, Args.UsageException {
        Reference ref = Reference.parse(image);
        Layout store = Layout.openOrCreate(ImageFlags.storeDir(inv, a));
        try (Progress progress = PullCommand.progress(inv, a);
                Puller.Session s = Puller.start(PullCommand.client(inv, a, ref), ref, ImageFlags.platform(a), store, progress)) {
            Unpacker.unpack(store, s.image(), bundle, s.layers);
            s.finish(ref.toString());
        }
        return 0;
    }

    /** The store, opened only when the image is named in it (an oci: layout needs none). */
    static Layout storeFor(Invocation inv, Args a, String image) throws ImageException, Args.UsageException {
        if (image.startsWith("oci:")) return null;
        return Layout.open(ImageFlags.storeDir(inv, a));
    }
}
