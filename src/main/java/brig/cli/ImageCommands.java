package brig.cli;

import brig.image.Descriptor;
import brig.image.Image;
import brig.image.ImageException;
import brig.image.Images;
import brig.image.Layout;
import brig.image.MediaType;
import brig.image.Reference;
import brig.json.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** `brig images`, `brig rmi` and `brig inspect`: what is in the store. */
final class ImageCommands {
    private ImageCommands() {}

    static final List<Args.Flag> IMAGES_FLAGS = List.of(ImageFlags.STORE, Args.Flag.bool("print only image ids", "quiet", "q"),
            Args.Flag.value("output format: table (default) or json", "format"));

    static int images(Invocation inv, Args a) throws ImageException, Args.UsageException {
        a.exactly("images", 0);
        String format = a.value("format", "table");
        if (!format.equals("table") && !format.equals("json")) throw new Args.UsageException("invalid format \"" + format + "\": use table or json");
        Path dir = ImageFlags.storeDir(inv, a);
        {
            if (!Files.exists(dir.resolve("oci-layout"))) {
                if (format.equals("json")) inv.out().println("[]");
                else if (!a.bool("quiet")) inv.out().printf("%-48s %-16s %-14s %-22s %s%n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
                return 0;
            }
            Layout store = Layout.open(dir);
            JsonArray json = new JsonArray();
            StringBuilder table = new StringBuilder();
            if (!a.bool("quiet")) table.append(String.format("%-48s %-16s %-14s %-22s %s%n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"));
            for (Descriptor d : store.manifests()) {
                Image img;
                try {
                    img = store.image(d.refName(), d, brig.image.Platform.host());
                } catch (ImageException e) {
                    inv.err().println("brig: warning: " + e.getMessage());
                    continue;
                }
                String repo = d.refName(), tag = "<none>";
                try {
                    Reference r = Reference.parse(d.refName());
                    repo = r.name();
                    tag = r.tag() != null ? r.tag() : "<none>";
                } catch (ImageException notARegistryName) {
                    // a name given by copy into the store: shown as it is
                }
                long size = img.manifest().size();
                if (a.bool("quiet")) {
                    table.append(img.id().shortId()).append('\n');
                    continue;
                }
                table.append(String.format("%-48s %-16s %-14s %-22s %s%n", repo, tag, img.id().shortId(),
                        img.config().created().length() >= 19 ? img.config().created().substring(0, 19).replace('T', ' ') : img.config().created(),
                        human(size)));
                JsonObject o = new JsonObject();
                o.addProperty("name", d.refName());
                o.addProperty("id", img.id().toString());
                o.addProperty("digest", img.descriptor().digest().toString());
                o.addProperty("created", img.config().created());
                o.addProperty("size", size);
                json.add(o);
            }
            inv.out().print(format.equals("json") ? Json.pretty(json) + "\n" : table);
            return 0;
        }
    }

    static String human(long b) {
        if (b < 1000) return b + " B";
        if (b < 1_000_000) return String.format("%.1f kB", b / 1e3);
        if (b < 1_000_000_000) return String.format("%.1f MB", b / 1e6);
        return String.format("%.2f GB", b / 1e9);
    }

    static final List<Args.Flag> RMI_FLAGS = List.of(ImageFlags.STORE);

    static int rmi(Invocation inv, Args a) throws ImageException, Args.UsageException {
        if (a.positional().isEmpty()) throw new Args.UsageException("\"rmi\" requires at least 1 argument(s)");
        Layout store = Layout.open(ImageFlags.storeDir(inv, a));
        List<String> names = new ArrayList<>();
        for (String name : a.positional()) names.add(Images.entry(store, name).refName());
        for (String n : names) {
            store.untag(n);
            inv.out().println("Untagged: " + n);
        }
        Layout.Collected c = store.gc();
        if (c.blobs() > 0) inv.out().println("Deleted " + c.blobs() + " blob(s), " + human(c.bytes()));
        return 0;
    }

    static final List<Args.Flag> INSPECT_FLAGS = List.of(ImageFlags.STORE, ImageFlags.PLATFORM);

    static int inspect(Invocation inv, Args a) throws ImageException, Args.UsageException {
        String name = a.exactly("inspect", 1).get(0);
        {
            Images.Located l = Images.locate(name, inv.cwd(), UnpackCommand.storeFor(inv, a, name), ImageFlags.platform(a));
            Image img = l.image();
            JsonObject o = new JsonObject();
            o.addProperty("Name", img.name());
            o.addProperty("Id", img.id().toString());
            o.addProperty("Digest", img.descriptor().digest().toString());
            o.addProperty("MediaType", img.manifest().mediaType());
            o.addProperty("Created", img.config().created());
            o.addProperty("Os", img.config().os());
            o.addProperty("Architecture", img.config().architecture());
            if (!img.config().variant().isEmpty()) o.addProperty("Variant", img.config().variant());
            o.addProperty("Size", img.manifest().size());
            JsonArray layers = new JsonArray();
            for (Descriptor d : img.manifest().layers()) {
                JsonObject lo = new JsonObject();
                lo.addProperty("Digest", d.digest().toString());
                lo.addProperty("Size", d.size());
                lo.addProperty("MediaType", MediaType.ociLayer(d.mediaType()));
                layers.add(lo);
            }
            o.add("Layers", layers);
            o.add("Config", img.config().json());
            inv.out().println(Json.pretty(o));
            return 0;
        }
    }
}
