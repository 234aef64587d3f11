package brig.spec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.json.JsonException;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks a malicious config.json makes (issue 6): numbers that expand to billions of digits,
 * and NUL bytes that make C see another string than Java checked ("/\0x" is "/" to mount(2)).
 */
class HostileConfigTest {
    @TempDir
    Path tmp;

    private static JsonObject defaults() {
        return SpecDefaults.config(false, 0, 0);
    }

    /** The error for the default config edited by {@code edit}, read from a file as runtimes do. */
    private String readError(Consumer<JsonObject> edit, String replace, String with) throws Exception {
        JsonObject c = defaults();
        edit.accept(c);
        Path file = tmp.resolve("config.json");
        Files.writeString(file, Json.pretty(c).replace(replace, with));
        return assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(SpecException.class, () -> SpecReader.read(file))).getMessage();
    }

    @Test
    void aNumberOfABillionDigitsIsRefusedAtOnceNamingTheField() throws Exception {
        Path file = tmp.resolve("config.json");
        String e = readError(c -> {}, "\"hard\": 1024", "\"hard\": 1e999999999");
        assertEquals(file + ": process.rlimits[0].hard: number 1e999999999 is out of range (at most 100 characters and an exponent of 400)", e);
        e = readError(c -> c.getAsJsonObject("process").getAsJsonObject("user").addProperty("uid", 7), "\"uid\": 7", "\"uid\": 7E+99999");
        assertTrue(e.contains("process.user.uid: number 7E+99999 is out of range"), e);
        e = readError(c -> c.addProperty("futureNumber", 1), "\"futureNumber\": 1", "\"futureNumber\": " + "9".repeat(500));
        assertTrue(e.contains("futureNumber: number 99999999999999999999...9999999999 (500 characters) is out of range"), e);
        // what a real number may be
        assertEquals(Long.MAX_VALUE, Json.parse("[9223372036854775807]").getAsJsonArray().get(0).getAsLong());
        Json.parse("{\"a\": 1.7976931348623157e308, \"b\": 4.9e-324}");
    }

    @Test
    void anImageConfigWithAnAbsurdNumberIsRefusedToo() {
        JsonException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(JsonException.class, () -> Json.parse("{\"config\": {\"x\": [1, 2e-999999999]}}")));
        assertEquals("config.x[1]: number 2e-999999999 is out of range (at most 100 characters and an exponent of 400)", e.getMessage());
    }

    private static String nulError(Consumer<JsonObject> edit) {
        JsonObject c = defaults();
        edit.accept(c);
        return assertThrows(JsonException.class, () -> SpecReader.parse(c)).getMessage();
    }

    private static JsonObject linux(JsonObject c) {
        return c.getAsJsonObject("linux");
    }

    private static JsonObject mount0(JsonObject c) {
        return c.getAsJsonArray("mounts").get(0).getAsJsonObject();
    }

    private static final String NUL = "must not contain a NUL character";

    @Test
    void nulInMountPathsSourcesTypesAndOptionsIsRefused() {
        assertEquals("mounts[0].destination: " + NUL, nulError(c -> mount0(c).addProperty("destination", "/\0x")));
        assertEquals("mounts[0].source: " + NUL, nulError(c -> mount0(c).addProperty("source", "/etc\0/shadow")));
        assertEquals("mounts[0].type: " + NUL, nulError(c -> mount0(c).addProperty("type", "proc\0x")));
        assertEquals("mounts[0].options[1]: " + NUL, nulError(c -> {
            JsonArray o = new JsonArray();
            o.add("nosuid");
            o.add("mode=755\0,suid");
            mount0(c).add("options", o);
        }));
        assertEquals("root.path: " + NUL, nulError(c -> c.getAsJsonObject("root").addProperty("path", "rootfs\0/..")));
    }

    @Test
    void nulInDevicePathsIsRefused() {
        assertEquals("linux.devices[0].path: " + NUL, nulError(c -> {
            JsonObject d = new JsonObject();
            d.addProperty("path", "/dev/\0null");
            d.addProperty("type", "c");
            d.addProperty("major", 1);
            d.addProperty("minor", 3);
            JsonArray a = new JsonArray();
            a.add(d);
            linux(c).add("devices", a);
        }));
    }

    @Test
    void nulInMaskedAndReadonlyPathsIsRefused() {
        assertEquals("linux.maskedPaths[0]: " + NUL, nulError(c -> linux(c).getAsJsonArray("maskedPaths").set(0, new com.google.gson.JsonPrimitive("/\0proc"))));
        assertEquals("linux.readonlyPaths[0]: " + NUL, nulError(c -> linux(c).getAsJsonArray("readonlyPaths").set(0, new com.google.gson.JsonPrimitive("/\0"))));
    }

    @Test
    void nulInHostnameSysctlsNamespacePathsAndCgroupsPathIsRefused() {
        assertEquals("hostname: " + NUL, nulError(c -> c.addProperty("hostname", "box\0evil")));
        assertEquals("domainname: " + NUL, nulError(c -> c.addProperty("domainname", "d\0")));
        assertEquals("linux.sysctl.net.ipv4.ip_forward: " + NUL, nulError(c -> {
            JsonObject s = new JsonObject();
            s.addProperty("net.ipv4.ip_forward", "1\0");
            linux(c).add("sysctl", s);
        }));
        assertEquals("linux.sysctl.kernel.\\0../../sys: " + NUL, nulError(c -> {
            JsonObject s = new JsonObject();
            s.addProperty("kernel.\0../../sys", "1");
            linux(c).add("sysctl", s);
        }), "the NUL is shown, not printed");
        assertEquals("linux.namespaces[0].path: " + NUL, nulError(c -> linux(c).getAsJsonArray("namespaces").get(0).getAsJsonObject()
                .addProperty("path", "/proc/1/ns/pid\0")));
        assertEquals("linux.cgroupsPath: " + NUL, nulError(c -> linux(c).addProperty("cgroupsPath", "/brig\0/x")));
    }

    @Test
    void nulInArgsEnvAndCwdIsRefused() {
        assertEquals("process.args[0]: " + NUL, nulError(c -> c.getAsJsonObject("process").getAsJsonArray("args").set(0, new com.google.gson.JsonPrimitive("sh\0-c"))));
        assertEquals("process.env[0]: " + NUL, nulError(c -> c.getAsJsonObject("process").getAsJsonArray("env").set(0, new com.google.gson.JsonPrimitive("PATH=/bin\0"))));
        assertEquals("process.cwd: " + NUL, nulError(c -> c.getAsJsonObject("process").addProperty("cwd", "/\0etc")));
    }
}
