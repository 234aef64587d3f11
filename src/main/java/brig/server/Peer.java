package brig.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;

/**
 * Who may be served: a caller with the server's own powers, and no others. Its uid and gid
 * (SO_PEERCRED) equal the server's; it is in the server's namespaces, under the same root,
 * with the same capability sets, no_new_privs and seccomp mode. Any other caller (rootless
 * podman calls the runtime from inside its own user namespace; a caller in a container's
 * mount namespace sees other files under the same names) runs the command in a JVM of its own.
 */
final class Peer {
    private Peer() {}

    /** The lines of /proc/PID/status that must match. */
    private static final List<String> STATUS = List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp");

    /**
     * The server's own side of the comparison, read once: it never changes its namespaces,
     * root, capabilities, no_new_privs or seccomp mode (read per call, it cost every call
     * the listing of /proc/self/ns and a status read).
     */
    private record Self(java.util.Map<String, Path> ns, Object root, java.util.Map<String, String> status) {
        static Self read() throws IOException {
            Path self = Path.of("/proc/self");
            java.util.Map<String, Path> ns = new java.util.LinkedHashMap<>();
            try (var list = Files.list(self.resolve("ns"))) {
                for (Path n : list.toList()) ns.put(n.getFileName().toString(), Files.readSymbolicLink(n));
            }
            String st = Files.readString(self.resolve("status"));
            java.util.Map<String, String> status = new java.util.HashMap<>();
            for (String field : STATUS) status.put(field, line(st, field));
            return new Self(java.util.Map.copyOf(ns), key(self.resolve("root")), status);
        }
    }

    private static Self self;

    private static synchronized Self self() throws IOException {
        if (self == null) self = Self.read();
        return self;
    }

    /** Reads the server's own side ahead of its first caller (any failure shows at that call). */
    static void prime() {
        try {
            self();
        } catch (IOException | RuntimeException e) {
            // differs() says so, per call
        }
    }

    /** Why {@code pid} (with those ids) may not be served by this process, or null if it may. */
    static String differs(int pid, int uid, int gid, int ownUid, int ownGid) {
        if (uid != ownUid || gid != ownGid) return "caller's uid/gid " + uid + "/" + gid + " are not the server's " + ownUid + "/" + ownGid;
        Path peer = Path.of("/proc/" + pid);
        try {
            Self mine = self();
            for (var n : mine.ns().entrySet()) {
                if (!n.getValue().equals(Files.readSymbolicLink(peer.resolve("ns").resolve(n.getKey())))) {
                    return "caller is in another " + n.getKey() + " namespace";
                }
            }
            if (!Objects.equals(mine.root(), key(peer.resolve("root")))) return "caller has another root directory";
            String theirs = Files.readString(peer.resolve("status"));
            for (String field : STATUS) {
                if (!Objects.equals(mine.status().get(field), line(theirs, field))) return "caller's " + field + " differs";
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return "cannot compare the caller (pid " + pid + ") with the server: " + e;
        }
    }

    private static Object key(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    }

    private static String line(String status, String field) {
        int at = status.indexOf("\n" + field + ":");
        if (at < 0) return null;
        int end = status.indexOf('\n', at + 1);
        return status.substring(at + 1, end < 0 ? status.length() : end);
    }
}
