package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input: one line on stderr naming the file and field, exit 1, nothing left behind. */
@ExtendWith(NoLeaks.class)
class BadInputIT {
    @TempDir Path dir;

    private String refused(Consumer<TestBundle> edit) throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve(Long.toString(System.nanoTime()))).sh("true");
        edit.accept(b);
        Brig.Result r = b.run();
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().startsWith("brig: ") && r.err().endsWith("\n") && r.err().indexOf('\n') == r.err().length() - 1,
                "one line: " + r.err());
        assertFalse(Files.exists(b.stateRoot().resolve(b.id())), "state left behind");
        return r.err().substring("brig: ".length()).strip().replace(b.dir() + "/", "");
    }

    @Test
    void malformedJson() throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh("true");
        b.write();
        Files.writeString(dir.resolve("config.json"), "{\"ociVersion\": \"1.2.0\", \"process\": ");
        Brig.Result r = Brig.run(dir, "--root", b.stateRoot().toString(), "run", b.id());
        assertEquals(1, r.exit());
        assertTrue(r.err().startsWith("brig: " + dir.resolve("config.json") + ": malformed JSON: "), r.err());
        assertEquals(1, r.err().split("\n").length);
    }

    @Test
    void missingRootfs() throws Exception {
        assertEquals("config.json: root.path: " + "ROOT" + ": ENOENT: no such file or directory",
                refused(b -> b.set("root.path", "\"nowhere\"")).replaceFirst(": root.path: \\S+:", ": root.path: ROOT:"));
    }

    @Test
    void crossFieldRules() throws Exception {
        assertEquals("config.json: hostname: cannot set the hostname without a private UTS namespace",
                refused(b -> b.linux().getAsJsonArray("namespaces").remove(3)));
        assertEquals("config.json: linux.uidMappings: required with a new user namespace",
                refused(b -> b.add("linux.namespaces", "{\"type\":\"user\"}")));
        assertEquals("config.json: linux.uidMappings: id mappings need a new user namespace in linux.namespaces",
                refused(b -> b.set("linux.uidMappings", "[{\"containerID\":0,\"hostID\":1000,\"size\":1}]")));
        // Without a mount namespace the container shares its caller's (runtime-spec), where a
        // read-only root would remount the caller's own (ConformanceIT runs one without).
        assertEquals("config.json: root.readonly: needs a mount namespace of the container's own in linux.namespaces",
                refused(b -> b.linux().getAsJsonArray("namespaces").remove(4)));
        assertEquals("config.json: process.args: must not be empty", refused(b -> b.args()));
    }

    @Test
    void featuresNotThereYet() throws Exception {
        assertEquals("config.json: linux.resources.network.classID: the net_cls controller is not mounted on this host",
                refused(b -> b.set("linux.resources.network", "{\"classID\":1048577}")));
    }

    @Test
    void valuesTheKernelRefuses() throws Exception {
        // The hard limit is above what this process may raise to (no CAP_SYS_RESOURCE here, or
        // simply above the kernel's ceiling): the failing step and errno are named.
        String err = refused(b -> b.set("process.rlimits", "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1,\"hard\":4294967296}]"));
        assertTrue(err.startsWith("set RLIMIT_NOFILE to soft 1, hard 4294967296: setrlimit: E"), err);
    }

    @Test
    void badFlagsAndIds() {
        assertRefused("brig: invalid value \"x\" for flag -preserve-fds: parse error\n", Brig.run(dir, "run", "--preserve-fds", "x", "id"));
        assertRefused("brig: invalid id format: ../x\n", Brig.run(dir, "run", "../x"));
        assertRefused("brig: invalid log format \"xml\": use text or json\n", Brig.run(dir, "--log-format", "xml", "spec"));
        assertFalse(Files.exists(dir.resolve("config.json")), "spec ran despite the bad flag");
    }

    private static void assertRefused(String err, Brig.Result r) {
        assertEquals(err, r.err());
        assertEquals(1, r.exit(), r.err());
        assertEquals("", r.out());
    }
}
