package brig.rootfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.cgroups.ContainerCgroup;
import brig.cgroups.Hierarchy;
import brig.helper.MountFlags;
import brig.helper.Plan;
import brig.helper.Step;
import brig.json.Json;
import brig.runtime.Planner;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The "cgroup" mount and the first process's cgroup, as planned (no root): fresh mounts in a
 * cgroup namespace of the container's own, binds of its directories otherwise; the clone into
 * its cgroup2 directory.
 */
class CgroupMountPlanTest {
    static final long RO = MountFlags.MS_RDONLY | MountFlags.MS_NOSUID | MountFlags.MS_NODEV | MountFlags.MS_NOEXEC
            | MountFlags.MS_RELATIME;

    /** These machines: v1 hierarchies plus the unified tree at /sys/fs/cgroup/unified. */
    static final ContainerCgroup HYBRID = new ContainerCgroup(List.of(
            dir("cpu,cpuacct", "/sys/fs/cgroup/cpu,cpuacct"),
            dir("memory", "/sys/fs/cgroup/memory"),
            dir("name=systemd", "/sys/fs/cgroup/systemd"),
            dir("", "/sys/fs/cgroup/unified")));

    static final ContainerCgroup PURE_V2 = new ContainerCgroup(List.of(dir("", "/sys/fs/cgroup")));

    static ContainerCgroup.Dir dir(String controllers, String mountPoint) {
        return new ContainerCgroup.Dir(new Hierarchy(controllers, Path.of(mountPoint), "/"), Path.of(mountPoint, "brig", "x"));
    }

    static Plan plan(ContainerCgroup cgroup, Consumer<JsonObject> edit) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("process").addProperty("terminal", false);
        edit.accept(c);
        Spec spec = SpecReader.parse(c);
        return Planner.plan(spec, new Planner.Context(Path.of("/b"), Path.of("/b/rootfs"), Planner.Mode.RUN, false, 0, null,
                cgroup, 40), Planner.host(spec, cgroup, brig.cgroups.ResourcePlan.NONE, false, null));
    }

    static Consumer<JsonObject> cgroupNs(String json) {
        return c -> c.getAsJsonObject("linux").getAsJsonArray("namespaces").add(Json.parseQuietly(json));
    }

    /** The steps of the /sys/fs/cgroup mount, explained. */
    static List<String> cgroupSteps(Plan p) {
        List<String> out = new ArrayList<>();
        for (Step s : p.steps()) {
            String target = s instanceof Step.Mount m ? m.target() : s instanceof Step.MakeDirs d ? d.path()
                    : s instanceof Step.Symlink l ? l.link() : "";
            if (target.startsWith("/sys/fs/cgroup")) out.add(s.explain());
        }
        return out;
    }

    static int index(Plan p, Step step) {
        return p.steps().indexOf(step);
    }

    @Test
    void inItsOwnCgroupNamespaceEveryHierarchyIsMountedAfreshAfterTheUnshare() throws Exception {
        Plan p = plan(HYBRID, cgroupNs("{\"type\":\"cgroup\"}"));
        List<Step.Mount> mounts = p.all(Step.Mount.class).stream().filter(m -> m.target().startsWith("/sys/fs/cgroup/")).toList();
        assertEquals(List.of(
                new Step.Mount("cgroup", "/sys/fs/cgroup/cpu,cpuacct", "cgroup", RO, "cpu,cpuacct", 0),
                new Step.Mount("cgroup", "/sys/fs/cgroup/memory", "cgroup", RO, "memory", 0),
                new Step.Mount("cgroup", "/sys/fs/cgroup/systemd", "cgroup", RO, "name=systemd", 0),
                new Step.Mount("cgroup2", "/sys/fs/cgroup/unified", "cgroup2", RO, "", 0)), mounts);
        // The namespace's root is where the process is when it unshares: after Brig placed it
        // in every hierarchy, before the mounts.
        int unshare = index(p, new Step.Unshare(List.of(brig.spec.NamespaceType.CGROUP)));
        assertTrue(unshare > p.steps().indexOf(p.find(Step.Await.class)), p.explain());
        assertTrue(unshare < index(p, mounts.get(0)), p.explain());
        assertEquals(List.of(
                "create directory /sys/fs/cgroup (mode 755) if missing",
                "mount tmpfs on /sys/fs/cgroup in the container (nosuid,nodev,noexec,relatime,mode=755)",
                "create directory /sys/fs/cgroup/cpu,cpuacct (mode 755) if missing",
                "mount cgroup on /sys/fs/cgroup/cpu,cpuacct in the container (ro,nosuid,nodev,noexec,relatime,cpu,cpuacct)",
                "symlink /sys/fs/cgroup/cpu -> cpu,cpuacct",
                "symlink /sys/fs/cgroup/cpuacct -> cpu,cpuacct",
                "create directory /sys/fs/cgroup/memory (mode 755) if missing",
                "mount cgroup on /sys/fs/cgroup/memory in the container (ro,nosuid,nodev,noexec,relatime,memory)",
                "create directory /sys/fs/cgroup/systemd (mode 755) if missing",
                "mount cgroup on /sys/fs/cgroup/systemd in the container (ro,nosuid,nodev,noexec,relatime,name=systemd)",
                "create directory /sys/fs/cgroup/unified (mode 755) if missing",
                "mount cgroup2 on /sys/fs/cgroup/unified in the container (ro,nosuid,nodev,noexec,relatime)",
                "remount /sys/fs/cgroup in the container with ro,nosuid,nodev,noexec,relatime"), cgroupSteps(p));
    }

    @Test
    void withoutOneTheContainersDirectoriesAreBoundUnifiedIncluded() throws Exception {
        Plan p = plan(HYBRID, c -> {});
        List<Step.Mount> mounts = p.all(Step.Mount.class).stream().filter(m -> m.target().startsWith("/sys/fs/cgroup/")).toList();
        long bind = MountFlags.MS_BIND | RO;
        assertEquals(List.of(
                new Step.Mount("/sys/fs/cgroup/cpu,cpuacct/brig/x", "/sys/fs/cgroup/cpu,cpuacct", "", bind, "", Step.SRC_HOST),
                new Step.Mount("/sys/fs/cgroup/memory/brig/x", "/sys/fs/cgroup/memory", "", bind, "", Step.SRC_HOST),
                new Step.Mount("/sys/fs/cgroup/systemd/brig/x", "/sys/fs/cgroup/systemd", "", bind, "", Step.SRC_HOST),
                new Step.Mount("/sys/fs/cgroup/unified/brig/x", "/sys/fs/cgroup/unified", "", bind, "", Step.SRC_HOST)), mounts);
    }

    @Test
    void aJoinedCgroupNamespaceGetsTheBindsAndAPlainClone() throws Exception {
        // It may be the host's: a fresh cgroup2 mount there would show the whole tree and reset
        // the host's cgroup2 options; and the kernel checks CLONE_INTO_CGROUP against it.
        Plan p = plan(HYBRID, cgroupNs("{\"type\":\"cgroup\",\"path\":\"/proc/1/ns/cgroup\"}"));
        assertTrue(p.all(Step.Mount.class).stream().filter(m -> m.target().startsWith("/sys/fs/cgroup/"))
                .allMatch(m -> (m.mountFlags() & MountFlags.MS_BIND) != 0), p.explain());
        assertEquals(null, p.find(Step.OpenCgroup.class));
        assertEquals("", p.find(Step.Clone.class).cgroup());
        // Nor does the process join its v1 cgroups itself: Brig writes its pid, as for cgroup2.
        assertEquals(null, p.find(Step.OpenCgroupTasks.class));
        assertEquals("wait while brig places the process in its cgroups", p.find(Step.Await.class).explain());
    }

    @Test
    void onAPureV2HostTheMountIsCgroup2OrABindOfTheContainersCgroup() throws Exception {
        Plan own = plan(PURE_V2, cgroupNs("{\"type\":\"cgroup\"}"));
        assertEquals(List.of("create directory /sys/fs/cgroup (mode 755) if missing",
                "mount cgroup2 on /sys/fs/cgroup in the container (ro,nosuid,nodev,noexec,relatime)"), cgroupSteps(own));
        Plan host = plan(PURE_V2, c -> {});
        assertEquals(List.of("create directory /sys/fs/cgroup (mode 755) if missing",
                "bind-mount /sys/fs/cgroup/brig/x on /sys/fs/cgroup in the container (ro,nosuid,nodev,noexec,relatime)"),
                cgroupSteps(host));
        assertEquals("wait while brig places the process in its cgroup if the clone could not", own.find(Step.Await.class).explain());
    }

    @Test
    void theFirstProcessIsClonedIntoItsCgroup2DirectoryOpenedBeforeAnyJoin() throws Exception {
        Plan p = plan(HYBRID, c -> c.getAsJsonObject("linux").getAsJsonArray("namespaces")
                .set(1, Json.parseQuietly("{\"type\":\"network\",\"path\":\"/run/netns/a\"}")));
        // First: a joined mount namespace would make the host path mean something else.
        assertEquals(new Step.OpenCgroup("/sys/fs/cgroup/unified/brig/x"), p.steps().get(0));
        assertInstanceOf(Step.OpenCgroupTasks.class, p.steps().get(1));
        assertInstanceOf(Step.JoinNamespace.class, p.steps().get(2));
        Step.Clone clone = p.find(Step.Clone.class);
        assertEquals("/sys/fs/cgroup/unified/brig/x", clone.cgroup());
        String v1 = "/sys/fs/cgroup/cpu,cpuacct/brig/x, /sys/fs/cgroup/memory/brig/x, /sys/fs/cgroup/systemd/brig/x";
        assertEquals(List.of("1. open the container's cgroup2 directory /sys/fs/cgroup/unified/brig/x for the clone",
                "2. open the tasks files of the container's v1 cgroups " + v1,
                "3. join the network namespace at /run/netns/a (setns)",
                "4. clone the container's first process in new pid, ipc, uts, mount namespaces, directly into cgroup "
                + "/sys/fs/cgroup/unified/brig/x (clone3 with CLONE_INTO_CGROUP; a plain clone where the kernel refuses it, "
                + "and brig moves the process), in a session and process group of its own (setsid)",
                "5. join the v1 cgroups itself: write 0 to tasks in " + v1),
                p.explain().lines().limit(5).map(String::strip).toList(), p.explain());
        assertTrue(p.explain().contains(". wait while brig places the process in its cgroup if the clone could not"), p.explain());
    }

    @Test
    void withoutACgroup2TreeThereIsNoCloneIntoACgroup() throws Exception {
        Plan p = plan(new ContainerCgroup(List.of(dir("memory", "/sys/fs/cgroup/memory"))), c -> {});
        assertEquals(null, p.find(Step.OpenCgroup.class));
        assertEquals("", p.find(Step.Clone.class).cgroup());
    }
}
