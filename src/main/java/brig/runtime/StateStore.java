package brig.runtime;

import brig.json.Json;
import brig.json.JsonException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;

/**
 * The state root (runc's --root): one directory per container holding state.json. Creating
 * the directory (with its first state, see {@link #claim}) is what claims an id.
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

    /**
     * Claims the id with the container's first record, in one step: its directory is made under
     * a temporary name (".ID.START"), the record written into it as creating.json, and then
     * renamed to the id. So an id's directory always holds a record naming the start that made
     * it, and two concurrent creates of one id cannot both win. state.json (which others read
     * as soon as it appears) comes once the container's process exists.
     */
    public void claim(ContainerState s) throws BrigException {
        checkId(s.id());
        Path tmp = pending(s.id(), s.start());
        try {
            Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            Files.createDirectory(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            write(tmp, CREATING, s);
            Files.move(tmp, dir(s.id())); // no replace: fails if the id's directory exists
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            removeDir(tmp);
            throw new BrigException("container with id exists: " + s.id());
        } catch (IOException | BrigException e) {
            removeDir(tmp);
            throw new BrigException("cannot create state directory " + dir(s.id()) + ": " + e.getMessage());
        }
    }

    /** The temporary directory {@link #claim} makes for a start. */
    Path pending(String id, String start) {
        return root.resolve("." + id + "." + start);
    }

    /** Writes state.json atomically (a reader sees the old or the new file, never half). */
    public void write(ContainerState s) throws BrigException {
        write(dir(s.id()), "state.json", s);
    }

    /** The record {@link #claim} writes, until state.json is. */
    private static final String CREATING = "creating.json";

    private static void write(Path dir, String name, ContainerState s) throws BrigException {
        Path file = dir.resolve(name), tmp = dir.resolve("." + name + ".tmp");
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
     * The container's recorded state (state.json, or the first record of a start that has not
     * written it yet), or null when there is none.
     */
    public ContainerState read(String id) throws BrigException {
        checkId(id);
        Path file = stateFile(id);
        try {
            try {
                return ContainerState.fromJson(Json.parseObjectFile(file));
            } catch (NoSuchFileException e) {
                file = dir(id).resolve(CREATING);
                return ContainerState.fromJson(Json.parseObjectFile(file));
            }
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | JsonException | RuntimeException e) {
            throw new BrigException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Removes the container's directory and everything in it. */
    public void remove(String id) {
        removeDir(dir(id));
    }

    static void removeDir(Path d) {
        try (var files = Files.list(d)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(d);
        } catch (IOException ignored) {
            // already gone
        }
    }
}
