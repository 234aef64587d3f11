package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.rootfs.MountOptions;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * `brig features` tells the truth: every name it lists is one the spec reader and the planner
 * accept, and every name of the runtime-spec they accept is listed; every feature it says is
 * off is one the reader refuses.
 */
class FeaturesTest {
    private final JsonObject doc = Features.document("test");

    private List<String> list(JsonObject o, String key) {
        List<String> out = new ArrayList<>();
        o.getAsJsonArray(key).forEach(e -> out.add(e.getAsString()));
        return out;
    }

    private JsonObject linux() {
        return doc.getAsJsonObject("linux");
    }

    /** Whether the reader and the planner take the default config edited so. */
    private static boolean accepted(Consumer<JsonObject> edit) {
        try {
            PlannerTest.plan(edit);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static JsonElement json(String text) {
        return Json.parseQuietly(text);
    }

    @Test
    void hasTheKeysOfTheSpecVersionItNames() {
        assertEquals(Set.of("ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations",
                "potentiallyUnsafeConfigAnnotations"), doc.keySet());
        // runtime-spec 1.2.0's features-linux.md: no memoryPolicy or netDevices (later versions).
        assertEquals(Set.of("namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux", "intelRdt",
                "mountExtensions"), linux().keySet());
        assertEquals("1.2.0", doc.get("ociVersionMax").getAsString());
        assertEquals(Set.of("v1", "v2", "systemd", "systemdUser", "rdma"), linux().getAsJsonObject("cgroup").keySet());
    }

    @Test
    void theReaderAcceptsTheVersionsItClaims() {
        for (String key : List.of("ociVersionMin", "ociVersionMax")) {
            String v = doc.get(key).getAsString();
            assertTrue(accepted(c -> c.addProperty("ociVersion", v)), key + " " + v);
        }
    }

    @Test
    void namespacesAreExactlyThoseTheReaderAccepts() {
        List<String> listed = list(linux(), "namespaces");
        // Every namespace type of the runtime-spec (config-linux.md).
        for (String ns : List.of("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time")) {
            boolean ok = accepted(c -> {
                JsonArray a = c.getAsJsonObject("linux").getAsJsonArray("namespaces");
                a.asList().removeIf(e -> e.getAsJsonObject().get("type").getAsString().equals(ns));
                a.add(json("{\"type\":\"" + ns + "\"}"));
                if (ns.equals("user")) {
                    c.getAsJsonObject("linux").add("uidMappings", json("[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"));
                    c.getAsJsonObject("linux").add("gidMappings", json("[{\"containerID\":0,\"hostID\":100000,\"size\":65536}]"));
                }
            });
            assertEquals(ok, listed.contains(ns), ns + (ok ? " is accepted but not listed" : " is listed but refused"));
        }
        assertFalse(listed.contains("time"), "the helper's clone cannot make a time namespace");
    }

    @Test
    void everyCapabilityListedIsAccepted() {
        List<String> caps = list(linux(), "capabilities");
        assertTrue(caps.containsAll(List.of("CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_CHECKPOINT_RESTORE")), caps.toString());
        assertTrue(accepted(c -> {
            JsonArray a = new JsonArray();
            caps.forEach(a::add);
            c.getAsJsonObject("process").getAsJsonObject("capabilities").add("bounding", a);
        }));
        assertFalse(accepted(c -> c.getAsJsonObject("process").getAsJsonObject("capabilities").add("bounding", json("[\"CAP_NOPE\"]"))));
    }

    /** The runtime-spec's own list of mount options (features.md's example). */
    private static final List<String> SPEC_MOUNT_OPTIONS = List.of("acl", "async", "atime", "bind", "defaults", "dev",
            "diratime", "dirsync", "exec", "iversion", "lazytime", "loud", "mand", "noacl", "noatime", "nodev", "nodiratime",
            "noexec", "noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid", "nosymfollow", "private",
            "ratime", "rbind", "rdev", "rdiratime", "relatime", "remount", "rexec", "rnoatime", "rnodev", "rnodiratime",
            "rnoexec", "rnorelatime", "rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw",
            "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave",
            "strictatime", "suid", "symfollow", "sync", "tmpcopyup", "unbindable");

    @Test
    void everyMountOptionListedIsAcceptedAndAppliedByBrig() {
        List<String> listed = list(doc, "mountOptions");
        assertEquals(MountOptions.known(), listed);
        for (String o : listed) {
            // Recognized: applied as a flag, a bind or a propagation, never handed to the filesystem.
            assertEquals("", assertDoesNotThrow(() -> MountOptions.parse(List.of(o)), o).data(), o);
            String source = o.endsWith("bind") ? "/tmp" : "tmpfs"; // a bind needs a source there is
            assertTrue(accepted(c -> c.getAsJsonArray("mounts").add(json(
                    "{\"destination\":\"/x\",\"type\":\"tmpfs\",\"source\":\"" + source + "\",\"options\":[\"" + o + "\"]}"))), o);
        }
        // And what Brig applies itself of the spec's list is listed.
        for (String o : SPEC_MOUNT_OPTIONS) {
            boolean applied;
            try {
                applied = MountOptions.parse(List.of(o)).data().isEmpty();
            } catch (IllegalArgumentException e) {
                applied = false;
            }
            assertEquals(applied, listed.contains(o), o);
        }
    }

    @Test
    void hooksAreExactlyThoseTheReaderAccepts() {
        List<String> listed = list(doc, "hooks");
        for (String h : List.of("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")) {
            boolean ok = accepted(c -> c.add("hooks", json("{\"" + h + "\":[{\"path\":\"/bin/true\"}]}")));
            assertEquals(ok, listed.contains(h), h + (ok ? " is accepted but not listed" : " is listed but refused"));
        }
    }

    @Test
    void whatIsOffIsWhatTheReaderRefuses() {
        JsonObject l = linux();
        assertEquals(accepted(c -> c.getAsJsonObject("linux").add("seccomp", json("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}"))),
                l.getAsJsonObject("seccomp").get("enabled").getAsBoolean(), "seccomp");
        assertEquals(accepted(c -> c.getAsJsonObject("linux").add("intelRdt", json("{\"closID\":\"x\"}"))),
                l.getAsJsonObject("intelRdt").get("enabled").getAsBoolean(), "intelRdt");
        assertEquals(accepted(c -> c.getAsJsonArray("mounts").add(json("{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/tmp\","
                        + "\"options\":[\"bind\"],\"uidMappings\":[{\"containerID\":0,\"hostID\":1000,\"size\":1}]}"))),
                l.getAsJsonObject("mountExtensions").getAsJsonObject("idmap").get("enabled").getAsBoolean(), "idmap");
        // Brig applies no LSM profile or label (a host without the LSM lets the fields pass unused).
        assertFalse(l.getAsJsonObject("apparmor").get("enabled").getAsBoolean());
        assertFalse(l.getAsJsonObject("selinux").get("enabled").getAsBoolean());
        // No systemd cgroup driver.
        assertFalse(l.getAsJsonObject("cgroup").get("systemd").getAsBoolean());
        assertFalse(l.getAsJsonObject("cgroup").get("systemdUser").getAsBoolean());
        assertEquals(SpecReader.knownHooks(), list(doc, "hooks"));
    }

    @Test
    void theDefaultConfigUsesOnlyListedNames() throws Exception {
        // What `brig spec` writes is within what features claims.
        JsonObject c = SpecDefaults.config(false, 0, 0);
        List<String> ns = list(linux(), "namespaces"), caps = list(linux(), "capabilities"), opts = list(doc, "mountOptions");
        c.getAsJsonObject("linux").getAsJsonArray("namespaces").forEach(n -> assertTrue(ns.contains(n.getAsJsonObject().get("type").getAsString())));
        c.getAsJsonObject("process").getAsJsonObject("capabilities").getAsJsonArray("bounding").forEach(n -> assertTrue(caps.contains(n.getAsString())));
        for (JsonElement m : c.getAsJsonArray("mounts")) {
            if (!m.getAsJsonObject().has("options")) continue;
            for (JsonElement o : m.getAsJsonObject().getAsJsonArray("options")) {
                // Listed, or filesystem data ("mode=755", "newinstance"), which the document leaves out.
                String s = o.getAsString();
                assertTrue(opts.contains(s) || !MountOptions.parse(List.of(s)).data().isEmpty(), s);
            }
        }
    }
}
