package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.layer.TarEntry;
import brig.layer.TarWriter;
import com.google.gson.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands run for different callers in one JVM: each sees its own working directory,
 * environment, credentials and streams, and nothing reaches the JVM's own (the seam a resident
 * brig serving many callers needs). No root needed.
 */
class InvocationTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream jvmOut = new ByteArrayOutputStream(), jvmErr = new ByteArrayOutputStream();
    private PrintStream savedOut, savedErr;

    @BeforeEach
    void watchTheJvmsStreams() {
        savedOut = System.out;
        savedErr = System.err;
        System.setOut(new PrintStream(jvmOut, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(jvmErr, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void nothingReachedTheJvmsStreams() {
        System.setOut(savedOut);
        System.setErr(savedErr);
        assertEquals("", jvmOut.toString(StandardCharsets.UTF_8), "a command wrote to System.out");
        assertEquals("", jvmErr.toString(StandardCharsets.UTF_8), "a command wrote to System.err");
    }

    /** A caller: its directory, environment and uid, with streams of its own to read back. */
    static final class Caller {
        final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        final Invocation inv;

        Caller(Path cwd, Map<String, String> env, int uid) {
            inv = new Invocation(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), env, cwd, 022, new Invocation.Caller(4242 + uid, uid, uid + 1),
                    Invocation.Globals.DEFAULT, Invocation.Host.detached(Path.of("/nonexistent/brig")));
        }

        int run(String... argv) {
            return Main.run(inv, List.of(argv));
        }

        String out() {
            return out.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return err.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void specWritesIntoEachCallersDirectoryWithItsIds() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a")), b = Files.createDirectories(tmp.resolve("b"));
        Caller ca = new Caller(a, Map.of(), 1000), cb = new Caller(b, Map.of(), 2000);
        boolean inJvmsDirectory = Files.exists(Path.of("config.json"));
        assertEquals(0, ca.run("spec", "--rootless"));
        assertEquals(0, cb.run("spec", "--rootless"));
        assertEquals(1000, hostUid(a.resolve("config.json")));
        assertEquals(2000, hostUid(b.resolve("config.json")));
        assertEquals(inJvmsDirectory, Files.exists(Path.of("config.json")), "written into the JVM's working directory");
        // 0666 less the caller's umask (022)
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("config.json"))));

        // Again: each caller's own error, on its own stderr, naming the path as it gave it.
        assertEquals(1, ca.run("spec"));
        assertEquals("brig: File ./config.json exists. Remove it first\n", ca.err());
        assertEquals("", cb.err());
        assertEquals(1, cb.run("spec", "--bundle", "nowhere"));
        assertEquals("brig: chdir nowhere: ENOENT: no such file or directory\n", cb.err());
    }

    private static long hostUid(Path config) throws Exception {
        JsonObject c = Json.parse(Files.readString(config)).getAsJsonObject();
        return c.getAsJsonObject("linux").getAsJsonArray("uidMappings").get(0).getAsJsonObject().get("hostID").getAsLong();
    }

    @Test
    void imageVerbsUseEachCallersHomeAndPaths() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a")), b = Files.createDirectories(tmp.resolve("b"));
        Path homeA = Files.createDirectories(tmp.resolve("home-a")), homeB = Files.createDirectories(tmp.resolve("home-b"));
        writeTar(a.resolve("root.tar"));
        // Not root: the store is the caller's own, under its $HOME.
        Caller ca = new Caller(a, Map.of("HOME", homeA.toString()), 1000), cb = new Caller(b, Map.of("HOME", homeB.toString()), 1000);
        assertEquals(0, ca.run("import", "root.tar", "mine"), ca.err());
        assertTrue(ca.out().startsWith("sha256:"), ca.out());
        assertTrue(Files.exists(homeA.resolve(".local/share/brig/images/oci-layout")));
        assertFalse(Files.exists(homeB.resolve(".local/share/brig")));

        assertEquals(0, ca.run("images", "--format", "json"));
        assertTrue(ca.out().contains("localhost/mine"), ca.out());
        assertEquals(0, cb.run("images", "--format", "json"));
        assertEquals("[]\n", cb.out());

        // A relative path of b's is b's: no such tar in b.
        assertEquals(1, cb.run("import", "root.tar", "mine"));
        assertEquals("brig: root.tar: no such file\n", cb.err());
        // A caller without $HOME and not root must name a store.
        Caller none = new Caller(b, Map.of(), 1000);
        assertEquals(1, none.run("images"));
        assertEquals("brig: HOME is not set: give --store DIR\n", none.err());
    }

    @Test
    void errorsGoToEachCallersLogWithTheirDetails() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("a")), b = Files.createDirectories(tmp.resolve("b"));
        Files.createDirectories(a.resolve("bundle/rootfs"));
        Files.writeString(a.resolve("bundle/config.json"), "{\"ociVersion\": \"1.2.0\", \"process\": {\"args\": 5}}");
        Caller ca = new Caller(a, Map.of(), 0), cb = new Caller(b, Map.of(), 0);
        assertEquals(1, ca.run("--root", "state", "--log", "log.json", "--log-format", "json", "run", "--bundle", "bundle", "x"));
        assertEquals(1, cb.run("--log", "log.txt", "delete", "--bogus", "x"));

        List<String> lines = Files.readAllLines(a.resolve("log.json"));
        JsonObject last = Json.parse(lines.get(lines.size() - 1)).getAsJsonObject();
        assertEquals("error", last.get("level").getAsString());
        assertEquals(ca.err(), "brig: " + last.get("msg").getAsString() + "\n");
        assertTrue(last.get("msg").getAsString().startsWith(a.resolve("bundle/config.json") + ": process.args"), last.toString());
        // What the failure is about, typed, not parsed out of the message.
        assertEquals("process.args", last.get("field").getAsString());
        assertEquals(a.resolve("bundle/config.json").toString(), last.get("path").getAsString());
        assertTrue(last.has("time"));
        assertFalse(Files.exists(a.resolve("state/x")), "nothing half-made");

        assertEquals("brig: flag provided but not defined: -bogus\n", cb.err());
        String text = Files.readString(b.resolve("log.txt"));
        assertTrue(text.matches("time=\"[^\"]+\" level=error msg=\"flag provided but not defined: -bogus\"\n"), text);
        assertFalse(Files.exists(a.resolve("log.txt")));
    }

    @Test
    void helpComesFromTheTable() {
        Caller c = new Caller(tmp, Map.of(), 0);
        assertEquals(0, c.run("--help"));
        for (Command cmd : Main.COMMANDS) assertTrue(c.out().contains(cmd.verb()), cmd.verb());
        Caller h = new Caller(tmp, Map.of(), 0), v = new Caller(tmp, Map.of(), 0);
        assertEquals(0, h.run("help", "delete"));
        assertEquals(0, v.run("delete", "--help"));
        assertEquals(h.out(), v.out());
        assertTrue(h.out().startsWith("usage: brig delete [options] <container-id>\n"), h.out());
        assertTrue(h.out().contains("--force, -f"), h.out());

        Caller u = new Caller(tmp, Map.of(), 0);
        assertEquals(3, u.run("help", "frobnicate"));
        assertEquals("No help topic for 'frobnicate'\n", u.err());
        Caller n = new Caller(tmp, Map.of(), 0);
        assertEquals(1, n.run("checkpoint", "x"));
        assertEquals("brig: \"checkpoint\" is not supported yet\n", n.err());
    }

    @Test
    void globalFlagsAsRuncReadsThem() {
        // --flag=value and --flag value, repeated (the last wins), before the verb.
        Caller c = new Caller(tmp, Map.of(), 0);
        assertEquals(1, c.run("--root=one", "--root", "two", "--debug", "--debug", "delete", "nope"));
        // --debug without --log: its lines on stderr, as runc's (DebugFlagTest)
        assertTrue(c.err().contains("level=debug msg=\"brig --root=one --root two --debug --debug delete nope (root " + tmp.resolve("two")), c.err());
        assertTrue(c.err().endsWith("\nbrig: container does not exist\n"), c.err());
        Caller v = new Caller(tmp, Map.of(), 0);
        assertEquals(0, v.run("-v"));
        assertTrue(v.out().startsWith("brig version "), v.out());
        Caller f = new Caller(tmp, Map.of(), 0);
        assertEquals(1, f.run("--log-format", "xml", "delete", "x"));
        assertEquals("brig: invalid log format \"xml\": use text or json\n", f.err());
    }

    @Test
    void theProcessCallerComesFromProcStatus() {
        String status = "Name:\tjava\nUmask:\t0027\nState:\tR (running)\nPid:\t700\nPPid:\t699\nUid:\t1000\t1001\t1002\t1003\nGid:\t50\t51\t52\t53\n";
        assertEquals(027, Main.statusField(status, "Umask", 8, 022));
        assertEquals(700, Main.statusField(status, "Pid", 10, -1));
        assertEquals(699, Main.statusField(status, "PPid", 10, -1));
        assertEquals(1001, Main.statusField(status, "Uid", 10, -1), "the effective uid");
        assertEquals(51, Main.statusField(status, "Gid", 10, -1));
        assertEquals(-1, Main.statusField("", "Uid", 10, -1));
        Invocation real = Main.processInvocation();
        assertEquals(ProcessHandle.current().pid(), real.caller().pid());
        assertTrue(real.cwd().isAbsolute());
    }

    private static void writeTar(Path file) throws Exception {
        try (OutputStream out = Files.newOutputStream(file); TarWriter w = new TarWriter(out)) {
            w.write(new TarEntry("etc/", TarEntry.Type.DIRECTORY, 0755, 0, 0, 0, 0, 0, "", 0, 0, Map.of()), null);
            w.file("etc/passwd", 0644, "root:x:0:0:root:/root:/bin/sh\n".getBytes(StandardCharsets.UTF_8));
        }
    }
}
