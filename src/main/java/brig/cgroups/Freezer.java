package brig.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Freezing and thawing a container's processes (what {@code pause} and {@code resume} do), on
 * the container's cgroup directories as its state records them. The v1 freezer controller is
 * used where the container has a directory in it (these hybrid hosts); otherwise cgroup v2's
 * cgroup.freeze in its unified directory. One of them is enough: either stops every task of
 * the cgroup and of the cgroups below it.
 *
 * <p>Both only ask the kernel to freeze; the tasks stop at their next return to user space, so
 * both wait, boundedly, until the kernel reports the whole cgroup frozen. A freeze that cannot
 * complete (a task stuck in uninterruptible sleep, say) is undone and reported rather than left
 * half-way, where some tasks would run and others not.
 */
public final class Freezer {
    private Freezer() {}

    /** What the kernel reports; FREEZING only on v1, while some tasks have not stopped yet. */
    public enum State { THAWED, FREEZING, FROZEN }

    /** How long a freeze may take before it is undone: far more than a healthy one takes (~ms). */
    static final long FREEZE_TIMEOUT_MS = 5_000;

    /** Freezes every task of the container; returns once all are frozen. Freezing a frozen one does nothing. */
    public static void freeze(List<Path> containerDirs) throws CgroupException {
        Path dir = dir(containerDirs);
        if (Files.exists(dir.resolve("freezer.state"))) freezeV1(dir.resolve("freezer.state"));
        else freezeV2(dir);
    }

    /** Lets the container's tasks run again; thawing a running one does nothing. */
    public static void thaw(List<Path> containerDirs) throws CgroupException {
        Path dir = dir(containerDirs);
        if (Files.exists(dir.resolve("freezer.state"))) {
            Path file = dir.resolve("freezer.state");
            ContainerCgroup.write(file, "THAWED");
            // v1 thaws synchronously: the read is a check, not a wait.
            if (!read(file).equals("THAWED")) throw new CgroupException("cgroup: thaw " + dir + ": freezer.state stays " + read(file));
        } else {
            ContainerCgroup.write(dir.resolve("cgroup.freeze"), "0");
            await(dir, false);
        }
    }

    /** The container's freezer state now. */
    public static State state(List<Path> containerDirs) throws CgroupException {
        Path dir = dir(containerDirs);
        if (Files.exists(dir.resolve("freezer.state"))) return State.valueOf(read(dir.resolve("freezer.state")));
        return frozenV2(dir) ? State.FROZEN : State.THAWED;
    }

    /**
     * The directory to freeze: the v1 freezer one if there is one, else the unified one. Chosen
     * by the files present, since the state records directories, not hierarchies.
     */
    static Path dir(List<Path> containerDirs) throws CgroupException {
        for (Path d : containerDirs) if (Files.exists(d.resolve("freezer.state"))) return d;
        for (Path d : containerDirs) if (Files.exists(d.resolve("cgroup.freeze"))) return d;
        throw new CgroupException("cgroup: no freezer for " + containerDirs
                + ": neither a v1 freezer.state nor a cgroup v2 cgroup.freeze file (is the container gone?)");
    }

    /**
     * v1: writing FROZEN starts a freeze that may stay FREEZING while a task cannot be stopped
     * yet; each further write of FROZEN makes the kernel try those tasks again. So: write, look,
     * and write again until FROZEN or the time is up.
     */
    private static void freezeV1(Path file) throws CgroupException {
        long deadline = System.nanoTime() + FREEZE_TIMEOUT_MS * 1_000_000;
        for (int round = 0; ; round++) {
            ContainerCgroup.write(file, "FROZEN");
            String s = read(file);
            if (s.equals("FROZEN")) return;
            if (System.nanoTime() > deadline) {
                ContainerCgroup.write(file, "THAWED");
                throw new CgroupException("cgroup: freeze " + file.getParent() + ": freezer.state still " + s + " after "
                        + FREEZE_TIMEOUT_MS + " ms (a task in uninterruptible sleep?); thawed again");
            }
            pause(round);
        }
    }

    /** v2: one write of 1, then cgroup.events says "frozen 1" once every task has stopped. */
    private static void freezeV2(Path dir) throws CgroupException {
        ContainerCgroup.write(dir.resolve("cgroup.freeze"), "1");
        try {
            await(dir, true);
        } catch (CgroupException e) {
            ContainerCgroup.write(dir.resolve("cgroup.freeze"), "0");
            throw new CgroupException(e.getMessage() + "; thawed again");
        }
    }

    /** Polls cgroup.events (a few reads: a freeze takes milliseconds) until "frozen" is as wanted. */
    private static void await(Path dir, boolean frozen) throws CgroupException {
        long deadline = System.nanoTime() + FREEZE_TIMEOUT_MS * 1_000_000;
        for (int round = 0; frozenV2(dir) != frozen; round++) {
            if (System.nanoTime() > deadline) {
                throw new CgroupException("cgroup: " + (frozen ? "freeze " : "thaw ") + dir + ": cgroup.events does not say \"frozen "
                        + (frozen ? 1 : 0) + "\" after " + FREEZE_TIMEOUT_MS + " ms");
            }
            pause(round);
        }
    }

    static boolean frozenV2(Path dir) throws CgroupException {
        return parseFrozen(read(dir.resolve("cgroup.events")), dir);
    }

    /** The "frozen" key of a cgroup.events text. */
    static boolean parseFrozen(String events, Path dir) throws CgroupException {
        for (String line : events.split("\n")) {
            if (line.equals("frozen 1")) return true;
            if (line.equals("frozen 0")) return false;
        }
        throw new CgroupException("cgroup: " + dir.resolve("cgroup.events") + ": no \"frozen\" key (kernel older than 5.2?)");
    }

    private static String read(Path file) throws CgroupException {
        try {
            return Files.readString(file).strip();
        } catch (java.nio.file.NoSuchFileException e) {
            throw new CgroupException("cgroup: read " + file + ": ENOENT: no such file or directory");
        } catch (IOException e) {
            throw new CgroupException("cgroup: read " + file + ": " + e.getMessage());
        }
    }

    /** 1 ms at first, up to 10 ms: a freeze usually completes at once. */
    private static void pause(int round) {
        try {
            Thread.sleep(Math.min(10, 1 + round));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
