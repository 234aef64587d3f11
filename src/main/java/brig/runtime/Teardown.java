package brig.runtime;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a container handed to the run's supervisor (brig-helper launch) is removed once it has
 * exited: by the supervisor itself, executing these steps, or, when {@link #javaOnly} says why
 * not, by Java's delete ({@link Runtime#delete}, the one home of teardown) as before. The
 * supervisor falls back to that delete on any surprise too (a cgroup still busy, the lock held,
 * the directory replaced), so the steps are only the common case: the container's cgroups
 * (each must go), the parents made for it (if empty), its state directory, under its lock.
 *
 * <p>Why: the delete was a second cold JVM after a cold run (~70 ms of ~200 ms) and a round
 * trip to the server after a warm one (~1.3 ms of ~9 ms; docs/notes/2026-12-01-issue-10-teardown.md).
 *
 * @param stateDir the container's state directory (StateStore.dir), locked as StateStore.lock does
 * @param dev the directory's device when planned (0 in a plan for `--explain`, made before it exists)
 * @param ino its inode: the supervisor removes nothing unless the directory is still this one
 *     (an id may be deleted and reused meanwhile), read when the start claimed it
 * @param start the start's token (ContainerState.start): nor unless its state.json names it
 *     (an inode number may be reused too)
 * @param cgroups the container's cgroup directories: each rmdir must succeed (or find it gone)
 * @param parents the cgroup directories made for it (ContainerState.madeCgroups), parents
 *     first; removed deepest first when empty, failures ignored (another container may use them)
 * @param javaOnly why only Java's delete can remove this container, or null
 * @param marks empty files made once it is gone (a `brig container` bundle's "exited" mark)
 */
public record Teardown(Path stateDir, long dev, long ino, String start, List<Path> cgroups, List<Path> parents, String javaOnly,
                       List<Path> marks) {

    public Teardown {
        cgroups = List.copyOf(cgroups);
        parents = List.copyOf(parents);
        marks = List.copyOf(marks);
    }

    /** This, then the empty file {@code mark} made (as `brig container cleanup` makes it after the delete). */
    public Teardown marking(Path mark) {
        List<Path> m = new ArrayList<>(marks);
        m.add(mark);
        return new Teardown(stateDir, dev, ino, start, cgroups, parents, javaOnly, m);
    }

    /**
     * Plans it: Java's delete only if the container has poststop hooks (they run in Java,
     * after everything is gone) or shares the caller's mount namespace (its mounts below the
     * rootfs are detached from this side).
     */
    static Teardown plan(Path stateDir, long dev, long ino, String start, List<Path> cgroups, List<Path> made,
                         brig.spec.Spec.Hooks hooks, boolean sharedMounts) {
        String why = !hooks.poststop().isEmpty() ? "poststop hooks run in Java"
                : sharedMounts ? "the mounts below its rootfs are detached from the caller's mount namespace"
                : null;
        return new Teardown(stateDir, dev, ino, start, cgroups, made.stream().filter(m -> !cgroups.contains(m)).toList(), why, List.of());
    }

    /** Whether the supervisor removes the container itself. */
    public boolean bySupervisor() {
        return javaOnly == null;
    }

    /** `--explain`'s line. */
    public String explain() {
        if (!bySupervisor()) return "after the container exits: brig delete --force removes it (" + javaOnly + ")";
        return "after the container exits: the supervisor, holding the lock on " + stateDir + ", removes the cgroup directories "
                + String.join(" ", cgroups.stream().map(Path::toString).toList())
                + ", then those made for it if empty, then " + stateDir
                + String.join("", marks.stream().map(m -> ", then makes " + m).toList())
                + " (if anything is busy, or the directory or its state.json is not this start's: brig delete --force)";
    }

    /**
     * What the supervisor gets (SV_REMOVE in brig-helper.c): u64 dev, u64 ino, the state
     * directory, then one step a string, each NUL-terminated: "T" + text its state.json must
     * hold (this start's token as StateStore writes it), "C" + a cgroup that must go,
     * "P" + a parent that may stay, "S": the state directory's files (state.json last) and the
     * directory, "E" + an empty file to make.
     */
    public byte[] payload() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putLong(dev).putLong(ino).array());
        List<String> steps = new ArrayList<>();
        steps.add(stateDir.toString());
        steps.add("T\"start\":\"" + start + "\"");
        for (Path c : cgroups) steps.add("C" + c);
        for (int k = parents.size() - 1; k >= 0; k--) steps.add("P" + parents.get(k));
        steps.add("S");
        for (Path m : marks) steps.add("E" + m);
        for (String s : steps) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }
}
