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

    /** Why {@code pid} (with those ids) may not be served by this process, or null if it may. */
    static String differs(int pid, int uid, int gid, int ownUid, int ownGid) {
        if (uid != ownUid || gid != ownGid) return "caller's uid/gid " + uid + "/" + gid + " are not the server's " + ownUid + "/" + ownGid;
        Path self = Path.of("/proc/self"), peer = Path.of("/proc/" + pid);
        try {
            try (var ns = Files.list(self.resolve("ns"))) {
                for (Path n : ns.toList()) {
                    String name = n.getFileName().toString();
                    if (!Files.readSymbolicLink(n).equals(Files.readSymbolicLink(peer.resolve("ns").resolve(name)))) {
                        return "caller is in another " + name + " namespace";
                    }
                }
            }
            if (!Objects.equals(key(self.resolve("root")), key(peer.resolve("root")))) return "caller has another root directory";
            String mine = Files.readString(self.resolve("status")), theirs = Files.readString(peer.resolve("status"));
            for (String field : STATUS) {
                if (!Objects.equals(line(mine, field), line(theirs, field))) return "caller's " + field + " differs";
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
