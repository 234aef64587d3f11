package brig.runtime;

import brig.json.Json;
import brig.json.JsonException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;

/**
 * The state root (runc's --root): one directory per container holding state.json. Creating
 * the directory is what claims an id, so two concurrent creates of one id cannot both win.
 */
public final class StateStore {
    public static final Path DEFAULT_ROOT = Path.of("/run/brig");
    private static final Pattern ID = Pattern.compile("[\\w+\\-.]+");

    private final Path root;

    public StateStore(Path root) {
        this.root = root;
    }

    public Path root() { return root; }

    public static void checkId(String id) throws BrigException {
        if (id == null || id.isEmpty()) throw new BrigException("container id cannot be empty");
        if (!ID.matcher(id).matches() || id.equals(".") || id.equals("..")) {
            throw new BrigException("invalid id format: " + id);
        }
    }

    public Path dir(String id) {
        return root.resolve(id);
    }

    public Path stateFile(String id) {
        return dir(id).resolve("state.json");
    }

    /** Claims the id: makes its directory, or fails if a container has it. */
    public Path claim(String id) throws BrigException {
        checkId(id);
        try {
            Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            return Files.createDirectory(dir(id), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        } catch (FileAlreadyExistsException e) {
            throw new BrigException("container with id exists: " + id);
        } catch (IOException e) {
            throw new BrigException("cannot create state directory " + dir(id) + ": " + e.getMessage());
        }
    }

    /** Writes state.json atomically (a reader sees the old or the new file, never half). */
    public void write(ContainerState s) throws BrigException {
        Path file = stateFile(s.id()), tmp = dir(s.id()).resolve(".state.json.tmp");
        try {
            Files.writeString(tmp, Json.compact(s.toJson()));
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new BrigException("cannot write " + file + ": " + e.getMessage());
        }
    }

    /**
     * The container's recorded state, or null when there is none: no such container, or one
     * whose start has not recorded anything yet (or died before it did).
     */
    public ContainerState read(String id) throws BrigException {
        checkId(id);
        Path file = stateFile(id);
        try {
            return ContainerState.fromJson(Json.parseObjectFile(file));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | JsonException | RuntimeException e) {
            throw new BrigException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Removes the container's directory and everything in it. */
    public void remove(String id) {
        Path d = dir(id);
        try (var files = Files.list(d)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(d);
        } catch (IOException ignored) {
            // already gone
        }
    }
}
