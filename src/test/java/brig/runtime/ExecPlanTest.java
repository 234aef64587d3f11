package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Plan;
import brig.helper.Step;
import brig.json.Json;
import brig.spec.Capability;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import brig.spec.SpecReader;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What exec takes from the container as created (seccomp, keyring), --cap's sets, and the join
 * order; no root needed. What the kernel does with it: ExecSettingsIT.
 */
class ExecPlanTest {
    private static final NamespaceType USER = NamespaceType.USER, NET = NamespaceType.NETWORK, PID = NamespaceType.PID,
            IPC = NamespaceType.IPC, MNT = NamespaceType.MOUNT;

    private static Spec.Process process(boolean noNewPrivileges, Spec.Capabilities caps) {
        return new Spec.Process(false, null, new Spec.User(0, 0, null, List.of()), List.of("true"), List.of("PATH=/bin"), "/",
                caps, List.of(), noNewPrivileges, null);
    }

    private static final brig.seccomp.Profile PROFILE = profile();

    private static brig.seccomp.Profile profile() {
        String config = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},\"linux\":{\"seccomp\":" + SeccompPlanTest.PROFILE + "}}";
        try {
            return SpecReader.parse(Json.parseQuietly(config).getAsJsonObject()).linux().seccomp();
        } catch (brig.json.JsonException e) {
            throw new AssertionError(e);
        }
    }

    private static Plan plan(Spec.Process p, List<NamespaceType> join, String keyring) {
        ExecPlanner.Cgroups cg = new ExecPlanner.Cgroups(List.of(), List.of(Path.of("/sys/fs/cgroup/pids/brig/x")), null);
        return ExecPlanner.plan(p, new ExecPlanner.Target(42, 777, join, PROFILE, keyring), 0, 40, ExecPlanner.host(p, cg), cg);
    }

    private static int index(Plan p, Class<? extends Step> type) {
        return PlannerTest.index(p, type);
    }

    @Test
    void theContainersFilterGoesWhereRuncLoadsIt() {
        Plan late = plan(process(true, null), List.of(PID), null);
        assertEquals(late.steps().size() - 2, index(late, Step.Seccomp.class), late.explain());
        assertEquals(index(late, Step.CloseFds.class) + 1, index(late, Step.Seccomp.class));
        Plan early = plan(process(false, null), List.of(PID), null);
        assertEquals(index(early, Step.BoundingSet.class) - 1, index(early, Step.Seccomp.class), early.explain());
        assertTrue(early.explain().contains("while still privileged"), early.explain());
    }

    @Test
    void theContainersKeyringIsJoinedWithTheHostsIdsWhenItHasOne() {
        Plan p = plan(process(true, null), List.of(USER, PID), "_ses.x");
        int keyring = index(p, Step.JoinContainerKeyring.class);
        assertEquals(index(p, Step.Await.class) + 1, keyring, p.explain());
        assertTrue(keyring < index(p, Step.SetUid.class));
        assertEquals(List.of("_ses.x"), p.steps().get(keyring).strings());
        assertEquals(0, p.steps().get(keyring).ints().length, "its permissions are left as they are");
        assertEquals(-1, index(plan(process(true, null), List.of(PID), null), Step.JoinContainerKeyring.class));
    }

    @Test
    void capGoesToAmbientOnlyWithAnInheritableSet() {
        List<Capability> kill = List.of(Capability.CAP_KILL), admin = List.of(Capability.CAP_SYS_ADMIN);
        ExecPlanner.Overrides cap = new ExecPlanner.Overrides(List.of(), List.of(), null, null, null, null, admin, null, false);
        Spec.Capabilities withInheritable = ExecPlanner.process(process(true, new Spec.Capabilities(kill, kill, List.of(), kill, null)), cap)
                .capabilities();
        assertEquals(List.of(Capability.CAP_SYS_ADMIN), withInheritable.ambient());
        assertEquals(List.of(), withInheritable.inheritable(), "never the inheritable set");
        assertEquals(List.of(Capability.CAP_KILL, Capability.CAP_SYS_ADMIN), withInheritable.permitted());
        Spec.Capabilities without = ExecPlanner.process(process(true, new Spec.Capabilities(kill, kill, null, kill, kill)), cap).capabilities();
        assertEquals(kill, without.ambient());
        assertNull(without.inheritable());
        assertEquals(List.of(), ExecPlanner.process(process(true, null), cap).capabilities().ambient(), "no capabilities at all: no inheritable set");
    }

    @Test
    void namespacesTheUserNamespaceDoesNotOwnAreJoinedBeforeIt() {
        assertEquals(List.of(NET, USER, IPC, PID, MNT), ExecPlanner.order(List.of(USER, IPC, NET, PID, MNT), Set.of(NET)));
        assertEquals(List.of(NET, MNT, USER, IPC, PID), ExecPlanner.order(List.of(USER, IPC, NET, PID, MNT), Set.of(NET, MNT)));
        assertEquals(List.of(USER, IPC, NET, PID, MNT), ExecPlanner.order(List.of(USER, IPC, NET, PID, MNT), Set.of()));
        assertEquals(List.of(IPC, NET, MNT), ExecPlanner.order(List.of(IPC, NET, MNT), Set.of(NET)), "no user namespace: as given");
    }

    @Test
    void whatAContainerKeepsReadsBackTheSame() {
        CreatedWith c = new CreatedWith("{\"ociVersion\":\"1.2.0\",\"process\":{\"args\":[\"sh\"]}}", "_ses.x");
        assertEquals(c, CreatedWith.fromJson(c.toJson()));
        CreatedWith none = new CreatedWith("{}", null);
        assertEquals(none, CreatedWith.fromJson(none.toJson()));
    }
}
