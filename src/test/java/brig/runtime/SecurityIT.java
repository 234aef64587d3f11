package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import com.google.gson.JsonArray;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each test performs an attack on the runtime, as a hostile image, config or container would,
 * and checks from the host that it failed: the known runc escapes (CVE-2019-5736,
 * CVE-2024-21626, CVE-2021-30465) and their relatives.
 */
@ExtendWith(NoLeaks.class)
class SecurityIT {
    @TempDir Path dir;

    /** Host paths an attack aims at; removed afterwards in case one got through. */
    private final List<Path> targets = new ArrayList<>();

    @AfterEach
    void removeTargets() throws Exception {
        for (Path t : targets) {
            if (!Files.exists(t, java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
            try (Stream<Path> s = Files.walk(t)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private Path hostTarget(String name) {
        Path p = Path.of("/tmp", NoLeaks.PREFIX + name);
        targets.add(p);
        return p;
    }

    private static Path helperBinary() {
        return Brig.dist().resolve("libexec/brig-helper");
    }

    private static byte[] sha256(Path p) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p));
    }

    private static void executable(Path file, String text) throws Exception {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** brig --root STATE run [flags] --bundle DIR ID, started by sh after {@code redirections}. */
    private static Brig.Result runWithFds(TestBundle b, String redirections, String... flags) {
        b.write();
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", "exec " + redirections + "; exec \"$0\" \"$@\"",
                Brig.launcher().toString(), "--root", b.stateRoot().toString(), "run"));
        cmd.addAll(List.of(flags));
        cmd.addAll(List.of("--bundle", b.dir().toString(), b.id()));
        return Brig.exec(b.dir(), cmd, null, Map.of(), 60);
    }

    // ---- CVE-2019-5736: overwriting the runtime through /proc/PID/exe ----

    /**
     * CVE-2019-5736 from a container that shares the host's pid namespace (see
     * {@link #attackFromTheHostPidNamespace}): a victim container's entrypoint is a
     * "#!/proc/self/exe" script, so the runtime's own binary becomes the victim's process. The
     * attacker opens /proc/PID/exe of it, of the victim's supervisor (`brig-helper launch`, run
     * from the helper on disk) and of brig's JVMs for writing, and the PoC's way: an O_PATH
     * handle reopened through /proc/self/fd for writing once that process has gone. The helper
     * the victim ran is the sealed in-memory copy, which refuses the write; the supervisor and
     * the JVMs cannot be opened at all; and the distribution's files are unchanged.
     */
    @Test
    void selfExeEntrypointRunsOnlyTheSealedCopyOfTheHelper() throws Exception {
        List<String> lines = attackFromTheHostPidNamespace(2);
        String all = String.join("\n", lines);
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("WRITE")), "a write to the runtime's binary succeeded\n" + all);
        // The victim's process was the helper, and the attack got as far as the reopen.
        List<String> held = lines.stream().filter(l -> l.startsWith("HOLD ") && l.contains("brig-helper")).toList();
        assertFalse(held.isEmpty(), "the attacker never held the helper's binary\n" + all);
        for (String h : held) assertTrue(h.endsWith(" /memfd:brig-helper (deleted)"), "not the sealed copy: " + h + "\n" + all);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("REFUSED-HELD ") && l.contains("/memfd:brig-helper") && l.endsWith(" write EPERM")),
                "the held helper was never reopened for writing\n" + all);
        // The supervisor and the JVM were there to attack, and their binaries could not be opened.
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("DENIED ") && l.contains("/libexec/brig-helper launch ")), all);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("DENIED ") && l.contains("runtime/bin/java")), all);
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("HOLD ") && !l.contains("/memfd:brig-helper")), all);
    }

    /**
     * CVE-2016-9962: while the helper works for a container (here: still looking for the
     * program along a long PATH, after it dropped to the container's uid and capabilities), a
     * process of that container sharing its pid namespace (the host's) tries PTRACE_ATTACH,
     * /proc/PID/mem, /proc/PID/fd/N, /proc/PID/root and cwd: all must fail, because the helper
     * is not dumpable while it holds host resources.
     */
    @Test
    void helperAtWorkCannotBeTracedOrHaveItsFdsOpenedFromTheContainer() throws Exception {
        // The scan catches the helper in its window after the drop by chance: four victims a
        // round, up to five rounds (a quiet CI run missed it in a round of four), each round in
        // a directory of its own. Every attempt of every round must fail.
        List<String> lines = new ArrayList<>();
        Path top = dir;
        try {
            for (int round = 0; round < 5 && !caughtAtWork(lines); round++) {
                dir = Files.createDirectories(top.resolve("round" + round));
                lines.addAll(attackFromTheHostPidNamespace(4));
            }
        } finally {
            dir = top;
        }
        String all = String.join("\n", lines);
        assertTrue(caughtAtWork(lines), "never caught the helper at work with the attacker's own privileges\n" + all);
        for (String hit : List.of("PTRACE ", "MEM ", "FD ", "LINK ")) {
            assertFalse(lines.stream().anyMatch(l -> l.startsWith(hit)), "the attacker got at the helper: " + hit + "\n" + all);
        }
    }

    /** Whether the attacker tried the helper while it had the attacker's own capabilities. */
    private static boolean caughtAtWork(List<String> lines) {
        String me = lines.stream().filter(l -> l.startsWith("me uid=0 cap=")).findFirst().orElse(null);
        if (me == null) return false;
        String cap = me.substring("me uid=0 cap=".length());
        return lines.stream().anyMatch(l -> l.startsWith("TRIED ") && l.endsWith(" cap=" + cap));
    }

    /** Files of the distribution a write through /proc/PID/exe could reach. */
    private static List<Path> runtimeFiles() {
        Path d = Brig.dist();
        return List.of(helperBinary(), Brig.launcher(), d.resolve("runtime/bin/java"), d.resolve("runtime/lib/modules"),
                d.resolve("runtime/lib/server/libjvm.so"));
    }

    /**
     * The attacker (src/test/c/attacker.c, "scan") runs as a container in the host's pid
     * namespace with runc's default capabilities, started by brig's JVM without the
     * supervisor, so that no process of its own keeps the helper on disk busy. Then victims
     * run one after the other, also in the host's pid namespace, through the launcher: their
     * entrypoint "evil" is a "#!/proc/self/exe" script found at the end of a long PATH. The
     * victim's stderr is a full pipe until the attacker has a handle on the helper as the
     * victim's process (its one line, "not meant to be run by hand", waits for room), so the
     * attack never depends on luck. Returns the attacker's lines; fails if the distribution's
     * files changed (and puts them back).
     */
    private List<String> attackFromTheHostPidNamespace(int victims) throws Exception {
        Map<Path, byte[]> hashes = new java.util.LinkedHashMap<>();
        Path backup = Files.createDirectories(dir.resolve("backup"));
        for (Path f : runtimeFiles()) {
            hashes.put(f, sha256(f));
            Files.copy(f, backup.resolve(Integer.toString(hashes.size())));
        }
        TestBundle attacker = TestBundle.busybox(dir.resolve("attacker")).args("/attacker", "scan", "/stop", dir.toString());
        brig.testing.Attacker.into(attacker.rootfs());
        withoutPidNamespace(attacker);
        attacker.write();
        Path home = Brig.dist();
        List<String> cmd = List.of(home.resolve("runtime/bin/java").toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "--enable-native-access=ALL-UNNAMED", "-Dbrig.home=" + home, "-cp", home.resolve("lib/brig.jar").toString(),
                "brig.cli.Main", "--root", attacker.stateRoot().toString(), "run", "--bundle", attacker.dir().toString(), attacker.id());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("attacker.err").toFile());
        pb.environment().clear();
        Process p = pb.start();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) seen.add(line);
            } catch (java.io.IOException ignored) {
                // the attacker is gone
            }
        });
        try {
            for (int k = 0; k < 200 && !has(seen, "me "); k++) Thread.sleep(50);
            assertTrue(has(seen, "me "), "the attacker did not start: " + Files.readString(dir.resolve("attacker.err")));
            TestBundle victim = TestBundle.busybox(dir.resolve("victim")).args("evil");
            executable(victim.rootfs().resolve("evil"), "#!/proc/self/exe\n");
            withoutPidNamespace(victim);
            StringBuilder path = new StringBuilder("PATH=");
            for (int k = 0; k < 12000; k++) path.append("/no/").append(k).append(':');
            victim.set("process.env", "[\"" + path.append('/') + "\"]");
            victim.write();
            for (int run = 0; run < victims; run++) {
                Path fifo = dir.resolve("victim-stderr-" + run);
                assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
                int holds = count(seen, "HOLD ");
                ProcessBuilder vb = new ProcessBuilder("/bin/sh", "-c", "exec 3<>\"$0\"; head -c 65536 /dev/zero >&3; exec \"$@\" 2>&3 3>&-",
                        fifo.toString(), Brig.launcher().toString(), "--root", victim.stateRoot().toString(), "run",
                        "--bundle", victim.dir().toString(), victim.id()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
                vb.environment().clear();
                vb.environment().put("PATH", "/usr/bin:/bin");
                Process v = vb.start();
                for (int k = 0; k < 200 && count(seen, "HOLD ") == holds && v.isAlive(); k++) Thread.sleep(25);
                var err = new java.util.concurrent.CompletableFuture<String>();
                Thread.ofPlatform().daemon().start(() -> {
                    try (var in = Files.newInputStream(fifo)) {
                        err.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\0", ""));
                    } catch (java.io.IOException e) {
                        err.complete(e.toString());
                    }
                });
                if (!v.waitFor(30, TimeUnit.SECONDS)) {
                    String ps = new String(new ProcessBuilder("ps", "-eo", "pid,ppid,stat,wchan:20,args").start().getInputStream().readAllBytes())
                            .lines().filter(l -> l.contains("brig") || l.contains("evil") || l.contains("attacker") || l.contains("victim"))
                            .filter(l -> !l.contains("flock") && !l.contains("mvn")).map(l -> l.substring(0, Math.min(l.length(), 200)))
                            .collect(java.util.stream.Collectors.joining("\n"));
                    v.descendants().forEach(ProcessHandle::destroyForcibly);
                    v.destroyForcibly().waitFor();
                    RunIT.cleanupAfterKilledMonitor(victim);
                    throw new AssertionError("the victim did not finish\n" + ps + "\n" + String.join("\n", seen));
                }
                String e = err.get(10, TimeUnit.SECONDS);
                assertEquals(125, v.exitValue(), e);
                assertTrue(e.contains("not meant to be run by hand"), e);
                // The held handles are tried once their process has gone.
                for (int k = 0; k < 100 && count(seen, "HOLD ") > count(seen, "REFUSED-HELD ") + count(seen, "WRITE-HELD "); k++) Thread.sleep(20);
            }
            Files.writeString(attacker.rootfs().resolve("stop"), "");
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the attacker did not stop");
            reader.join(5000);
            assertEquals(0, p.exitValue(), Files.readString(dir.resolve("attacker.err")));
        } finally {
            if (p.isAlive()) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
                RunIT.cleanupAfterKilledMonitor(attacker);
            }
            List<String> changed = new ArrayList<>();
            int k = 0;
            for (var e : hashes.entrySet()) {
                k++;
                if (java.util.Arrays.equals(e.getValue(), sha256(e.getKey()))) continue;
                changed.add(e.getKey().toString());
                Files.copy(backup.resolve(Integer.toString(k)), e.getKey(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            assertTrue(changed.isEmpty(), "the host's files changed (put back now): " + changed + "\n" + String.join("\n", seen));
        }
        List<String> lines = List.copyOf(seen);
        assertTrue(lines.contains("done"), "the attacker did not finish its scan\n" + String.join("\n", lines));
        return lines;
    }

    private static void withoutPidNamespace(TestBundle b) {
        JsonArray ns = new JsonArray();
        for (var n : b.linux().getAsJsonArray("namespaces")) {
            if (!n.getAsJsonObject().get("type").getAsString().equals("pid")) ns.add(n);
        }
        b.linux().add("namespaces", ns);
    }

    private static int count(List<String> lines, String prefix) {
        synchronized (lines) {
            return (int) lines.stream().filter(l -> l.startsWith(prefix)).count();
        }
    }

    /**
     * A container (the attacker) scans its pid namespace without end: it opens /proc/N/exe of
     * every process for writing, keeps a read handle on any brig-helper binary it can open and
     * reopens it for writing once that process is gone (the CVE's technique), and notes whether
     * it can open the exe of brig-helper processes that are still setting up. Victim containers
     * join its pid namespace by path, one after the other; their entrypoint, found at the end
     * of a long PATH (which keeps the helper busy after it dropped to the container's
     * capabilities, so the attacker sees it with exactly its own privileges), is a
     * "#!/proc/self/exe" script.
     */
    @Test
    void containerSharingThePidNamespaceCannotWriteTheHelper() throws Exception {
        byte[] before = sha256(helperBinary());
        TestBundle attacker = TestBundle.busybox(dir.resolve("attacker")).args("/bin/sh", "/attack.sh");
        Files.writeString(attacker.rootfs().resolve("attack.sh"), ATTACK);
        attacker.write();
        List<String> cmd = List.of(Brig.launcher().toString(), "--root", attacker.stateRoot().toString(), "run",
                "--bundle", attacker.dir().toString(), attacker.id());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(dir.resolve("attacker.err").toFile());
        pb.environment().clear();
        Process p = pb.start();
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) seen.add(line);
            } catch (java.io.IOException ignored) {
                // the attacker is gone
            }
        });
        try {
            Path state = attacker.stateRoot().resolve(attacker.id()).resolve("state.json");
            for (int k = 0; k < 200 && !Files.exists(state); k++) Thread.sleep(50);
            int pid = Json.parseObjectFile(state).get("pid").getAsInt();

            TestBundle victim = TestBundle.busybox(dir.resolve("victim")).args("evil");
            executable(victim.rootfs().resolve("evil"), "#!/proc/self/exe\n");
            JsonArray ns = new JsonArray();
            for (var n : victim.linux().getAsJsonArray("namespaces")) {
                if (!n.getAsJsonObject().get("type").getAsString().equals("pid")) ns.add(n);
            }
            ns.add(Json.parseQuietly("{\"type\":\"pid\",\"path\":\"/proc/" + pid + "/ns/pid\"}"));
            victim.linux().add("namespaces", ns);
            StringBuilder path = new StringBuilder("PATH=");
            for (int k = 0; k < 12000; k++) path.append("/no/").append(k).append(':');
            victim.set("process.env", "[\"" + path.append('/') + "\"]");

            for (int run = 0; run < 25; run++) {
                Brig.Result r = victim.run();
                assertEquals(125, r.exit(), r.err());
                assertTrue(r.err().contains("not meant to be run by hand"), r.err());
                if (run >= 2 && has(seen, "REFUSED-HELD ") && has(seen, sameRights(seen))) break;
            }
            Files.writeString(attacker.rootfs().resolve("stop"), "");
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the attacker did not stop");
            reader.join(5000);
        } finally {
            if (p.isAlive()) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
                RunIT.cleanupAfterKilledMonitor(attacker);
            }
        }
        List<String> lines = List.copyOf(seen);
        String all = String.join("\n", lines);
        assertTrue(lines.contains("done"), "the attacker did not finish its scan\n" + all);
        // The helper as the victim's process: a handle was taken and reopened for writing, and
        // the sealed memfd refused the write.
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("HOLD ") && l.contains("/memfd:brig-helper")), all);
        assertTrue(has(lines, "REFUSED-HELD "), "the attacker never got to write to the helper's binary\n" + all);
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("WRITE")), "a write to the helper's binary succeeded\n" + all);
        // The helper while it works is not dumpable: even with the attacker's own uid and
        // capabilities (after the helper dropped to them), its exe cannot be opened.
        assertFalse(lines.stream().anyMatch(l -> l.startsWith("helper ") && l.contains("exe=readable")), all);
        assertTrue(has(lines, sameRights(lines)), "never saw a helper with the attacker's privileges\n" + all);
        assertArrayEquals(before, sha256(helperBinary()), "the host's brig-helper changed");
    }

    private static boolean has(List<String> lines, String prefix) {
        synchronized (lines) {
            return lines.stream().anyMatch(l -> l.startsWith(prefix));
        }
    }

    /** "uid=0 cap=X" with the attacker's own capabilities X, from its first line "me cap=X". */
    private static String sameRights(List<String> lines) {
        synchronized (lines) {
            String me = lines.stream().filter(l -> l.startsWith("me cap=")).findFirst().orElse("me cap=?");
            return "helper uid=0 cap=" + me.substring("me cap=".length()) + " ";
        }
    }

    /** The attacker, a busybox sh script; it writes only to stdout, a line per finding. */
    private static final String ATTACK = """
            exec 2>/dev/null
            while read -r k v rest; do case $k in CapEff:) mycap=$v;; esac; done < /proc/self/status
            echo "me cap=$mycap"
            held=
            while [ ! -e /stop ]; do
              for d in /proc/[0-9]*; do
                p=${d#/proc/}
                [ "$p" = $$ ] && continue
                c=; read -r c < $d/cmdline
                case "$c" in brig-helper*)
                  uid=; cap=
                  while read -r k v rest; do case $k in Uid:) uid=$v;; CapEff:) cap=$v;; esac; done < $d/status
                  if command exec 3<$d/exe; then r=readable; exec 3<&-; else r=denied; fi
                  # Still the helper after the open: the open saw the helper, not its successor.
                  c=; read -r c < $d/cmdline
                  case "$c" in brig-helper*) echo "helper uid=$uid cap=$cap exe=$r pid=$p";; esac;;
                esac
                if command exec 4>>$d/exe; then
                  if echo pwned >&4; then echo "WRITE $p"; else echo "REFUSED $p"; fi
                  exec 4>&-
                fi
                if [ -z "$held" ] && command exec 5<$d/exe; then
                  l=$(readlink /proc/self/fd/5)
                  case "$l" in *brig-helper*) held=$p; echo "HOLD $p $l";; *) exec 5<&-;; esac
                fi
              done
              if [ -n "$held" ] && command exec 6>>/proc/self/fd/5; then
                if echo pwned >&6; then echo "WRITE-HELD $held"; else echo "REFUSED-HELD $held"; fi
                exec 6>&- 5<&-
                held=
              fi
            done
            echo done
            """;

    // ---- CVE-2024-21626: a host fd or working directory reaching the container ----

    @Test
    void cwdThroughAnInheritedHostDirectoryIsRefused() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("echo RAN; pwd; ls");
        b.process().addProperty("cwd", "/proc/self/fd/7");
        Brig.Result r = runWithFds(b, "7</tmp");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertFalse(r.out().contains("RAN"), r.out());
        // Brig's inherited fd 7 never reaches the helper: there is no such fd to change into.
        assertEquals("brig: change the working directory to /proc/self/fd/7: chdir /proc/self/fd/7: "
                + "ENOENT: no such file or directory\n", r.err());
    }

    @Test
    void cwdThroughAPreservedHostDirectoryIsRefused() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("echo RAN; pwd; ls");
        b.process().addProperty("cwd", "/proc/self/fd/3");
        // Here the fd is passed on purpose: chdir works, the check after it must refuse.
        Brig.Result r = runWithFds(b, "3</tmp", "--preserve-fds", "1");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertFalse(r.out().contains("RAN"), r.out());
        assertEquals("brig: process.cwd /proc/self/fd/3 is outside the container's root filesystem: refused\n", r.err());
    }

    /** The fd numbers `ls -l /proc/self/fd` lists (ls's own directory fd among them). */
    private static Set<String> fds(String lsOutput) {
        Set<String> out = new TreeSet<>();
        for (String line : lsOutput.split("\n")) {
            if (line.isBlank() || line.startsWith("total")) continue;
            List<String> f = List.of(line.trim().split("\\s+"));
            int arrow = f.indexOf("->");
            out.add(arrow > 0 ? f.get(arrow - 1) : f.get(f.size() - 1));
        }
        return out;
    }

    @Test
    void inheritedFdsDoNotReachTheContainer() throws Exception {
        Path secret = Files.writeString(dir.resolve("host-secret"), "host data\n");
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("ls -l /proc/self/fd");
        Brig.Result r = runWithFds(b, "7</tmp 9<" + secret).expect(0);
        assertEquals(Set.of("0", "1", "2", "3"), fds(r.out()), r.out());
        assertFalse(r.out().contains(secret.toString()) || r.out().contains("-> /tmp"), r.out());
    }

    @Test
    void preservedFdsAreThereAsAsked() throws Exception {
        Path file = Files.writeString(dir.resolve("passed"), "passed on purpose\n");
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("cat <&3; ls -l /proc/self/fd");
        Brig.Result r = runWithFds(b, "3<" + file + " 7</tmp", "--preserve-fds", "1").expect(0);
        assertTrue(r.out().startsWith("passed on purpose\n"), r.out());
        // 3 as asked, 4 is ls's own; the unasked 7 is not there.
        assertEquals(Set.of("0", "1", "2", "3", "4"), fds(r.out().substring(r.out().indexOf('\n') + 1)), r.out());
        assertTrue(r.out().contains("3 -> " + file), r.out());
    }

    // ---- CVE-2021-30465 and relatives: rootfs symlinks as mount targets ----

    @Test
    void mountTargetsThroughSymlinksLandInsideTheRootfs() throws Exception {
        Path abs = hostTarget("escape-abs"), rel = hostTarget("escape-rel"), bind = hostTarget("escape-bind"),
                file = hostTarget("escape-file");
        TestBundle b = TestBundle.busybox(dir.resolve("b"));
        Path root = b.rootfs();
        Files.createSymbolicLink(root.resolve("evil"), abs);
        Files.createSymbolicLink(root.resolve("evil-rel"), Path.of("../../../../../.." + rel));
        Files.createSymbolicLink(root.resolve("evil-bind"), bind);
        Files.createSymbolicLink(root.resolve("evil-file"), Path.of("../../../.." + file));
        Path vol = Files.createDirectories(dir.resolve("vol"));
        Files.writeString(vol.resolve("data"), "volume data\n");
        Path one = Files.writeString(dir.resolve("one-file"), "bound file\n");
        b.add("mounts", "{\"destination\":\"/evil\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}");
        b.add("mounts", "{\"destination\":\"/evil-rel/sub\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}");
        b.add("mounts", "{\"destination\":\"/evil-bind\",\"type\":\"bind\",\"source\":\"" + vol + "\",\"options\":[\"rbind\"]}");
        b.add("mounts", "{\"destination\":\"/evil-file\",\"type\":\"bind\",\"source\":\"" + one + "\",\"options\":[\"bind\"]}");
        b.sh("grep escape /proc/self/mountinfo | cut -d' ' -f5; stat -f -c %T /evil /evil-rel/sub; cat /evil-bind/data /evil-file");
        Brig.Result r = b.run().expect(0);
        assertEquals(String.join("\n", abs.toString(), rel + "/sub", bind.toString(), file.toString(),
                "tmpfs", "tmpfs", "volume data", "bound file") + "\n", r.out());
        for (Path t : List.of(abs, rel, bind, file)) {
            assertFalse(Files.exists(t, java.nio.file.LinkOption.NOFOLLOW_LINKS), t + " was made on the host");
            assertTrue(Files.exists(root.resolve(t.toString().substring(1))), t + " is not in the rootfs");
        }
    }

    /**
     * CVE-2021-30465 as a race: while brig mounts, a host process swaps each mount target
     * with a symlink to a host directory (absolute, or climbing with ../),
     * with renameat2(RENAME_EXCHANGE), round after round. Whatever the moment, a mount lands
     * inside the rootfs (it is still there after pivot_root, which would drop one made outside)
     * or brig refuses with one line; the host's directories stay untouched.
     */
    @Test
    void mountTargetsSwappedForSymlinksDuringTheMountStayInsideTheRootfs() throws Exception {
        int pairs = 8;
        TestBundle b = TestBundle.busybox(dir.resolve("b"));
        Path race = Files.createDirectories(b.rootfs().resolve("race"));
        List<String> swaps = new ArrayList<>();
        List<Path> hosts = new ArrayList<>();
        for (int k = 0; k < pairs; k++) {
            Path host = hostTarget("race-" + k);
            Files.writeString(Files.createDirectories(host).resolve("host-file"), "host\n");
            hosts.add(host);
            Files.createDirectories(race.resolve("d" + k));
            Files.createSymbolicLink(race.resolve("l" + k), k % 2 == 0 ? host : Path.of("../../../../../../../.." + host));
            swaps.addAll(List.of(race.resolve("d" + k).toString(), race.resolve("l" + k).toString()));
            // The target is the swapped entry itself: a target resolved twice (checked, then
            // mounted by name) would put the mount on the host's directory.
            b.add("mounts", "{\"destination\":\"/race/d" + k + "\",\"type\":\"tmpfs\",\"source\":\"race-" + k + "\"}");
        }
        b.sh("grep ' - tmpfs race-' /proc/self/mountinfo | cut -d' ' -f5");
        b.write();
        Path stop = dir.resolve("stop-racer");
        List<String> racer = new ArrayList<>(List.of(brig.testing.Attacker.binary().toString(), "exchange", stop.toString()));
        racer.addAll(swaps);
        Process r = new ProcessBuilder(racer).redirectErrorStream(true).start();
        Map<String, Integer> outcomes = new java.util.TreeMap<>();
        List<String> bad = new ArrayList<>();
        try {
            long end = System.nanoTime() + 8_000_000_000L;
            for (int round = 0; round < 25 && System.nanoTime() < end; round++) {
                Brig.Result res = b.run();
                if (res.exit() == 0) {
                    List<String> points = List.of(res.out().strip().split("\n"));
                    outcomes.merge("mounted", 1, Integer::sum);
                    if (points.size() != pairs || !points.stream().allMatch(p -> p.matches("/race/[dl][0-9]+|/tmp/" + NoLeaks.PREFIX + "race-[0-9]+"))) {
                        bad.add("round " + round + ": mounts seen inside: " + points);
                    }
                } else if (res.exit() == 1 && res.err().startsWith("brig: ") && res.err().contains(" /race/d")
                        && res.err().indexOf('\n') == res.err().length() - 1) {
                    // The race made a path vanish under brig: refused, naming the mount's path.
                    outcomes.merge(res.err().replaceAll(".*: (E[A-Z]+):.*\n", "refused $1"), 1, Integer::sum);
                } else {
                    bad.add("round " + round + ": exit " + res.exit() + ": " + res.out() + res.err());
                }
                for (Path host : hosts) {
                    try (Stream<Path> list = Files.list(host)) {
                        List<Path> in = list.toList();
                        if (!in.equals(List.of(host.resolve("host-file")))) bad.add("round " + round + ": the host's " + host + " changed: " + in);
                    }
                }
            }
        } finally {
            Files.writeString(stop, "");
            if (!r.waitFor(10, TimeUnit.SECONDS)) r.destroyForcibly().waitFor();
        }
        String racerOut = new String(r.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, r.exitValue(), racerOut);
        assertTrue(bad.isEmpty(), String.join("\n", bad) + "\n" + outcomes + ", racer: " + racerOut);
        assertTrue(outcomes.getOrDefault("mounted", 0) > 0, "no round got its mounts: " + outcomes);
    }

    @Test
    void maskedAndReadOnlyPathsThroughSymlinksStayInsideTheRootfs() throws Exception {
        Path mask = hostTarget("escape-mask"), ro = hostTarget("escape-ro");
        // The host has these paths too, with something to protect: it must stay as it is.
        for (Path t : List.of(mask, ro)) Files.writeString(Files.createDirectories(t).resolve("host-file"), "host\n");
        TestBundle b = TestBundle.busybox(dir.resolve("b"));
        Path root = b.rootfs();
        for (Path t : List.of(mask, ro)) Files.writeString(Files.createDirectories(root.resolve(t.toString().substring(1))).resolve("secret"), "secret\n");
        Files.writeString(root.resolve("etc/secret-file"), "secret\n");
        Files.createSymbolicLink(root.resolve("mask-abs"), mask);
        Files.createSymbolicLink(root.resolve("mask-rel"), Path.of("../../../../.." + mask));
        Files.createSymbolicLink(root.resolve("mask-file"), Path.of("../../../etc/secret-file"));
        Files.createSymbolicLink(root.resolve("ro-abs"), ro);
        Files.createSymbolicLink(root.resolve("ro-rel"), Path.of("../../../../.." + ro));
        b.set("linux.maskedPaths", "[\"/mask-abs\", \"/mask-rel\", \"/mask-file\"]");
        b.set("linux.readonlyPaths", "[\"/ro-abs\", \"/ro-rel\"]");
        b.set("root.readonly", "false");
        b.sh("ls -A /mask-abs /mask-rel; cat /mask-file; cat /ro-rel/secret; echo x > /ro-abs/new && echo WROTE; "
                + "echo y > /tmp/ok && echo OK");
        Brig.Result r = b.run().expect(0);
        assertEquals("/mask-abs:\n\n/mask-rel:\nsecret\nOK\n", r.out());
        assertTrue(r.err().contains("Read-only file system"), r.err());
        for (Path t : List.of(mask, ro)) {
            try (Stream<Path> s = Files.list(t)) {
                assertEquals(List.of(t.resolve("host-file")), s.toList(), "the host's " + t + " changed");
            }
        }
        assertFalse(Files.exists(root.resolve(ro.toString().substring(1)).resolve("new")));
    }

    @Test
    void fakeDevNullIsNotUsedForMasking() throws Exception {
        // /dev is a bind of a directory the attacker controls, so brig makes no device nodes,
        // and its "null" is a regular file: binding it over a masked file would mask nothing.
        Path fake = Files.createDirectories(dir.resolve("fakedev"));
        Files.writeString(fake.resolve("null"), "not a device\n");
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("echo RAN");
        JsonArray mounts = new JsonArray();
        for (var m : b.config().getAsJsonArray("mounts")) {
            String d = m.getAsJsonObject().get("destination").getAsString();
            if (!d.startsWith("/dev")) mounts.add(m);
        }
        mounts.add(Json.parseQuietly("{\"destination\":\"/dev\",\"type\":\"bind\",\"source\":\"" + fake + "\",\"options\":[\"rbind\"]}"));
        b.config().add("mounts", mounts);
        b.set("linux.maskedPaths", "[\"/etc/passwd\"]");
        Brig.Result r = b.run();
        assertEquals(1, r.exit(), r.out() + r.err());
        assertFalse(r.out().contains("RAN"));
        assertTrue(r.err().contains("mask /etc/passwd") && r.err().contains("/dev/null: ENODEV"), r.err());
        assertEquals("not a device\n", Files.readString(fake.resolve("null")));
    }

    @Test
    void tmpfsOnProcIsRefusedNamingTheMount() throws Exception {
        for (String dest : List.of("/proc", "//proc/./", "/tmp/../proc", "/proc/sys")) {
            TestBundle b = TestBundle.busybox(dir.resolve("b" + Math.abs(dest.hashCode()))).sh("echo RAN");
            int n = b.config().getAsJsonArray("mounts").size();
            b.add("mounts", "{\"destination\":\"" + dest + "\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}");
            Brig.Result r = b.run();
            assertEquals(1, r.exit(), dest + ": " + r.out() + r.err());
            assertTrue(r.err().startsWith("brig: " + b.dir().resolve("config.json") + ": mounts[" + n + "].destination: "), r.err());
            assertFalse(Files.exists(b.stateRoot().resolve(b.id())));
        }
    }

    @Test
    void procAndSysfsAreNotMountedWhereAnImageSymlinkPoints() throws Exception {
        // CVE-2023-28642's pattern: with /proc -> / procfs would cover the container's root.
        for (String[] c : List.of(new String[] {"proc", "/"}, new String[] {"proc", "../etc"}, new String[] {"sys", "/tmp/s"})) {
            TestBundle b = TestBundle.busybox(dir.resolve("b" + c[0] + Math.abs(c[1].hashCode()))).sh("echo RAN");
            Files.delete(b.rootfs().resolve(c[0]));
            Files.createSymbolicLink(b.rootfs().resolve(c[0]), Path.of(c[1]));
            Brig.Result r = b.run();
            assertEquals(1, r.exit(), c[1] + ": " + r.out() + r.err());
            assertFalse(r.out().contains("RAN"));
            assertTrue(r.err().startsWith("brig: mount " + (c[0].equals("proc") ? "proc" : "sysfs") + " on /" + c[0])
                    && r.err().endsWith(": /" + c[0] + " is a symlink in the rootfs (or lies under one): refused\n"), r.err());
        }
    }

    @Test
    void mountThatASymlinkLeadsOntoProcIsRefused() throws Exception {
        for (String link : List.of("/proc", "../../proc")) {
            TestBundle b = TestBundle.busybox(dir.resolve("b" + Math.abs(link.hashCode()))).sh("echo RAN");
            Files.createSymbolicLink(b.rootfs().resolve("data"), Path.of(link));
            b.add("mounts", "{\"destination\":\"/data\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}");
            Brig.Result r = b.run();
            assertEquals(1, r.exit(), link + ": " + r.out() + r.err());
            assertFalse(r.out().contains("RAN"));
            assertEquals("brig: mount tmpfs on /data in the container: /data leads into the container's /proc "
                    + "(a symlink in the rootfs?): refused\n", r.err());
        }
    }
}
