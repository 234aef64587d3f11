package brig.cli;

import brig.image.ImageException;
import brig.image.Images;
import brig.image.Layout;
import brig.image.Unpacker;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig unpack [--store DIR] IMAGE BUNDLE`: makes a runtime bundle (rootfs/ and config.json) from
 * a store image or an oci:DIR[:REF] layout.
 */
final class UnpackCommand {
    private UnpackCommand() {}

    static final List<Args.Flag> FLAGS = List.of(ImageFlags.STORE, ImageFlags.PLATFORM);

    static int run(Main.Globals g, List<String> argv) throws Args.UsageException {
        Args a = Args.parse(argv, 0, FLAGS, false);
        List<String> p = a.exactly("unpack", 2);
        try {
            Images.Located img = Images.locate(p.get(0), storeFor(a, p.get(0)), ImageFlags.platform(a));
            Unpacker.unpack(img.layout(), img.image(), Path.of(p.get(1)));
            return 0;
        } catch (ImageException e) {
            return Main.fail(g, e.getMessage());
        }
    }

    /** The store, opened only when the image is named in it (an oci: layout needs none). */
    static Layout storeFor(Args a, String image) throws ImageException {
        if (image.startsWith("oci:")) return null;
        return Layout.open(ImageFlags.storeDir(a));
    }
}
