package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.Tools;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `brig spec` and the command line's errors, as runc users know them. */
@org.junit.jupiter.api.extension.ExtendWith(brig.testing.NoLeaks.class)
class SpecCliIT {
    @TempDir Path dir;

    private static JsonObject read(Path p) throws Exception {
        JsonObject o = Json.parse(Files.readString(p)).getAsJsonObject();
        o.remove("ociVersion");
        o.remove("hostname");
        return o;
    }

    @Test
    void specIsRuncsDefault() throws Exception {
        Path mine = Files.createDirectories(dir.resolve("brig"));
        Brig.run(mine, "spec").expect(0);
        assertTrue(Files.readString(mine.resolve("config.json")).startsWith("{\n\t\"ociVersion\""));
        Path theirs = Files.createDirectories(dir.resolve("runc"));
        Tools.require("runc", "/usr/sbin/runc", "/usr/bin/runc");
        Brig.exec(theirs, List.of("runc", "spec"), null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 30).expect(0);
        assertEquals(read(theirs.resolve("config.json")), read(mine.resolve("config.json")));
    }

    @Test
    void rootlessSpecIsRuncsToo() throws Exception {
        Path mine = Files.createDirectories(dir.resolve("brig")), theirs = Files.createDirectories(dir.resolve("runc"));
        Tools.require("runc", "/usr/sbin/runc", "/usr/bin/runc");
        Brig.run(dir, "spec", "--rootless", "--bundle", mine.toString()).expect(0);
        Brig.exec(theirs, List.of("runc", "spec", "--rootless"), null, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 30).expect(0);
        assertEquals(read(theirs.resolve("config.json")), read(mine.resolve("config.json")));
    }

    @Test
    void specDoesNotOverwrite() throws Exception {
        Files.writeString(dir.resolve("config.json"), "mine");
        Brig.Result r = Brig.run(dir, "spec");
        assertEquals(1, r.exit());
        assertEquals("brig: File " + Path.of(".").resolve("config.json") + " exists. Remove it first\n", r.err());
        assertEquals("mine", Files.readString(dir.resolve("config.json")));
    }

    @Test
    void flagErrorsAreRuncs() {
        Brig.Result r = Brig.run(dir, "run", "--nope", "x");
        assertEquals(1, r.exit());
        assertEquals("brig: flag provided but not defined: -nope\n", r.err());
        assertEquals("brig: \"run\" requires exactly 1 argument(s)\n", Brig.run(dir, "run").err());
        Brig.Result unknown = Brig.run(dir, "frobnicate");
        assertEquals(3, unknown.exit());
        assertEquals("No help topic for 'frobnicate'\n", unknown.err());
        assertEquals("brig: invalid id format: a/b\n", Brig.run(dir, "run", "a/b").err());
    }

    @Test
    void logFileGetsJsonLinesForEngines() throws Exception {
        Path log = dir.resolve("log.json");
        Brig.run(dir, "--log", log.toString(), "--log-format", "json", "run", "--bundle", dir.resolve("none").toString(), "x");
        JsonObject line = Json.parse(Files.readString(log).strip()).getAsJsonObject();
        assertEquals("error", line.get("level").getAsString());
        assertTrue(line.get("msg").getAsString().contains("no such file or directory"), line.toString());
        assertTrue(line.has("time"));
    }
}
