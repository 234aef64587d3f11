package brig.spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Rules that span fields, checked before a container is started from a spec: what runc would
 * refuse, with the field named.
 */
public final class SpecValidator {
    private SpecValidator() {}

    private static final List<String> IPC_SYSCTLS = List.of("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
            "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced");

    public static void validateForLaunch(Spec spec, Path file) throws SpecException {
        validateForLaunch(spec, file, false);
    }

    /**
     * @param create for `create`, which accepts a config without "process" (runtime-spec
     *     requires it only at start; `start` then refuses the container); `run` needs it
     */
    public static void validateForLaunch(Spec spec, Path file, boolean create) throws SpecException {
        Spec.Process p = spec.process();
        Spec.Linux l = spec.linux();
        if (p == null && !create) throw new SpecException(file, "process", "process: required to start a container");
        if (p != null && p.args().isEmpty()) throw new SpecException(file, "process.args", "process.args: must not be empty");
        if (!l.has(NamespaceType.MOUNT)) {
            // The container shares the caller's mount namespace and is chrooted, not pivoted:
            // what would change the mount holding the rootfs (the host's) is refused.
            if (spec.root().readonly()) {
                throw new SpecException(file, "root.readonly", "root.readonly: needs a mount namespace of the container's own in linux.namespaces");
            }
            if (!l.rootfsPropagation().isEmpty()) {
                throw new SpecException(file, "linux.rootfsPropagation", "linux.rootfsPropagation: needs a mount namespace of the container's own in linux.namespaces");
            }
        }
        if (l.creates(NamespaceType.USER)) {
            if (l.uidMappings().isEmpty()) throw new SpecException(file, "linux.uidMappings", "linux.uidMappings: required with a new user namespace");
            if (l.gidMappings().isEmpty()) throw new SpecException(file, "linux.gidMappings", "linux.gidMappings: required with a new user namespace");
        } else if (!l.uidMappings().isEmpty() || !l.gidMappings().isEmpty()) {
            String f = l.uidMappings().isEmpty() ? "linux.gidMappings" : "linux.uidMappings";
            throw new SpecException(file, f, f + ": id mappings need a new user namespace in linux.namespaces");
        }
        if (!spec.hostname().isEmpty() && !l.has(NamespaceType.UTS)) {
            throw new SpecException(file, "hostname", "hostname: cannot set the hostname without a private UTS namespace");
        }
        if (!spec.domainname().isEmpty() && !l.has(NamespaceType.UTS)) {
            throw new SpecException(file, "domainname", "domainname: cannot set the domain name without a private UTS namespace");
        }
        for (Map.Entry<String, String> e : l.sysctl().entrySet()) sysctl(file, l, e.getKey());
    }

    /** Only keys that belong to a namespace the container has of its own, as runc allows. */
    private static void sysctl(Path file, Spec.Linux l, String key) throws SpecException {
        String field = "linux.sysctl." + key;
        if (key.isEmpty() || key.contains("/") || key.contains("..") || key.startsWith(".")) {
            throw new SpecException(file, field, field + ": not a sysctl name");
        }
        NamespaceType needed;
        if (IPC_SYSCTLS.contains(key) || key.startsWith("fs.mqueue.")) {
            needed = NamespaceType.IPC;
        } else if (key.startsWith("net.")) {
            needed = NamespaceType.NETWORK;
        } else if (key.equals("kernel.hostname") || key.equals("kernel.domainname")) {
            needed = NamespaceType.UTS;
        } else {
            throw new SpecException(file, field, field + ": not a namespaced sysctl; it would change the host");
        }
        if (!l.has(needed)) {
            throw new SpecException(file, field, field + ": needs a private " + needed.specName()
                    + " namespace, or it would change the host");
        }
        if (needed == NamespaceType.NETWORK) {
            for (Spec.Namespace n : l.namespaces()) {
                if (n.type() == needed && n.path() != null && sameAsHost(n.path(), "net")) {
                    throw new SpecException(file, field, field + ": the network namespace " + n.path() + " is the host's");
                }
            }
        }
    }

    private static boolean sameAsHost(String path, String ns) {
        try {
            Object a = java.nio.file.Files.getAttribute(Path.of(path), "unix:ino");
            Object b = java.nio.file.Files.getAttribute(Path.of("/proc/1/ns/" + ns), "unix:ino");
            return a.equals(b);
        } catch (Exception e) {
            return false;
        }
    }
}
