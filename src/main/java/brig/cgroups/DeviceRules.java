package brig.cgroups;

import brig.spec.Spec;
import java.util.ArrayList;
import java.util.List;

/**
 * The device access a container gets: the config's rules in order (runc's default config
 * starts by denying everything), then runc's default allow list and every device the config
 * creates. Without these rules a container holding CAP_MKNOD could open the host's disks.
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

    public static List<Spec.DeviceRule> effective(List<Spec.DeviceRule> configured, List<Spec.Device> devices) {
        List<Spec.DeviceRule> all = new ArrayList<>(configured);
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
}
