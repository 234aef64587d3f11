package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command table and the one error handler through the real launcher: help from the
 * table, runc's words and statuses, relative paths from the caller's directory, and the error
 * an engine reads from a JSON --log.
 */
@ExtendWith(NoLeaks.class)
class CommandLineIT {
    @TempDir Path dir;

    @Test
    void helpComesFromTheTable() {
        Brig.Result all = Brig.run(dir, "--help").expect(0);
        for (String verb : List.of("spec", "run", "delete", "create", "start", "state", "list", "ps", "kill", "pause", "resume", "update", "exec", "events", "features", "demo", "pull", "images", "inspect", "rmi", "import", "unpack", "copy")) {
            assertTrue(all.out().contains("\n   " + verb + " "), verb + " in\n" + all.out());
        }
        assertTrue(all.out().contains("(not yet: checkpoint restore)"), all.out());
        String viaHelp = Brig.run(dir, "help", "run").expect(0).out();
        assertEquals(viaHelp, Brig.run(dir, "run", "--help").expect(0).out());
        assertEquals(viaHelp, Brig.run(dir, "run", "-h").expect(0).out());
        assertTrue(viaHelp.startsWith("usage: brig run [options] <container-id>\n"), viaHelp);
        assertTrue(viaHelp.contains("--pid-file value"), viaHelp);
        assertTrue(Brig.run(dir, "images", "--help").expect(0).out().contains("--store value"));
        Brig.Result unknown = Brig.run(dir, "help", "frobnicate").expect(3);
        assertEquals("No help topic for 'frobnicate'\n", unknown.err());
        assertEquals("brig: \"checkpoint\" is not supported yet\n", Brig.run(dir, "checkpoint", "x").expect(1).err());
    }

    @Test
    void theLastJsonErrorLineIsTheFailureWithItsDetails() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle/rootfs")).getParent();
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.2.0\", \"process\": {\"args\": 5}}");
        // Relative --root, --log and --bundle: from the caller's directory.
        Brig.Result r = Brig.run(dir, List.of("--root=state", "--log", "log.json", "--log-format=json", "--log-format", "json",
                "run", "--bundle", "bundle", NoLeaks.PREFIX + "cli"), null, Map.of(), 60).expect(1);
        List<String> lines = Files.readAllLines(dir.resolve("log.json"));
        JsonObject last = Json.parse(lines.get(lines.size() - 1)).getAsJsonObject();
        assertEquals("error", last.get("level").getAsString());
        assertEquals("brig: " + last.get("msg").getAsString() + "\n", r.err());
        assertEquals("process.args", last.get("field").getAsString());
        assertEquals(bundle.resolve("config.json").toString(), last.get("path").getAsString());
        assertFalse(Files.exists(dir.resolve("state/" + NoLeaks.PREFIX + "cli")), "nothing half-made");
    }

    /**
     * A cold call of a light verb starts its JVM with the AOT cache trained on that verb alone
     * (src/build/train-verbs.sh: a cold state ~7 ms sooner), any other verb with the full one:
     * seen in the files the call's processes open.
     */
    @Test
    void aColdLightVerbStartsFromItsOwnAotCache() throws Exception {
        assertTrue(Files.isRegularFile(Brig.dist().resolve("lib/aot/state.aot")), "the build, as root, trains state's cache");
        for (var c : List.of(List.of("state", "lib/aot/state.aot"), List.of("delete", "lib/aot/delete.aot"), List.of("list", "lib/brig.aot"))) {
            Path trace = dir.resolve(c.get(0) + ".trace");
            Brig.Result r = Brig.exec(dir, List.of("strace", "-f", "-qq", "-e", "trace=open,openat", "-o", trace.toString(), Brig.launcher().toString(),
                    "--no-server", "--root", dir.resolve("state").toString(), c.get(0), NoLeaks.PREFIX + "none"), null, Map.of(), 60);
            // Used, not only opened: a cache trained with other flags than the cold path's is
            // refused by the JVM, which says so on stderr (train-verbs.sh repeats bin/brig's flags).
            assertFalse(r.err().contains("[aot]"), c + ": " + r.err());
            String opened = Files.readString(trace);
            assertTrue(opened.contains("\"" + Brig.dist().resolve(c.get(1)) + "\""), c + " in\n" + opened.lines().filter(l -> l.contains(".aot")).toList());
        }
    }
}
