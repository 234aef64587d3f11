package brig.image;

import brig.layer.Extractor;
import brig.layer.LayerException;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The shared layer store: each layer unpacked once, on its own, into a directory named by its
 * diff id, {@code STORE/layers/sha256/HEX}, with its whiteouts in overlayfs's form
 * ({@link Extractor.Whiteouts#OVERLAY}), to be an overlay lowerdir of every container and
 * image that has it.
 *
 * <p>It lives inside the image store's directory (one {@code --store}, one place to back up or
 * wipe; OCI tools ignore directories a layout does not name). {@code layers/} is 0700: layers
 * hold the images' setuid programs and device nodes, as a bundle does.
 *
 * <p>Concurrency and crashes: a layer is unpacked into {@code layers/tmp/HEX.PID.N} and moved
 * to its name with renameat2(RENAME_NOREPLACE), so a directory at the final name is always
 * complete and there is only ever one: of two unpacks of one layer at once, the second to
 * finish finds the name taken and removes its own copy. An unpack killed half-way leaves only
 * a temp directory, which looks like nothing; the next unpack removes those whose process is
 * gone.
 */
public final class LayerStore {
    private final Path dir;

    private LayerStore(Path dir) {
        this.dir = dir;
    }

    /** The layer store of an image store. */
    public static LayerStore of(Layout store) {
        return new LayerStore(store.dir().resolve("layers"));
    }

    public Path dir() { return dir; }

    /** Where the layer with this diff id is (or would be) unpacked. */
    public Path path(Digest diffId) {
        return dir.resolve(diffId.algorithm()).resolve(diffId.hex());
    }

    /** Whether the layer is unpacked (a directory at its name is complete). */
    public boolean has(Digest diffId) {
        return Files.isDirectory(path(diffId), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The image's layers, unpacked where missing; returns their directories bottom first (the
     * manifest's order). Each is checked against its blob digest and its diff id as it streams
     * (the same checks, caps and confinement as `unpack`); a failed one leaves nothing.
     */
    public List<Path> ensure(Layout layout, Image image) throws ImageException {
        List<Descriptor> layers = image.manifest().layers();
        List<Digest> diffIds = image.config().diffIds();
        if (layers.size() != diffIds.size()) {
            throw new ImageException("image " + image.name() + ": config rootfs.diff_ids has " + diffIds.size() + " entries for "
                    + layers.size() + " layers");
        }
        List<Path> dirs = new ArrayList<>();
        for (int k = 0; k < layers.size(); k++) dirs.add(ensure(layout, layers.get(k), diffIds.get(k)));
        return dirs;
    }

    private static final java.util.concurrent.atomic.AtomicLong SEQ = new java.util.concurrent.atomic.AtomicLong();

    /** One layer, unpacked if missing; returns its directory. */
    public Path ensure(Layout layout, Descriptor layer, Digest diffId) throws ImageException {
        Path target = path(diffId);
        if (has(diffId)) return target;
        if (Libc.geteuid() != 0) {
            throw new ImageException("layer " + layer.digest() + ": the layer store needs root (whiteouts are device nodes and trusted.* xattrs)");
        }
        Path tmpRoot = dir.resolve("tmp");
        Path tmp;
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir.getParent());
                try {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (java.nio.file.FileAlreadyExistsException raced) {
                    // another unpack made it
                }
            }
            Files.createDirectories(target.getParent());
            // On overlayfs a 0/0 device or trusted.overlay.opaque is that overlay's own
            // whiteout: the layer would lose its whiteouts (measured in the v2 guest's root).
            if (ContainerBundles.onOverlay(dir)) {
                throw new ImageException("layer store " + dir + " is on overlayfs, which takes the layers' whiteouts for its own:"
                        + " put the image store (--store) on another file system (a disk or a tmpfs)");
            }
            Files.createDirectories(tmpRoot);
            removeStale(tmpRoot);
            tmp = tmpRoot.resolve(diffId.hex() + "." + ProcessHandle.current().pid() + "." + SEQ.incrementAndGet());
            Files.createDirectory(tmp);
        } catch (IOException e) {
            throw new ImageException("layer store " + dir + ": " + Layout.message(e), e);
        }
        boolean moved = false;
        Unpacker.LayerStream ls = new Unpacker.LayerStream(layout, layer, diffId, null);
        try {
            ls.direct(); // one layer: decompressed on this thread, no read-ahead pool
            try (Extractor x = new Extractor(tmp, true, Extractor.Whiteouts.OVERLAY)) {
                x.apply(ls, ls.label);
                ls.drain();
            } catch (LayerException | IOException e) {
                throw ls.failure(e);
            }
            moved = Libc.renameNoReplace(tmp.toString(), target.toString());
            return target; // moved, or another unpack of the same layer won: its directory is as good
        } catch (SyscallException e) {
            throw new ImageException("layer " + layer.digest() + ": " + e.getMessage(), e);
        } finally {
            ls.cancel();
            if (!moved) Unpacker.removeTree(tmp);
        }
    }

    /** Removes temp directories of unpacks whose process is gone (killed half-way). */
    private static void removeStale(Path tmpRoot) throws IOException {
        try (DirectoryStream<Path> d = Files.newDirectoryStream(tmpRoot)) {
            for (Path p : d) {
                String[] parts = p.getFileName().toString().split("\\.");
                if (parts.length != 3) continue;
                long pid;
                try {
                    pid = Long.parseLong(parts[1]);
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) Unpacker.removeTree(p);
            }
        }
    }

    /** Removes one layer's directory (no container or image may be using it). */
    public void remove(Digest diffId) throws ImageException {
        Path p = path(diffId);
        if (!has(diffId)) return;
        // Renamed away first, so a half-removed layer never sits at its name.
        Path gone = dir.resolve("tmp").resolve(diffId.hex() + "." + ProcessHandle.current().pid() + "." + SEQ.incrementAndGet());
        try {
            Files.createDirectories(gone.getParent());
            Files.move(p, gone, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new ImageException("layer store: cannot remove " + p + ": " + Layout.message(e), e);
        }
        Unpacker.removeTree(gone);
    }
}
