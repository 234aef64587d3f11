package brig.cgroups;

import brig.spec.Spec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The device access a container gets: nothing, then the config's rules in order, then runc's
 * default allow list and every device the config creates. Starting from nothing matters: a
 * new cgroup inherits "allow everything" from the root, and a config without device rules
 * (runc's default starts with a deny-all, but nothing requires one) would let a container
 * holding CAP_MKNOD open the host's disks and memory.
 */
public final class DeviceRules {
    private DeviceRules() {}

    private static final List<Spec.DeviceRule> DEFAULT_ALLOW = List.of(
            new Spec.DeviceRule(true, 'c', -1, -1, "m"),     // mknod of any device; opening needs a rule
            new Spec.DeviceRule(true, 'b', -1, -1, "m"),
            new Spec.DeviceRule(true, 'c', 1, 3, "rwm"),     // null
            new Spec.DeviceRule(true, 'c', 1, 5, "rwm"),     // zero
            new Spec.DeviceRule(true, 'c', 1, 7, "rwm"),     // full
            new Spec.DeviceRule(true, 'c', 1, 8, "rwm"),     // random
            new Spec.DeviceRule(true, 'c', 1, 9, "rwm"),     // urandom
            new Spec.DeviceRule(true, 'c', 5, 0, "rwm"),     // tty
            new Spec.DeviceRule(true, 'c', 5, 1, "rwm"),     // console
            new Spec.DeviceRule(true, 'c', 5, 2, "rwm"),     // ptmx
            new Spec.DeviceRule(true, 'c', 136, -1, "rwm")); // pts

    /** What a container starts from, whatever its config says. */
    static final Spec.DeviceRule DENY_ALL = new Spec.DeviceRule(false, 'a', -1, -1, "rwm");

    public static List<Spec.DeviceRule> effective(List<Spec.DeviceRule> configured, List<Spec.Device> devices) {
        List<Spec.DeviceRule> all = new ArrayList<>(List.of(DENY_ALL));
        all.addAll(configured);
        all.addAll(DEFAULT_ALLOW);
        for (Spec.Device d : devices) {
            if (d.type() == 'p') continue;
            all.add(new Spec.DeviceRule(true, d.type() == 'b' ? 'b' : 'c', d.major(), d.minor(), "rwm"));
        }
        return List.copyOf(all);
    }

    /** The rule as a line for devices.allow or devices.deny (cgroup v1). */
    public static String line(Spec.DeviceRule r) {
        return r.type() == 'a' ? "a *:* " + r.access()
                : r.type() + " " + (r.major() < 0 ? "*" : r.major()) + ":" + (r.minor() < 0 ? "*" : r.minor()) + " " + r.access();
    }

    /** One write to a cgroup v1 devices file: "devices.allow" or "devices.deny", and the line. */
    public record Write(String file, String line) {}

    /**
     * The writes that take a v1 devices cgroup to the rules' state (reduced as cgroup v2 does,
     * so both versions give the same access). On a cgroup with processes they never pass
     * through a state more open than the old one or the new one.
     *
     * @param dir the cgroup, for errors
     * @param current what devices.list shows now (in allow-by-default mode v1 lists only
     *     "a *:* rwm", hiding its exceptions)
     * @param populated whether processes may be using the cgroup while it changes
     */
    public static List<Write> v1Writes(Path dir, List<String> current, List<Spec.DeviceRule> rules, boolean populated)
            throws CgroupException {
        DeviceFilter.Rules target = DeviceFilter.reduce(rules);
        List<Write> out = new ArrayList<>();
        boolean currentAllows = current.contains("a *:* rwm");
        if (target.allowByDefault()) {
            if (populated) {
                // v1 has no way to reach allow-by-default but through "a" in devices.allow,
                // which opens every device (the exceptions included) until they are written.
                throw new CgroupException("cgroup: " + dir + ": cannot switch a cgroup with running processes to "
                        + "\"allow all devices\" on cgroup v1 without opening every device for a moment");
            }
            out.add(new Write("devices.allow", "a"));
            for (Spec.DeviceRule e : target.exceptions()) out.add(new Write("devices.deny", line(e)));
            return out;
        }
        if (!populated || currentAllows) {
            // Closed first, then opened rule by rule: a live cgroup may be refused a device for
            // a moment, never given one.
            out.add(new Write("devices.deny", "a"));
            for (Spec.DeviceRule e : target.exceptions()) out.add(new Write("devices.allow", line(e)));
            return out;
        }
        // A live cgroup already denying by default: take away what the new rules lack, then
        // add what they bring.
        List<Spec.DeviceRule> now = new ArrayList<>();
        for (String l : current) if (!l.isBlank()) now.add(parse(l));
        for (Spec.DeviceRule c : now) {
            int keep = target.exceptions().stream().filter(t -> DeviceFilter.sameDevice(t, c))
                    .mapToInt(t -> DeviceFilter.access(t.access())).findFirst().orElse(0);
            int drop = DeviceFilter.access(c.access()) & ~keep;
            if (drop != 0) out.add(new Write("devices.deny", line(withAccess(c, drop))));
        }
        for (Spec.DeviceRule t : target.exceptions()) {
            int had = now.stream().filter(c -> DeviceFilter.sameDevice(t, c))
                    .mapToInt(c -> DeviceFilter.access(c.access())).findFirst().orElse(0);
            int add = DeviceFilter.access(t.access()) & ~had;
            if (add != 0) out.add(new Write("devices.allow", line(withAccess(t, add))));
        }
        return out;
    }

    private static Spec.DeviceRule withAccess(Spec.DeviceRule r, int bits) {
        return new Spec.DeviceRule(r.allow(), r.type(), r.major(), r.minor(), DeviceFilter.access(bits));
    }

    /** A line of devices.list ("c 1:3 rwm", "b 8:* r") as an allow rule. */
    static Spec.DeviceRule parse(String line) {
        String[] f = line.trim().split("[ :]");
        return new Spec.DeviceRule(true, f[0].charAt(0), f[1].equals("*") ? -1 : Long.parseLong(f[1]),
                f[2].equals("*") ? -1 : Long.parseLong(f[2]), f[3]);
    }
}
