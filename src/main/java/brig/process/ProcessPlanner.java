package brig.process;

import brig.helper.Step;
import brig.spec.Capability;
import brig.spec.Spec;
import java.util.ArrayList;
import java.util.List;

/**
 * Plans the container process itself once its filesystem is in place: resource limits, the
 * user and groups it runs as, its capabilities, no_new_privs, working directory, environment
 * and the program. The order matters: limits and the bounding set while still privileged,
 * identity with keep-caps, then the final capability sets.
 */
public final class ProcessPlanner {
    private ProcessPlanner() {}

    /**
     * What a config without process.capabilities gets: no capability in any set, the bounding
     * set included, as runc does (a program set-user-ID root then gains none either).
     */
    public static final Spec.Capabilities NO_CAPABILITIES = new Spec.Capabilities(List.of(), List.of(), List.of(),
            List.of(), List.of());

    /** Used when the config's environment has no PATH. */
    public static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** Limits, terminal and umask: before the identity changes. */
    public static List<Step> setup(Spec.Process p) {
        List<Step> steps = new ArrayList<>();
        for (Spec.Rlimit r : p.rlimits()) steps.add(new Step.Rlimit(r.type(), r.soft(), r.hard()));
        if (p.terminal()) steps.add(new Step.AttachTerminal());
        steps.add(new Step.Umask(p.user().umask() != null ? p.user().umask() : 0022));
        return steps;
    }

    /**
     * Identity, capabilities and working directory.
     *
     * @param lastCap the host's highest capability number (/proc/sys/kernel/cap_last_cap)
     * @param setgroups whether setgroups(2) is allowed (not in a user namespace with setgroups denied)
     */
    public static List<Step> identity(Spec.Process p, int lastCap, boolean setgroups) {
        List<Step> steps = new ArrayList<>();
        Spec.Capabilities caps = p.capabilities() != null ? p.capabilities() : NO_CAPABILITIES;
        long uid = p.user().uid();
        steps.add(new Step.BoundingSet(Capability.mask(caps.bounding()), lastCap));
        // Before the user changes, while root can still enter any directory.
        steps.add(new Step.Chdir(p.cwd(), Step.DEFER));
        if (uid != 0) steps.add(new Step.Prctl(Step.Prctl.PR_SET_KEEPCAPS, 1, "keep capabilities across the change of user"));
        if (setgroups) steps.add(new Step.SetGroups(p.user().additionalGids()));
        steps.add(new Step.SetGid(p.user().gid()));
        steps.add(new Step.SetUid(uid));
        if (uid != 0) steps.add(new Step.Prctl(Step.Prctl.PR_SET_KEEPCAPS, 0, "stop keeping capabilities across changes of user"));
        long permitted = Capability.mask(caps.permitted()), inheritable = Capability.mask(caps.inheritable());
        // The kernel raises an ambient capability only if it is also permitted and
        // inheritable; runc drops the others without a word (its own default spec lists
        // ambient capabilities but no inheritable ones), and so does Brig.
        long ambient = Capability.mask(caps.ambient()) & permitted & inheritable;
        steps.add(new Step.SetCapabilities(Capability.mask(caps.effective()), permitted, inheritable, ambient));
        steps.add(new Step.Chdir(p.cwd(), Step.IF_DEFERRED));
        if (p.noNewPrivileges()) steps.add(new Step.Prctl(Step.Prctl.PR_SET_NO_NEW_PRIVS, 1, "set no_new_privs"));
        return steps;
    }

    /**
     * Everything of the process from its limits to just before execve, for a container's first
     * process and for `exec` alike: {@link #setup}, {@link #identity}, the program lookup, the
     * fds from {@code 3 + keepFds} up marked close-on-exec, and the seccomp filter where runc
     * loads it. With no_new_privs as late as possible, after everything else; without it
     * seccomp(2) needs CAP_SYS_ADMIN, so before the bounding set, user and capabilities change,
     * and the steps after it run under the filter. The one place that decides this.
     *
     * @param seccomp linux.seccomp, or null
     * @param env the program's environment (where it is looked for: its PATH)
     */
    public static List<Step> run(Spec.Process p, brig.seccomp.Profile seccomp, int lastCap, List<String> env, int keepFds) {
        List<Step> steps = new ArrayList<>(setup(p));
        List<Step> filter = seccompSteps(seccomp, p.noNewPrivileges());
        if (!p.noNewPrivileges()) steps.addAll(filter);
        steps.addAll(identity(p, lastCap, true));
        String program = p.args().get(0);
        steps.add(new Step.FindExecutable(program, candidates(program, env)));
        steps.add(new Step.CloseFds(3 + keepFds));
        if (p.noNewPrivileges()) steps.addAll(filter);
        return steps;
    }

    /**
     * The step installing the profile's filter, or null without a profile. Where it goes:
     * {@link #run}.
     */
    public static Step seccomp(brig.seccomp.Profile profile, boolean noNewPrivileges) {
        if (profile == null) return null;
        try {
            return new Step.Seccomp(brig.seccomp.Compiler.compile(profile), noNewPrivileges);
        } catch (brig.seccomp.Compiler.CompileException e) {
            // SpecReader compiled this very profile when it read the config.
            throw new IllegalStateException("linux.seccomp: " + e.getMessage(), e);
        }
    }

    /**
     * {@link #seccomp}'s step, and with a notify agent the wait while Brig sends it the
     * listener (brig.seccomp.Agent): the process goes on only once the agent has it, so a
     * failed hand-over fails the container before its program runs (runc: procSeccompDone).
     * Empty without a profile.
     */
    public static List<Step> seccompSteps(brig.seccomp.Profile profile, boolean noNewPrivileges) {
        Step s = seccomp(profile, noNewPrivileges);
        if (s == null) return List.of();
        if (!profile.notifies()) return List.of(s);
        return List.of(s, new Step.Await("sends the seccomp notify listener to the agent at " + profile.listenerPath()
                + " with the container process state"
                + (profile.listenerMetadata() == null ? "" : " and metadata \"" + profile.listenerMetadata() + "\"")));
    }

    /**
     * HOME, when the config's environment has none: looked up by the helper once the
     * container's mounts are in place, in the /etc/passwd the container sees (runc's order;
     * an engine may bind its own there). Never read on the host, where the image's file could
     * be a FIFO or a device. Empty when the environment has HOME.
     */
    public static List<Step> home(Spec.Process p) {
        if (p.env().stream().anyMatch(e -> e.startsWith("HOME="))) return List.of();
        return List.of(new Step.LookupHome(p.user().uid()));
    }

    /** Where the program is looked for, as execvp would with the container's PATH. */
    public static List<String> candidates(String program, List<String> env) {
        if (program.contains("/")) return List.of(program);
        String path = DEFAULT_PATH;
        for (String e : env) if (e.startsWith("PATH=")) path = e.substring(5);
        List<String> out = new ArrayList<>();
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            out.add(dir.endsWith("/") ? dir + program : dir + "/" + program);
        }
        return out;
    }
}
