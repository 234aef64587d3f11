package brig.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.json.JsonException;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecReaderTest {

    private static JsonObject defaults() {
        return SpecDefaults.config(false, 0, 0);
    }

    private static String error(Consumer<JsonObject> edit) {
        JsonObject c = defaults();
        edit.accept(c);
        return assertThrows(JsonException.class, () -> SpecReader.parse(c)).getMessage();
    }

    @Test
    void readsRuncsDefaultConfig() throws Exception {
        Spec s = SpecReader.parse(defaults());
        assertEquals(List.of("sh"), s.process().args());
        assertTrue(s.process().terminal());
        assertEquals("rootfs", s.root().path());
        assertTrue(s.root().readonly());
        assertEquals(7, s.mounts().size());
        assertTrue(s.linux().creates(NamespaceType.PID));
        assertEquals(List.of(Capability.CAP_AUDIT_WRITE, Capability.CAP_KILL, Capability.CAP_NET_BIND_SERVICE),
                s.process().capabilities().bounding());
        assertNull(s.process().capabilities().inheritable());
        assertEquals(RlimitType.RLIMIT_NOFILE, s.process().rlimits().get(0).type());
        assertEquals(1, s.linux().resources().devices().size());
    }

    @Test
    void ignoresUnknownFields() throws Exception {
        JsonObject c = defaults();
        c.addProperty("somethingNew", 1);
        c.getAsJsonObject("process").addProperty("futureField", "x");
        c.getAsJsonObject("linux").add("futureObject", new JsonObject());
        // read exactly as the config without them: nothing lost, nothing invented
        assertEquals(SpecReader.parse(defaults()), SpecReader.parse(c));
    }

    @Test
    void namesTheFieldOfABadValue() {
        assertEquals("process.user.uid: expected a number, got the string \"zero\"",
                error(c -> c.getAsJsonObject("process").getAsJsonObject("user").addProperty("uid", "zero")));
        assertEquals("process.user.uid: expected a number from 0 to 4294967295, got -1",
                error(c -> c.getAsJsonObject("process").getAsJsonObject("user").addProperty("uid", -1)));
        assertEquals("process.cwd: must be an absolute path, got \"tmp\"",
                error(c -> c.getAsJsonObject("process").addProperty("cwd", "tmp")));
        assertEquals("process.capabilities.bounding[1]: unknown capability \"CAP_FLY\"",
                error(c -> c.getAsJsonObject("process").getAsJsonObject("capabilities").getAsJsonArray("bounding").set(1, new com.google.gson.JsonPrimitive("CAP_FLY"))));
        assertEquals("linux.namespaces[0].type: unknown namespace type \"pidd\"",
                error(c -> c.getAsJsonObject("linux").getAsJsonArray("namespaces").get(0).getAsJsonObject().addProperty("type", "pidd")));
        assertEquals("process.rlimits[0].type: unknown resource limit \"RLIMIT_FOO\"",
                error(c -> c.getAsJsonObject("process").getAsJsonArray("rlimits").get(0).getAsJsonObject().addProperty("type", "RLIMIT_FOO")));
        assertEquals("root: required but missing", error(c -> c.remove("root")));
        assertEquals("mounts[0].destination: must be an absolute path, got \"proc\"",
                error(c -> c.getAsJsonArray("mounts").get(0).getAsJsonObject().addProperty("destination", "proc")));
        assertEquals("process.terminal: expected true or false, got the string \"yes\"",
                error(c -> c.getAsJsonObject("process").addProperty("terminal", "yes")));
    }

    @Test
    void refusesFeaturesNotThereYet() {
        assertEquals("linux.resources.memory.checkBeforeUpdate: not supported yet",
                error(c -> c.getAsJsonObject("linux").getAsJsonObject("resources").add("memory", Json.parseQuietly("{\"checkBeforeUpdate\":true}"))));
    }

    @Test
    void emptyObjectsOfMissingFeaturesAreFine() throws Exception {
        JsonObject c = defaults();
        c.getAsJsonObject("linux").getAsJsonObject("resources").add("memory", new JsonObject());
        c.getAsJsonObject("linux").add("seccomp", com.google.gson.JsonNull.INSTANCE);
        Spec s = SpecReader.parse(c);
        // they ask for nothing, so the container is the one the config without them describes
        assertEquals(SpecReader.parse(defaults()), s);
        assertEquals(1, s.linux().resources().devices().size(), "the device rules are still read");
    }

    @Test
    void malformedJsonNamesTheFileAndPlace(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{\n  \"ociVersion\": \"1.0.2\",\n  \"process\": {\n}");
        SpecException e = assertThrows(SpecException.class, () -> SpecReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ": malformed JSON: "), e.getMessage());
        assertTrue(e.getMessage().contains("line 4"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line");
    }

    @Test
    void badSyntaxSaysWhereWithoutTheParsersAdviceToItsProgrammer(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("config.json");
        Files.writeString(f, "{bad");
        SpecException e = assertThrows(SpecException.class, () -> SpecReader.read(f));
        assertEquals(f + ": malformed JSON: bad syntax at line 1 column 3 path $.", e.getMessage());
    }

    @Test
    void missingFileSaysSo(@TempDir Path dir) {
        SpecException e = assertThrows(SpecException.class, () -> SpecReader.read(dir.resolve("config.json")));
        assertEquals(dir.resolve("config.json") + ": ENOENT: no such file or directory", e.getMessage());
    }
}
