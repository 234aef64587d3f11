package brig;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.Tools;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every command of docs/lab.md, in order, in one bash session (so `cd`, shell functions,
 * `$?` and background jobs carry over as they do for a person), and checks that each prints
 * what the doc shows ({@link LabDoc}): the doc cannot rot. A command that fails (non-zero
 * status) must be followed by `echo $?` in the doc.
 *
 * <p>What the test changes, and only here: `brig` and `runc` are shell functions that add
 * --root (a temporary state directory) and, for image and container verbs, --store (a
 * temporary store); in commands "lab-" (the doc's container and image names) becomes
 * {@link NoLeaks#PREFIX} + "lab-", 127.0.0.1:5000 a free port and /var/lib/brig/images the
 * temporary store; in output the other way round, and the session's directory reads ~/lab.
 */
@ExtendWith(NoLeaks.class)
class LabIT {
    static final Path DOC = Path.of("docs/lab.md");
    static final String END = "__LAB_END__";

    @TempDir Path tmp;

    @Test
    void everyCommandOfTheLabPrintsWhatTheDocShows() throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "the lab runs as root");
        for (String tool : List.of("/usr/bin/jq", "/usr/bin/skopeo", "/usr/bin/docker-registry", "/usr/sbin/runc", "/usr/bin/curl")) {
            Tools.require(Path.of(tool).getFileName().toString(), tool);
        }
        List<LabDoc.Step> steps = LabDoc.parse(Files.readString(DOC));
        assertTrue(steps.size() > 20, "docs/lab.md has its walkthrough: " + steps.size() + " commands");

        Path lab = Files.createDirectories(tmp.resolve("lab"));
        Path state = tmp.resolve("state"), store = tmp.resolve("store"), runcRoot = tmp.resolve("runc");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Map<String, String> toTest = new java.util.LinkedHashMap<>();
        toTest.put("lab-", NoLeaks.PREFIX + "lab-");
        toTest.put("127.0.0.1:5000", "127.0.0.1:" + port);
        toTest.put("/var/lib/brig/images", store.toString());
        Map<String, String> toDoc = new java.util.LinkedHashMap<>();
        toDoc.put(NoLeaks.PREFIX, "");
        toDoc.put("127.0.0.1:" + port, "127.0.0.1:5000");
        toDoc.put(store.toString(), "/var/lib/brig/images");
        toDoc.put(lab.toString(), "~/lab");

        String preamble = """
                brig() {
                  local verb=$1; shift
                  case $verb in
                    container) local sub=$1; shift; command brig --root '%1$s' container "$sub" --store '%2$s' "$@";;
                    import|images|pull|rmi|inspect|unpack) command brig --root '%1$s' "$verb" --store '%2$s' "$@";;
                    *) command brig --root '%1$s' "$verb" "$@";;
                  esac
                }
                runc() { command runc --root '%3$s' "$@"; }
                __status() { return $1; }
                __rc=0
                """.formatted(state, store, runcRoot);

        Set<String> names = new LinkedHashSet<>();
        StringBuilder transcript = new StringBuilder();
        long started = System.nanoTime();
        List<String> failures = new ArrayList<>();
        try (Session bash = new Session(lab, preamble)) {
            for (int k = 0; k < steps.size(); k++) {
                LabDoc.Step s = steps.get(k);
                String command = replace(s.command(), toTest);
                Matcher m = Pattern.compile(Pattern.quote(NoLeaks.PREFIX) + "lab-[\\w.-]+").matcher(command);
                while (m.find()) names.add(m.group());
                Session.Result r = bash.run(command, 60);
                List<String> out = new ArrayList<>(List.of(replace(r.output(), toDoc).split("\n", -1)));
                if (out.getLast().isEmpty()) out.removeLast();
                transcript.append("$ ").append(s.command()).append('\n');
                out.forEach(l -> transcript.append(l).append('\n'));
                if (r.status() != 0) transcript.append("(status ").append(r.status()).append(")\n");
                if (!LabDoc.matches(s.expected(), out)) {
                    failures.add("docs/lab.md:" + s.line() + ": $ " + s.command() + "\n--- the doc shows:\n" + String.join("\n", s.expected())
                            + "\n--- it printed:\n" + String.join("\n", out));
                    break;
                }
                boolean next = k + 1 < steps.size() && steps.get(k + 1).command().equals("echo $?");
                if (r.status() != 0 && !next) {
                    failures.add("docs/lab.md:" + s.line() + ": $ " + s.command() + "\nexited with " + r.status()
                            + " (a failure the doc means to show is followed by `echo $?`)\n" + String.join("\n", out));
                    break;
                }
            }
        } finally {
            // What the lab printed, for a person updating the doc.
            Files.writeString(Path.of("target/lab-transcript.txt"), transcript.toString());
            for (String n : names) {
                Brig.run(lab, List.of("--root", state.toString(), "container", "rm", "-f", "--store", store.toString(), n));
                Brig.run(lab, List.of("--root", state.toString(), "delete", "--force", n));
                Brig.exec(lab, List.of("runc", "--root", runcRoot.toString(), "delete", "--force", n), null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 30);
                NoLeaks.removeContainer(n, state.resolve(n));
            }
        }
        if (!failures.isEmpty()) fail(String.join("\n\n", failures));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        System.out.println("the lab: " + steps.size() + " commands in " + seconds + " s");
    }

    static String replace(String s, Map<String, String> pairs) {
        for (Map.Entry<String, String> e : pairs.entrySet()) s = s.replace(e.getKey(), e.getValue());
        return s;
    }

    /**
     * One bash, fed the commands on its stdin; each command runs with stdin from /dev/null
     * (else it would read the commands that follow) and its stderr merged into stdout, then
     * bash prints a marker with its status. `$?` is carried to the next command. On close the
     * background jobs still running are killed, by their pids, and bash ends.
     */
    static final class Session implements AutoCloseable {
        record Result(int status, String output) {}

        private final Process bash;
        private final OutputStream in;
        private final StringBuilder out = new StringBuilder();

        Session(Path dir, String preamble) throws IOException {
            ProcessBuilder pb = new ProcessBuilder("bash", "--noprofile", "--norc").directory(dir.toFile()).redirectErrorStream(true);
            pb.environment().clear();
            pb.environment().putAll(Map.of("PATH", Brig.dist().resolve("bin") + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME", dir.toString(), "LC_ALL", "C.UTF-8", "TERM", "dumb"));
            bash = pb.start();
            in = bash.getOutputStream();
            InputStream stdout = bash.getInputStream();
            Thread.ofPlatform().daemon().start(() -> {
                byte[] b = new byte[8192];
                try {
                    for (int n; (n = stdout.read(b)) > 0; ) {
                        synchronized (out) {
                            out.append(new String(b, 0, n, StandardCharsets.UTF_8));
                            out.notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // bash ended
                }
            });
            send(preamble);
        }

        private void send(String text) throws IOException {
            in.write(text.getBytes(StandardCharsets.UTF_8));
            in.flush();
        }

        Result run(String command, int timeoutSeconds) throws IOException, InterruptedException {
            synchronized (out) {
                out.setLength(0);
            }
            send("__status $__rc; {\n" + command + "\n} </dev/null 2>&1; __rc=$?; printf '\\n" + END + " %d\\n' $__rc\n");
            Pattern marker = Pattern.compile("\n" + END + " (\\d+)\n");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            synchronized (out) {
                while (true) {
                    Matcher m = marker.matcher(out);
                    if (m.find()) return new Result(Integer.parseInt(m.group(1)), out.substring(0, m.start()));
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !bash.isAlive()) throw new AssertionError("$ " + command + "\n" + (bash.isAlive() ? "timed out after "
                            + timeoutSeconds + " s" : "bash ended") + ", having printed:\n" + out);
                    out.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            }
        }

        @Override
        public void close() throws Exception {
            try {
                Result jobs = run("jobs -p", 10);
                for (String pid : jobs.output().split("\\s+")) {
                    if (pid.isBlank()) continue;
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(p -> {
                        p.descendants().forEach(ProcessHandle::destroyForcibly);
                        p.destroyForcibly();
                    });
                }
            } catch (AssertionError | RuntimeException e) {
                // bash is gone or stuck: it is killed below
            }
            in.close();
            if (!bash.waitFor(10, TimeUnit.SECONDS)) {
                bash.descendants().forEach(ProcessHandle::destroyForcibly);
                bash.destroyForcibly().waitFor();
            }
        }
    }
}
