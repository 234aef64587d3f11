package brig.registry;

import brig.image.Descriptor;
import brig.image.Image;
import brig.image.ImageException;
import brig.image.Layout;
import brig.image.Reference;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Uploads an image from a layout to a registry: each blob the registry lacks (HEAD first) in
 * one monolithic POST + PUT, then the manifest under the reference's tag or digest.
 */
public final class Pusher {
    private Pusher() {}

    public static void push(Layout src, Image image, RegistryClient client, Reference ref, Progress progress) throws ImageException {
        String repo = ref.repository(), scope = RegistryClient.pushScope(repo);
        List<Descriptor> blobs = new ArrayList<>(image.manifest().layers());
        blobs.add(image.manifest().config());
        for (Descriptor d : blobs) {
            Progress.Bar bar = progress.bar(d.digest().shortId(), d.size());
            try (RegistryClient.Response head = client.send("HEAD", client.url("/v2/" + repo + "/blobs/" + d.digest()), scope, Map.of(), null)) {
                if (head.status() == 200) {
                    bar.done("already there");
                    continue;
                }
            }
            URI location;
            try (RegistryClient.Response r = client.send("POST", client.url("/v2/" + repo + "/blobs/uploads/"), scope, Map.of(), null)) {
                if (r.status() != 202) throw RegistryClient.error("POST", r);
                String loc = r.header("Location").orElseThrow(() -> new RegistryException("POST upload to " + ref.name() + ": no Location in the answer"));
                location = r.uri().resolve(loc);
            }
            String sep = location.toString().contains("?") ? "&" : "?";
            URI put = URI.create(location + sep + "digest=" + d.digest());
            RegistryClient.Upload body = new RegistryClient.Upload() {
                @Override
                public long length() {
                    return d.size();
                }

                @Override
                public InputStream open() throws IOException {
                    return Files.newInputStream(src.blobPath(d.digest()));
                }
            };
            try (RegistryClient.Response r = client.send("PUT", put, scope, Map.of("Content-Type", "application/octet-stream"), body)) {
                if (r.status() != 201 && r.status() != 204) throw RegistryClient.error("PUT", r);
            }
            bar.done("pushed");
        }
        byte[] manifest = src.readBlob(image.descriptor());
        String type = image.descriptor().mediaType();
        try (RegistryClient.Response r = client.send("PUT", client.url("/v2/" + repo + "/manifests/" + ref.manifestRef()), scope,
                Map.of("Content-Type", type), RegistryClient.Upload.of(manifest))) {
            if (r.status() != 201 && r.status() != 200 && r.status() != 204) throw RegistryClient.error("PUT", r);
        }
    }
}
