package brig.image;

import brig.json.Json;
import brig.rootfs.Overlay;
import brig.syscalls.Libc;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Bundles for containers of images, each with a copy-on-write rootfs: the image's layers from
 * the {@link LayerStore} (unpacked once, shared) as overlay lower directories and a writable
 * layer of the container's own. What `brig container run` builds on; the bundle runs with
 * `brig run` like any other.
 *
 * <p>{@code STORE/containers/NAME/} (0700) holds config.json, an empty rootfs/ (root.path, the
 * mount point), upper/ and work/. config.json names the layers in Brig's annotations
 * ({@link Overlay}), and the overlay is mounted in the container's own mount namespace as its
 * first mount, so nothing is mounted on the host and nothing stays mounted after the container.
 * Where the containers directory is itself on overlayfs, which cannot hold an upper directory
 * (the v2 test guest's root is), upper and work go on a tmpfs mounted in the container's
 * namespace ({@link Prepared#tmpfsUpper}): the writes then last only as long as the container.
 */
public final class ContainerBundles {
    private ContainerBundles() {}

    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");

    /**
     * A prepared bundle.
     *
     * @param layers the image's layer directories, bottom first (the manifest's order)
     * @param tmpfsUpper upper and work are on a tmpfs of the container's, not on disk
     */
    public record Prepared(String name, Path bundle, List<Path> layers, Path upper, Path work, boolean tmpfsUpper) {
        public Prepared {
            layers = List.copyOf(layers);
        }
    }

    /** Where containers' bundles are, in an image store. */
    public static Path root(Layout store) {
        return store.dir().resolve("containers");
    }

    public static Path bundle(Layout store, String name) throws ImageException {
        if (!NAME.matcher(name).matches()) {
            throw new ImageException("container name \"" + name + "\": use letters, digits, '_', '.' and '-', starting with a letter or digit");
        }
        return root(store).resolve(name);
    }

    /**
     * Unpacks the image's missing layers into the layer store and makes the container's bundle.
     * A name already taken is refused; on failure nothing of the bundle is left (layers
     * unpacked on the way stay: they are complete and shared).
     */
    public static Prepared prepare(Layout store, Image image, String name) throws ImageException {
        return prepare(store, image, name, root(store));
    }

    /**
     * As {@link #prepare(Layout, Image, String)} with the bundle in {@code containers} (made
     * 0700 if missing) instead of the store's own containers directory: a state directory of
     * the caller's. There the upper directory may land on overlayfs, and goes on a tmpfs.
     */
    public static Prepared prepare(Layout store, Image image, String name, Path containers) throws ImageException {
        bundle(store, name); // checks the name
        Path bundle = containers.resolve(name);
        List<Path> layers = LayerStore.of(store).ensure(store, image);
        try {
            Files.createDirectories(containers, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.createDirectory(bundle, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            throw new ImageException("container " + name + ": " + bundle + " already exists");
        } catch (IOException e) {
            throw new ImageException("container " + name + ": cannot create " + bundle + ": " + Layout.message(e), e);
        }
        boolean done = false;
        try {
            Path rootfs = Files.createDirectory(bundle.resolve("rootfs"));
            boolean tmpfs = onOverlay(bundle);
            Path scratch = bundle.resolve("scratch"), upper, work;
            if (tmpfs) {
                Files.createDirectory(scratch);
                upper = scratch.resolve("upper");
                work = scratch.resolve("work");
            } else {
                upper = Files.createDirectory(bundle.resolve("upper"));
                work = Files.createDirectory(bundle.resolve("work"));
                Files.setPosixFilePermissions(upper, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            JsonObject config = BundleConfig.build(image.config(), usersRoot(layers, rootfs), false, Libc.geteuid(), Libc.getegid());
            JsonObject annotations = config.has("annotations") ? config.getAsJsonObject("annotations") : new JsonObject();
            List<String> top = new ArrayList<>();
            for (int k = layers.size() - 1; k >= 0; k--) top.add(layers.get(k).toString());
            annotations.addProperty(Overlay.LOWERDIRS, String.join(":", top));
            annotations.addProperty(Overlay.UPPERDIR, upper.toString());
            annotations.addProperty(Overlay.WORKDIR, work.toString());
            if (tmpfs) annotations.addProperty(Overlay.TMPFS, scratch.toString());
            annotations.addProperty("org.opencontainers.image.ref.name", image.name());
            config.add("annotations", annotations);
            Files.write(bundle.resolve("config.json"), (Json.pretty(config) + "\n").getBytes(StandardCharsets.UTF_8));
            done = true;
            return new Prepared(name, bundle, layers, upper, work, tmpfs);
        } catch (IOException e) {
            throw new ImageException("container " + name + ": cannot prepare " + bundle + ": " + Layout.message(e), e);
        } finally {
            if (!done) Unpacker.removeTree(bundle);
        }
    }

    /**
     * Removes the container's bundle with its writable layer (upper and work), completely. The
     * container must be gone: its overlay lives in its mount namespace, which ends with it.
     */
    public static void remove(Layout store, String name) throws ImageException {
        remove(bundle(store, name));
    }

    /** Removes a bundle {@link #prepare} made, writable layer included. */
    public static void remove(Path bundle) throws ImageException {
        String name = bundle.getFileName().toString();
        if (!Files.exists(bundle, LinkOption.NOFOLLOW_LINKS)) throw new ImageException("container " + name + ": no such bundle " + bundle);
        Path rootfs = bundle.resolve("rootfs");
        if (!Files.isRegularFile(bundle.resolve("config.json"), LinkOption.NOFOLLOW_LINKS) || !Files.isDirectory(rootfs, LinkOption.NOFOLLOW_LINKS)) {
            throw new ImageException("container " + name + ": " + bundle + " is not a container bundle (no config.json and rootfs/): not removed");
        }
        try (var s = Files.list(rootfs)) {
            // The mount point is empty unless an overlay is mounted on it here (never by Brig in
            // this namespace): deleting through it would delete the image's files from the view.
            if (s.findAny().isPresent()) throw new ImageException("container " + name + ": " + rootfs + " is not empty (mounted?): not removed");
        } catch (IOException e) {
            throw new ImageException("container " + name + ": " + rootfs + ": " + Layout.message(e), e);
        }
        Unpacker.removeTree(bundle);
        if (Files.exists(bundle, LinkOption.NOFOLLOW_LINKS)) {
            throw new ImageException("container " + name + ": cannot remove all of " + bundle + " (still mounted?)");
        }
    }

    /** Overlayfs cannot be an upper layer (no tmpfile, whiteouts or trusted.* xattrs of its own). */
    static boolean onOverlay(Path dir) throws IOException {
        return Files.getFileStore(dir).type().equals("overlay");
    }

    /**
     * Where the image's /etc/passwd and /etc/group are read to resolve its User: the topmost
     * layer that has an /etc/passwd. One above that deletes it (a whiteout) leaves none (the
     * empty rootfs directory stands for the image).
     */
    private static Path usersRoot(List<Path> layers, Path empty) {
        for (int k = layers.size() - 1; k >= 0; k--) {
            Path p = layers.get(k).resolve("etc/passwd");
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return layers.get(k);
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return empty;
        }
        return empty;
    }
}
