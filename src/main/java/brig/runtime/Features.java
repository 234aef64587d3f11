package brig.runtime;

import brig.rootfs.MountOptions;
import brig.spec.Capability;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import brig.spec.SpecReader;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * What this runtime supports, as the runtime-spec's features document (features.md and
 * features-linux.md of the version it names as ociVersionMax, whose properties only it may
 * hold). Engines read it to decide what they may ask for, so every entry is what Brig really
 * does: the lists come from the tables the spec reader and the planners use (namespaces,
 * capabilities, mount options, hooks), and a feature the reader refuses is "enabled": false.
 * FeaturesTest holds each list and flag against what the reader accepts.
 */
public final class Features {
    private Features() {}

    /** @param version Brig's own version, for the annotations */
    public static JsonObject document(String version) {
        JsonObject f = new JsonObject();
        f.addProperty("ociVersionMin", Spec.VERSION_MIN);
        f.addProperty("ociVersionMax", Spec.VERSION);
        f.add("hooks", strings(SpecReader.knownHooks()));
        f.add("mountOptions", strings(MountOptions.known()));

        JsonObject linux = new JsonObject();
        linux.add("namespaces", strings(Arrays.stream(NamespaceType.values())
                .filter(NamespaceType::supported).map(NamespaceType::specName).toList()));
        linux.add("capabilities", strings(Arrays.stream(Capability.values()).map(Capability::name).toList()));
        JsonObject cgroup = new JsonObject();
        cgroup.addProperty("v1", true);
        cgroup.addProperty("v2", true);
        // No systemd driver: --systemd-cgroup and "slice:prefix:name" cgroupsPaths are refused.
        cgroup.addProperty("systemd", false);
        cgroup.addProperty("systemdUser", false);
        // linux.resources.rdma becomes rdma.max where the host has the controller (V1Resources.rdma).
        cgroup.addProperty("rdma", true);
        linux.add("cgroup", cgroup);
        // From the compiler's own tables (SCMP_ACT_NOTIFY: the listener goes to listenerPath, brig.seccomp.Agent).
        JsonObject seccomp = enabled(true);
        seccomp.add("actions", strings(Arrays.stream(brig.seccomp.Profile.Action.values()).map(Enum::name).toList()));
        seccomp.add("operators", strings(Arrays.stream(brig.seccomp.Profile.Operator.values()).map(Enum::name).toList()));
        seccomp.add("archs", strings(Arrays.stream(brig.seccomp.SyscallTable.values()).map(t -> t.specName).toList()));
        List<String> flags = List.of("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
        seccomp.add("knownFlags", strings(flags.stream().filter(n -> brig.seccomp.Profile.flag(n) != 0).toList()));
        seccomp.add("supportedFlags", strings(flags.stream().filter(n -> brig.seccomp.Profile.flag(n) != 0).toList()));
        linux.add("seccomp", seccomp);
        // Each of these the reader refuses ("... not supported yet").
        linux.add("apparmor", enabled(false));
        linux.add("selinux", enabled(false));
        linux.add("intelRdt", enabled(false));
        JsonObject ext = new JsonObject();
        ext.add("idmap", enabled(false));
        linux.add("mountExtensions", ext);
        f.add("linux", linux);

        JsonObject annotations = new JsonObject();
        annotations.addProperty("brig.version", version);
        f.add("annotations", annotations);
        // Brig gives no annotation of config.json a meaning of its own.
        f.add("potentiallyUnsafeConfigAnnotations", new JsonArray());
        return f;
    }

    private static JsonObject enabled(boolean on) {
        JsonObject o = new JsonObject();
        o.addProperty("enabled", on);
        return o;
    }

    private static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
