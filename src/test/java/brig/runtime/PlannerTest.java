package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.MountFlags;
import brig.helper.Plan;
import brig.helper.Step;
import brig.json.Json;
import brig.rootfs.RootfsException;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The plan is a value: its order and content are checked here without root. */
class PlannerTest {

    static Plan plan(Consumer<JsonObject> edit, Planner.Mode mode) throws Exception {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("process").addProperty("terminal", false);
        edit.accept(c);
        Spec spec = SpecReader.parse(c);
        Path fifo = Path.of("/run/brig/x/exec.fifo");
        brig.cgroups.ContainerCgroup cg = brig.cgroups.ContainerCgroup.resolve(
                List.of(new brig.cgroups.Hierarchy("memory", Path.of("/sys/fs/cgroup/memory"), "/")), "/brig/x");
        return Planner.plan(spec, new Planner.Context(Path.of("/b"), Path.of("/b/rootfs"), mode, false, 0,
                fifo, cg, 40),
                Planner.host(spec, cg, brig.cgroups.ResourcePlan.NONE, false, mode == Planner.Mode.CREATE ? fifo : null));
    }

    static Plan plan(Consumer<JsonObject> edit) throws Exception {
        return plan(edit, Planner.Mode.RUN);
    }

    static int index(Plan p, Class<? extends Step> type) {
        for (int k = 0; k < p.steps().size(); k++) if (type.isInstance(p.steps().get(k))) return k;
        return -1;
    }

    @Test
    void propagationIsCutBeforeAnyMount() throws Exception {
        Plan p = plan(c -> {});
        Step.Mount first = p.find(Step.Mount.class);
        assertEquals("/", first.target());
        assertEquals(MountFlags.MS_SLAVE | MountFlags.MS_REC, first.mountFlags());
        assertEquals(Step.TGT_HOST, first.how());
    }

    @Test
    void ordersTheKernelWork() throws Exception {
        Plan p = plan(c -> {});
        // The process joins its v1 cgroups itself right after the clone; with no user or
        // cgroup namespace and no hooks, the wait for Brig's steps after the clone comes after
        // the whole root is set up, before the program's identity and limits.
        List<Class<? extends Step>> order = List.of(Step.OpenCgroupTasks.class, Step.Clone.class, Step.JoinCgroupTasks.class,
                Step.SetHostname.class, Step.Mount.class, Step.EnterRoot.class, Step.MakeNode.class, Step.PivotRoot.class,
                Step.Mask.class, Step.Await.class, Step.Rlimit.class, Step.BoundingSet.class, Step.SetUid.class, Step.SetCapabilities.class,
                Step.FindExecutable.class, Step.CloseFds.class, Step.Exec.class);
        int last = -1;
        for (Class<? extends Step> t : order) {
            int at = index(p, t);
            assertTrue(at > last, t.getSimpleName() + " at " + at + " should come after " + last + "\n" + p.explain());
            last = at;
        }
        assertInstanceOf(Step.Exec.class, p.steps().get(p.steps().size() - 1));
    }

    @Test
    void cloneMakesTheNewNamespacesButTheCgroupOneComesAfterThePlacement() throws Exception {
        Plan p = plan(c -> c.getAsJsonObject("linux").getAsJsonArray("namespaces").add(Json.parseQuietly("{\"type\":\"cgroup\"}")));
        Step.Clone clone = p.find(Step.Clone.class);
        assertEquals(List.of(NamespaceType.PID, NamespaceType.NETWORK, NamespaceType.IPC, NamespaceType.UTS, NamespaceType.MOUNT), clone.create());
        assertTrue(index(p, Step.Unshare.class) > index(p, Step.Await.class));
        assertEquals(List.of(NamespaceType.CGROUP), p.find(Step.Unshare.class).create());
    }

    @Test
    void joinsNamespacesByPathWithTheUserNamespaceLast() throws Exception {
        Plan p = plan(c -> {
            var ns = c.getAsJsonObject("linux").getAsJsonArray("namespaces");
            ns.set(1, Json.parseQuietly("{\"type\":\"network\",\"path\":\"/run/netns/a\"}"));
            ns.add(Json.parseQuietly("{\"type\":\"user\",\"path\":\"/proc/1/ns/user\"}"));
            ns.set(2, Json.parseQuietly("{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc\"}"));
        });
        List<Step.JoinNamespace> joins = p.all(Step.JoinNamespace.class);
        assertEquals(List.of(NamespaceType.NETWORK, NamespaceType.IPC, NamespaceType.USER), joins.stream().map(Step.JoinNamespace::type).toList());
        assertTrue(index(p, Step.JoinNamespace.class) < index(p, Step.Clone.class));
        assertFalse(p.find(Step.Clone.class).create().contains(NamespaceType.NETWORK));
    }

    @Test
    void sysctlsAreWrittenBeforeProcSysTurnsReadOnly() throws Exception {
        Plan p = plan(c -> c.getAsJsonObject("linux").add("sysctl", Json.parseQuietly("{\"net.ipv4.ip_forward\":\"1\"}")));
        int sysctl = index(p, Step.Sysctl.class);
        assertTrue(sysctl > index(p, Step.PivotRoot.class));
        int procSysRo = -1;
        for (int k = 0; k < p.steps().size(); k++) {
            if (p.steps().get(k) instanceof Step.Mount m && m.target().equals("/proc/sys")) procSysRo = k;
        }
        assertTrue(sysctl < procSysRo, p.explain());
        assertEquals(List.of("net/ipv4/ip_forward", "1"), p.find(Step.Sysctl.class).strings());
    }

    @Test
    void bindSourcesAreResolvedAgainstTheBundle() throws Exception {
        Plan p = plan(c -> c.getAsJsonArray("mounts").add(Json.parseQuietly(
                "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/tmp\",\"options\":[\"rbind\",\"ro\"]}")));
        List<Step.Mount> binds = p.all(Step.Mount.class).stream().filter(m -> m.target().equals("/data")).toList();
        // One step: the flags are applied before the bind is attached, not by a later remount.
        assertEquals(1, binds.size());
        assertEquals("/tmp", binds.get(0).source());
        assertEquals(MountFlags.MS_BIND | MountFlags.MS_REC | MountFlags.MS_RDONLY, binds.get(0).mountFlags());
        assertEquals(Step.SRC_HOST, binds.get(0).how());
    }

    @Test
    void refusesMountsThatWouldHideProc() {
        RootfsException e = assertThrows(RootfsException.class, () -> plan(c -> c.getAsJsonArray("mounts").add(Json.parseQuietly(
                "{\"destination\":\"/proc\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}"))));
        assertEquals("mounts[7].destination: only a proc filesystem may be mounted on /proc", e.getMessage());
        assertThrows(RootfsException.class, () -> plan(c -> c.getAsJsonArray("mounts").add(Json.parseQuietly(
                "{\"destination\":\"/proc/sys/kernel\",\"type\":\"bind\",\"source\":\"/tmp\"}"))));
    }

    @Test
    void createModeWaitsForStartAfterEverythingButExec() throws Exception {
        Plan p = plan(c -> {}, Planner.Mode.CREATE);
        int n = p.steps().size();
        assertInstanceOf(Step.Ready.class, p.steps().get(n - 3));
        assertInstanceOf(Step.WaitStart.class, p.steps().get(n - 2));
        assertTrue(index(p, Step.OpenExecFifo.class) < index(p, Step.PivotRoot.class));
    }

    @Test
    void programIsLookedUpInTheContainersPath() throws Exception {
        Plan p = plan(c -> {});
        assertEquals(List.of("/usr/local/sbin/sh", "/usr/local/bin/sh", "/usr/sbin/sh", "/usr/bin/sh", "/sbin/sh", "/bin/sh"),
                p.find(Step.FindExecutable.class).candidates());
        assertTrue(p.find(Step.Exec.class).env().stream().noneMatch(e -> e.startsWith("HOME=")));
    }

    @Test
    void homeIsLookedUpInTheContainerAfterEveryMountAndOnlyWhenMissing() throws Exception {
        Plan p = plan(c -> {});
        int home = index(p, Step.LookupHome.class);
        assertTrue(home > index(p, Step.PivotRoot.class), p.explain());
        for (int k = home + 1; k < p.steps().size(); k++) {
            Step s = p.steps().get(k);
            assertFalse(s instanceof Step.Mount || s instanceof Step.Mask, "mount after the lookup: " + s.explain());
        }
        assertTrue(home < index(p, Step.SetUid.class), "looked up as root, before the change of user");
        assertEquals(0, p.find(Step.LookupHome.class).uid());
        Plan given = plan(c -> c.getAsJsonObject("process").getAsJsonArray("env").add("HOME=/srv"));
        assertEquals(-1, index(given, Step.LookupHome.class));
        assertTrue(given.find(Step.Exec.class).env().contains("HOME=/srv"));
    }

    @Test
    void absentCapabilitiesMeanEmptySetsBoundingIncluded() throws Exception {
        Plan p = plan(c -> c.getAsJsonObject("process").remove("capabilities"));
        Step.BoundingSet bounding = p.find(Step.BoundingSet.class);
        assertEquals(0, bounding.keep());
        assertTrue(bounding.explain().startsWith("drop 41 capabilities from the bounding set: CAP_CHOWN "), bounding.explain());
        Step.SetCapabilities caps = p.find(Step.SetCapabilities.class);
        assertEquals(new Step.SetCapabilities(0, 0, 0, 0), caps);
        assertTrue(p.explain().contains("set capabilities: effective none; permitted none; inheritable none; ambient none"));
        assertTrue(index(p, Step.BoundingSet.class) < index(p, Step.SetUid.class));
    }

    @Test
    void initLeadsItsOwnSessionWithOrWithoutATerminal() throws Exception {
        assertTrue(plan(c -> {}).find(Step.Clone.class).explain().endsWith("in a session and process group of its own (setsid)"));
        Plan tty = plan(c -> c.getAsJsonObject("process").addProperty("terminal", true));
        assertEquals("make the terminal the controlling tty and stdin/stdout/stderr", tty.find(Step.AttachTerminal.class).explain());
    }

    @Test
    void userNamespaceBindsDevicesInsteadOfMknod() throws Exception {
        Plan p = plan(c -> {
            c.getAsJsonObject("linux").getAsJsonArray("namespaces").add(Json.parseQuietly("{\"type\":\"user\"}"));
            c.getAsJsonObject("linux").add("uidMappings", Json.parseQuietly("[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"));
            c.getAsJsonObject("linux").add("gidMappings", Json.parseQuietly("[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"));
        });
        assertEquals(-1, index(p, Step.MakeNode.class));
        assertTrue(p.all(Step.Mount.class).stream().anyMatch(m -> m.source().equals("/dev/null") && m.target().equals("/dev/null")));
        assertTrue(p.find(Step.Await.class).explain().contains("uid and gid maps"));
        // The ids the process takes exist only once the maps are written: it waits first
        // (after joining its cgroups, by tasks files Brig opened as root).
        assertEquals(index(p, Step.JoinCgroupTasks.class) + 1, index(p, Step.Await.class), p.explain());
    }

    @Test
    void withHooksTheProcessWaitsRightAfterTheClone() throws Exception {
        Plan p = plan(c -> c.add("hooks", Json.parseQuietly("{\"createContainer\":[{\"path\":\"/bin/true\"}]}")));
        assertEquals(index(p, Step.JoinCgroupTasks.class) + 1, index(p, Step.Await.class), p.explain());
    }

    @Test
    void aRefusedJoinNamesTheTasksFileAndTheErrno() throws Exception {
        Step.JoinCgroupTasks join = plan(c -> {}).find(Step.JoinCgroupTasks.class);
        assertEquals("join the v1 cgroups itself: write 0 to tasks in /sys/fs/cgroup/memory/brig/x: "
                + "write /sys/fs/cgroup/memory/brig/x/tasks: ENOSPC: no space left on device",
                join.failure("write", "/sys/fs/cgroup/memory/brig/x", 28));
    }

    @Test
    void explainIsOneNumberedLinePerStep() throws Exception {
        Plan p = plan(c -> {});
        String[] lines = p.explain().split("\n");
        assertEquals(p.steps().size(), lines.length);
        assertTrue(lines[1].trim().startsWith("2. clone the container's first process in new pid, network, ipc, uts, mount namespaces"), lines[1]);
    }
}
