package brig.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One process as /proc shows it to the host: what lsns and the process tree print. Read as
 * plain files: a process that exits while it is read is simply left out (null), as lsns and
 * ps do.
 *
 * @param pid the host's pid
 * @param ppid the host's parent pid
 * @param nsPid the pid in its own (innermost) pid namespace: the last NSpid of /proc/PID/status
 * @param uid the effective uid, as the host sees it
 * @param command the command line joined by spaces, or the kernel's name of it (comm) when
 *     there is none (kernel threads, zombies)
 */
public record Proc(int pid, int ppid, int nsPid, int uid, String command) {

    static final Path PROC = Path.of("/proc");

    /** The process now, or null when it is gone or cannot be read. */
    public static Proc read(int pid) {
        try {
            String status = Files.readString(PROC.resolve(pid + "/status"), StandardCharsets.UTF_8);
            int ppid = (int) field(status, "PPid", 0, -1);
            int uid = (int) field(status, "Uid", 1, -1);
            String nspid = line(status, "NSpid");
            int nsPid = pid;
            if (nspid != null) {
                String[] f = nspid.trim().split("\\s+");
                nsPid = Integer.parseInt(f[f.length - 1]);
            }
            return new Proc(pid, ppid, nsPid, uid, command(pid));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** Every pid under /proc, ascending. */
    public static List<Integer> pids() {
        List<Integer> out = new ArrayList<>();
        try (var s = Files.newDirectoryStream(PROC)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && n.chars().allMatch(Character::isDigit)) out.add(Integer.parseInt(n));
            }
        } catch (IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    /** The children of every thread of the process (/proc/PID/task/TID/children), or none when it is gone. */
    public static List<Integer> children(int pid) {
        List<Integer> out = new ArrayList<>();
        try (var tasks = Files.newDirectoryStream(PROC.resolve(pid + "/task"))) {
            for (Path t : tasks) {
                try {
                    for (String c : Files.readString(t.resolve("children")).trim().split("\\s+")) {
                        if (!c.isEmpty()) out.add(Integer.parseInt(c));
                    }
                } catch (IOException e) {
                    // the thread is gone
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    /** cmdline's arguments joined by spaces; comm when it is empty. */
    static String command(int pid) throws IOException {
        byte[] b = Files.readAllBytes(PROC.resolve(pid + "/cmdline"));
        int n = b.length;
        while (n > 0 && b[n - 1] == 0) n--;
        if (n == 0) return Files.readString(PROC.resolve(pid + "/comm")).strip();
        for (int k = 0; k < n; k++) if (b[k] == 0) b[k] = ' ';
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    /** The inode of /proc/PID/ns/TYPE ("mnt:[4026531832]"), or 0 when it cannot be read (gone, or not permitted). */
    public static long nsInode(int pid, String type) {
        try {
            String link = Files.readSymbolicLink(PROC.resolve(pid + "/ns/" + type)).toString();
            return Long.parseLong(link.substring(link.indexOf('[') + 1, link.length() - 1));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The {@code index}th number of a status line ("Uid:\t0\t0\t0\t0"), or fallback. */
    static long field(String status, String name, int index, long fallback) {
        String l = line(status, name);
        if (l == null) return fallback;
        String[] f = l.trim().split("\\s+");
        return index < f.length ? Long.parseLong(f[index]) : fallback;
    }

    private static String line(String status, String name) {
        for (String l : status.split("\n")) if (l.startsWith(name + ":")) return l.substring(name.length() + 1);
        return null;
    }

    /** The host's user names by uid (/etc/passwd); a uid without one is shown as its number. */
    public static final class Users {
        private final Map<Integer, String> names = new HashMap<>();

        public Users() {
            try {
                for (String l : Files.readAllLines(Path.of("/etc/passwd"))) {
                    String[] f = l.split(":");
                    if (f.length > 2) names.putIfAbsent(Integer.parseInt(f[2]), f[0]);
                }
            } catch (IOException | RuntimeException e) {
                // numbers then
            }
        }

        public String name(int uid) {
            return names.getOrDefault(uid, Integer.toString(uid));
        }
    }
}
