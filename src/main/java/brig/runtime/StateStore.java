package brig.runtime;

import brig.cgroups.CgroupException;
import brig.cgroups.Freezer;
import brig.json.Json;
import brig.json.JsonException;
import brig.syscalls.Errno;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The state root (runc's --root): one directory per container holding state.json. Creating
 * the directory (with its first state, see {@link #claim}) is what claims an id. State is
 * read, listed and locked here, and a container's status is computed when it is read (see
 * {@link #status}), never stored.
 *
 * <p>Locks: each command on a container holds flock(2) on the container's directory (see
 * {@link #lock}), so commands on one container serialize and commands on different containers
 * never wait on each other. A lock belongs to its open file description: a thread of this JVM
 * that takes it waits like another process; a command that dies (SIGKILL) drops it, so a lock
 * that can be taken means nobody is working on the container. (Java's FileLock is a fcntl lock
 * of the whole process: other threads pass it, and closing any channel to the file drops it.)
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
    public Lock claim(ContainerState s) throws BrigException {
        checkId(s.id());
        Path tmp = pending(s.id(), s.start());
        int fd = -1;
        try {
            Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            sweepPending(s.id());
            Files.createDirectory(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
            // Locked before it has a name others look up: the id's directory appears locked,
            // and whoever waits for it gets it once this start has finished (or died).
            fd = Libc.open(tmp.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
            Libc.flock(fd, Libc.LOCK_EX, false, tmp.toString());
            write(tmp, CREATING, s);
            // renameat2 NOREPLACE, not Files.move: that checks, then renames, and a rival that
            // named its directory in between made rename(2) fail with ENOTEMPTY (a start of
            // the same id said "cannot create state directory" instead of "exists").
            if (!Libc.renameNoReplace(tmp.toString(), dir(s.id()).toString())) throw new FileAlreadyExistsException(dir(s.id()).toString());
            return new Lock(fd);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            Libc.close(fd);
            removeDir(tmp);
            throw new BrigException("container with id exists: " + s.id());
        } catch (IOException | BrigException | SyscallException e) {
            Libc.close(fd);
            removeDir(tmp);
            throw new BrigException("cannot create state directory " + dir(s.id()) + ": " + e.getMessage());
        }
    }

    /** A held lock on one container's directory; {@link #close} releases it. */
    public static final class Lock implements AutoCloseable {
        private int fd;

        Lock(int fd) {
            this.fd = fd;
        }

        @Override
        public void close() {
            Libc.close(fd);
            fd = -1;
        }
    }

    /** There is no container of that id: runc's words, which engines match. */
    public static final class NotFound extends BrigException {
        private static final long serialVersionUID = 1L;

        NotFound() {
            super("container does not exist");
        }
    }

    public static NotFound notFound() {
        return new NotFound();
    }

    /**
     * Waits until no other command works on the container, and holds it: the lock on its
     * directory. Fails with "container does not exist" when there is no such directory, or when
     * the command that held it removed it (a delete).
     */
    public Lock lock(String id) throws BrigException {
        checkId(id);
        String d = dir(id).toString();
        while (true) {
            int fd;
            try {
                fd = Libc.open(d, Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
            } catch (SyscallException e) {
                if (e.errno() == Errno.ENOENT) throw notFound();
                throw new BrigException("cannot lock container " + id + ": " + e.getMessage());
            }
            try {
                Libc.flock(fd, Libc.LOCK_EX, true, d);
                Libc.Stat held = Libc.statx(fd, "", Libc.AT_EMPTY_PATH), now = Libc.statx(Libc.AT_FDCWD, d, Libc.AT_SYMLINK_NOFOLLOW);
                if (now == null) throw notFound();
                if (held != null && held.ino() == now.ino()) {
                    Lock l = new Lock(fd);
                    fd = -1;
                    return l;
                }
                // Removed and claimed anew while this waited: lock the new one.
            } catch (SyscallException e) {
                throw new BrigException("cannot lock container " + id + ": " + e.getMessage());
            } finally {
                Libc.close(fd);
            }
        }
    }

    /** Start tokens are 16 hex digits (Runtime.start). */
    private static final Pattern START = Pattern.compile("[0-9a-f]{16}");

    /**
     * Removes the temporary directories of starts of this id that died before they claimed it
     * (see {@link #claim}): those whose lock is free. One without its record yet may belong to
     * a start between making it and locking it, so it goes only once it is older than that
     * takes (a few ms; 10 s allowed).
     */
    public void sweepPending(String id) {
        String prefix = "." + id + ".";
        List<Path> found = new ArrayList<>();
        try (var entries = Files.newDirectoryStream(root, e -> e.getFileName().toString().startsWith(prefix))) {
            for (Path e : entries) {
                if (START.matcher(e.getFileName().toString().substring(prefix.length())).matches()) found.add(e);
            }
        } catch (IOException e) {
            return; // no root: nothing pending
        }
        for (Path p : found) {
            int fd = -1;
            try {
                fd = Libc.open(p.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
                if (!Libc.flock(fd, Libc.LOCK_EX, false, p.toString())) continue; // its start is alive
                FileTime made = Files.getLastModifiedTime(p);
                if (Files.exists(p.resolve(CREATING)) || made.toMillis() < System.currentTimeMillis() - 10_000) removeDir(p);
            } catch (IOException | SyscallException e) {
                // gone meanwhile
            } finally {
                Libc.close(fd);
            }
        }
    }

    /** The temporary directory {@link #claim} makes for a start. */
    Path pending(String id, String start) {
        return root.resolve("." + id + "." + start);
    }

    /** Writes state.json atomically (a reader sees the old or the new file, never half). */
    public void write(ContainerState s) throws BrigException {
        write(dir(s.id()), "state.json", s);
        try {
            Files.deleteIfExists(dir(s.id()).resolve(CREATING)); // state.json says all it did
        } catch (IOException e) {
            // read() prefers state.json anyway
        }
    }

    /** The record {@link #claim} writes, until state.json is. */
    private static final String CREATING = "creating.json";

    private static void write(Path dir, String name, ContainerState s) throws BrigException {
        write(dir, name, Json.compact(s.toJson()));
    }

    /** The file {@link #writeCreated} writes. */
    private static final String CREATED = "created.json";

    /**
     * Keeps what the container was created with (its config as read at create), for `exec`:
     * written atomically once, when the container is claimed, before its process exists.
     */
    public void writeCreated(String id, CreatedWith c) throws BrigException {
        write(dir(id), CREATED, Json.compact(c.toJson()));
    }

    /** Where {@link #writeCreated} keeps it (named in errors about the config in it). */
    public Path createdFile(String id) {
        return dir(id).resolve(CREATED);
    }

    /** What {@link #writeCreated} kept, or null when there is none (a container made by an older Brig). */
    public CreatedWith readCreated(String id) throws BrigException {
        checkId(id);
        Path file = createdFile(id);
        try {
            return CreatedWith.fromJson(Json.parseObjectFile(file));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException | JsonException | RuntimeException e) {
            throw new BrigException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /** Writes {@code dir/name} atomically: a reader sees the old or the new file, never half. */
    private static void write(Path dir, String name, String content) throws BrigException {
        Path file = dir.resolve(name), tmp = dir.resolve("." + name + ".tmp");
        try {
            Files.writeString(tmp, content);
            // Swapped in, not renamed over: ext4 (where /run is no tmpfs) starts writing back a
            // file renamed over another, and unlinking it then waits for the disk (0.4-1.7 ms
            // when a run's container was removed, measured here). /run's state need not outlive
            // a crash; a reader still sees the old file or the new one, never half.
            try {
                Libc.renameExchange(tmp.toString(), file.toString());
                Files.delete(tmp);
            } catch (SyscallException e) {
                if (e.errno() != brig.syscalls.Errno.ENOENT && e.errno() != brig.syscalls.Errno.EINVAL) throw new IOException(e.getMessage());
                // the first write (nothing to swap with), or a filesystem without exchange
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException x) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new BrigException("cannot write " + file + ": " + e.getMessage());
        }
    }

    /**
     * The container's state with its status as it is now (see {@link #status}), or null when
     * there is none.
     */
    public ContainerState read(String id) throws BrigException {
        ContainerState s = readRecord(id);
        return s == null ? null : s.withStatus(status(s));
    }

    /**
     * The status, computed from what the system says now: "creating" until the first process
     * exists; "stopped" once it has exited, or when its pid now names another process (its
     * start time differs: a reused pid never shows as running); "created" while the exec fifo
     * `start` opens is there; "paused" while its cgroup is frozen; else "running".
     */
    public String status(ContainerState s) {
        if (s.pid() <= 0) return "creating";
        if (!alive(s.pid(), s.pidStart())) return "stopped";
        if (Files.exists(dir(s.id()).resolve("exec.fifo"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) return "created";
        try {
            if (!s.cgroups().isEmpty() && Freezer.state(s.cgroups()) == Freezer.State.FROZEN) return "paused";
        } catch (CgroupException e) {
            // no freezer for it: it cannot be paused
        }
        return "running";
    }

    /** Whether pid is the process that started at {@code start} (field 22 of /proc/PID/stat) and not a zombie. */
    static boolean alive(int pid, long start) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return !f[0].equals("Z") && !f[0].equals("X") && Long.parseLong(f[19]) == start;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Every container under the root, by id, with its status now; a directory that cannot be
     * read is reported to {@code warn} and left out (as runc's list does).
     */
    public List<ContainerState> list(Consumer<String> warn) {
        List<String> ids = new ArrayList<>();
        try (var entries = Files.newDirectoryStream(root)) {
            for (Path e : entries) {
                String name = e.getFileName().toString();
                if (!name.startsWith(".") && Files.isDirectory(e, java.nio.file.LinkOption.NOFOLLOW_LINKS)) ids.add(name);
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            warn.accept("cannot list " + root + ": " + e.getMessage());
            return List.of();
        }
        ids.sort(null);
        List<ContainerState> out = new ArrayList<>();
        for (String id : ids) {
            try {
                ContainerState s = read(id);
                if (s != null) out.add(s);
            } catch (BrigException e) {
                warn.accept("load container " + id + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** Who owns the container's directory (runc's list shows it), by name where there is one. */
    public String owner(String id) {
        try {
            return Files.getOwner(dir(id), java.nio.file.LinkOption.NOFOLLOW_LINKS).getName();
        } catch (IOException e) {
            return "";
        }
    }

    /** The record on disk (state.json, or the first record of a start that has not written it yet), or null. */
    ContainerState readRecord(String id) throws BrigException {
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
            // A directory in it: notify/ (brig.runtime.Notify), with a socket a start left.
            for (Path f : files.toList()) {
                if (Files.isDirectory(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) removeDir(f);
                else Files.deleteIfExists(f);
            }
            Files.deleteIfExists(d);
        } catch (IOException ignored) {
            // already gone
        }
    }
}
