package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.helper.Plan;
import brig.helper.Step;
import brig.spec.Capability;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The exec plan and how runc's exec flags change the container's process; no root needed. */
class ExecPlannerTest {
    private static final Spec.Process BASE = new Spec.Process(false, null, new Spec.User(0, 0, null, List.of(1L)),
            List.of("sleep", "1000"), List.of("PATH=/bin", "TERM=xterm"), "/",
            new Spec.Capabilities(List.of(Capability.CAP_KILL), List.of(Capability.CAP_KILL), null, List.of(Capability.CAP_KILL), null),
            List.of(), true, null);

    @Test
    void flagsChangeOnlyWhatTheyName() {
        Spec.Process p = ExecPlanner.process(BASE, new ExecPlanner.Overrides(List.of("sh"), List.of("TERM=dumb", "FOO=1"), "/tmp",
                1000L, null, null, List.of(Capability.CAP_SYS_ADMIN, Capability.CAP_KILL), null, false));
        assertEquals(List.of("sh"), p.args());
        assertEquals(List.of("PATH=/bin", "TERM=dumb", "FOO=1"), p.env(), "a variable given again is replaced");
        assertEquals("/tmp", p.cwd());
        assertEquals(new Spec.User(1000, 0, null, List.of(1L)), p.user(), "the gid and groups stay without :GID");
        assertEquals(List.of(Capability.CAP_KILL, Capability.CAP_SYS_ADMIN), p.capabilities().bounding());
        assertEquals(List.of(Capability.CAP_KILL, Capability.CAP_SYS_ADMIN), p.capabilities().effective());
        assertEquals(List.of(Capability.CAP_KILL, Capability.CAP_SYS_ADMIN), p.capabilities().permitted());
        assertEquals(null, p.capabilities().ambient());
        assertTrue(p.noNewPrivileges());
        Spec.Process same = ExecPlanner.process(BASE, new ExecPlanner.Overrides(List.of(), List.of(), null, null, null, null, List.of(), false, false));
        assertEquals(BASE.args(), same.args());
        assertEquals(BASE.capabilities(), same.capabilities());
        assertEquals(false, same.noNewPrivileges());
    }

    @Test
    void joinsThenForksThenWaitsThenBecomesTheProcess() {
        ExecPlanner.Cgroups cg = new ExecPlanner.Cgroups(List.of(), List.of(Path.of("/sys/fs/cgroup/pids/brig/x")), null);
        List<HostStep> host = ExecPlanner.host(BASE, cg);
        Plan plan = ExecPlanner.plan(BASE, new ExecPlanner.Target(42, 777, List.of(NamespaceType.USER, NamespaceType.PID, NamespaceType.MOUNT),
                null, null), 2, 40, host, cg);
        List<Step> s = plan.steps();
        Step.JoinNamespacesOf join = assertInstanceOf(Step.JoinNamespacesOf.class, s.get(0));
        assertArrayEquals(new long[] {42, 777, NamespaceType.USER.cloneFlag(), NamespaceType.PID.cloneFlag(), NamespaceType.MOUNT.cloneFlag()}, join.ints());
        assertEquals(List.of("user", "pid", "mnt"), join.strings());
        assertInstanceOf(Step.Fork.class, s.get(1));
        assertEquals("wait while brig places the process in the container's cgroups", s.get(2).explain());
        assertEquals(new Step.CloseFds(5), s.get(s.size() - 2));
        assertEquals(new Step.Exec(BASE.args(), BASE.env()), s.get(s.size() - 1));
        assertTrue(s.contains(new Step.Prctl(Step.Prctl.PR_SET_NO_NEW_PRIVS, 1, "set no_new_privs")));
        assertEquals("cannot exec in a stopped container", join.failure("stat", "/proc/PID/stat", 3));
        assertEquals("cannot exec in a stopped container", s.get(1).failure("clone", "", 12));
    }

    @Test
    void theProcessJoinsTheV1CgroupsItselfAndIsForkedIntoTheCgroup2One() {
        Path unified = Path.of("/sys/fs/cgroup/unified/brig/x");
        ExecPlanner.Cgroups cg = new ExecPlanner.Cgroups(List.of("/sys/fs/cgroup/memory/brig/x", "/sys/fs/cgroup/pids/brig/x"),
                List.of(unified), unified);
        List<HostStep> host = ExecPlanner.host(BASE, cg);
        List<Step> s = ExecPlanner.plan(BASE, new ExecPlanner.Target(42, 777, List.of(NamespaceType.PID, NamespaceType.MOUNT), null, null),
                0, 40, host, cg).steps();
        // The host paths opened before the container's mount namespace is joined.
        assertEquals(new Step.OpenCgroup(unified.toString()), s.get(0));
        assertEquals(new Step.OpenCgroupTasks(cg.selfJoined()), s.get(1));
        assertInstanceOf(Step.JoinNamespacesOf.class, s.get(2));
        assertEquals(new Step.Fork(unified.toString(), false), s.get(3));
        assertEquals(new Step.JoinCgroupTasks(cg.selfJoined()), s.get(4));
        assertEquals("wait while brig places the process in the container's cgroup2 directory if the fork could not", s.get(5).explain());
        assertEquals(List.of("place the process in the container's cgroup2 directory if the fork could not create it there: "
                + "write PID to cgroup.procs in " + unified), host.stream().map(HostStep::explain).toList());
    }

    @Test
    void intoAContainersOwnCgroupNamespaceTheForkedProcessGoesAfterTheFork() {
        // The kernel checks CLONE_INTO_CGROUP against the forking process's cgroup namespace.
        Path unified = Path.of("/sys/fs/cgroup/unified/brig/x");
        ExecPlanner.Target t = new ExecPlanner.Target(42, 777, List.of(NamespaceType.CGROUP, NamespaceType.PID), null, null);
        ExecPlanner.Cgroups cg = new ExecPlanner.Cgroups(List.of("/sys/fs/cgroup/memory/brig/x"), List.of(unified), unified);
        List<Step> s = ExecPlanner.plan(BASE, t, 0, 40, ExecPlanner.host(BASE, cg), cg).steps();
        Step.JoinNamespacesOf join = assertInstanceOf(Step.JoinNamespacesOf.class, s.get(2));
        assertEquals(Step.CGROUP_AFTER_FORK, join.flags());
        assertEquals(List.of("cgroup", "pid"), join.strings(), "still opened with the others, through the checked /proc/PID");
        assertTrue(join.explain().endsWith("; the cgroup one only in the forked process"), join.explain());
        assertEquals(new Step.Fork(unified.toString(), true), s.get(3));
        assertTrue(s.get(3).explain().contains(", which then joins the container's cgroup namespace (setns)"), s.get(3).explain());
        // Without a cgroup namespace of the container's: joined as the others, before.
        List<Step> plain = ExecPlanner.plan(BASE, new ExecPlanner.Target(42, 777, List.of(NamespaceType.PID), null, null), 0, 40,
                ExecPlanner.host(BASE, cg), cg).steps();
        assertEquals(0, plain.get(2).flags());
        assertEquals(new Step.Fork(unified.toString(), false), plain.get(3));
    }

    @Test
    void theUserNamespaceIsJoinedFirst() {
        assertEquals(NamespaceType.USER, ExecPlanner.ORDER.get(0));
        assertEquals(List.of(), ExecPlanner.namespacesOf((int) ProcessHandle.current().pid()), "this process's own namespaces need no joining");
    }
}
