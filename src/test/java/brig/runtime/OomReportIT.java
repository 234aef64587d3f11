package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * `brig run` tells the user when the OOM killer struck in the container: one line on stderr,
 * and the exit status shows the kill. Under bin/brig the supervisor reports it after the JVM
 * has gone; without it (plain java, the library's Started.waitFor) brig itself does.
 */
@ExtendWith(NoLeaks.class)
class OomReportIT {
    @TempDir Path dir;

    /** The lab's memory eater: sh keeps what a command substitution prints, 300 MiB of it. */
    private static final String EAT = "x=$(head -c 314572800 /dev/zero | tr '\\0' a)";

    private TestBundle limited(String script) throws Exception {
        TestBundle b = TestBundle.busybox(dir).sh(script);
        b.set("linux.resources", "{\"memory\":{\"limit\":104857600,\"swappiness\":0}}");
        return b;
    }

    private static String report(TestBundle b) {
        return "brig: container " + b.id() + ": out of memory: the OOM killer killed a process (memory limit 100 MiB)\n";
    }

    @Test
    void aContainerKilledByTheOomKillerSaysSoAndExits137() throws Exception {
        TestBundle b = limited("echo eating; " + EAT + "; echo survived");
        Brig.Result r = b.run(null, 30);
        assertEquals("eating\n", r.out(), r.err());
        assertEquals(137, r.exit(), r.err());
        assertEquals(report(b), r.err());
    }

    @Test
    void aKillByTheUserIsNotAnOom() throws Exception {
        // Without a pid namespace of its own: the init of one ignores a SIGKILL from inside.
        TestBundle b = limited("echo dying; kill -9 $$");
        com.google.gson.JsonArray ns = new com.google.gson.JsonArray();
        for (var n : b.linux().getAsJsonArray("namespaces")) {
            if (!n.getAsJsonObject().get("type").getAsString().equals("pid")) ns.add(n);
        }
        b.linux().add("namespaces", ns);
        Brig.Result r = b.run(null, 30);
        assertEquals(137, r.exit(), r.err());
        assertEquals("dying\n", r.out());
        assertEquals("", r.err(), "a SIGKILL that is no OOM says nothing");
    }

    @Test
    void aProcessKilledInsideIsReportedThoughTheContainerEndsWell() throws Exception {
        // The subshell eats and is killed; the first process goes on and exits 0.
        TestBundle b = limited("(" + EAT + "); echo the eater ended with $?");
        Brig.Result r = b.run(null, 30);
        assertEquals("the eater ended with 137\n", r.out(), r.err());
        assertEquals(0, r.exit(), r.err());
        assertEquals("Killed\n" + report(b), r.err(), "the shell's word for its child, then brig's");
    }

    @Test
    void withoutTheSupervisorBrigReportsItItself() throws Exception {
        // Plain java, as a program using the library would: Started.waitFor reads the count.
        TestBundle b = limited("echo eating; " + EAT + "; echo survived");
        b.write();
        Path home = Brig.dist();
        Brig.Result r = Brig.exec(dir, List.of(home.resolve("runtime/bin/java").toString(), "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", "-Dbrig.home=" + home, "-cp",
                home.resolve("lib/brig.jar").toString(), "brig.cli.Main", "--root", b.stateRoot().toString(), "run",
                "--bundle", dir.toString(), b.id()), null, Map.of(), 30);
        assertEquals("eating\n", r.out(), r.err());
        assertEquals(137, r.exit(), r.err());
        assertEquals(report(b), r.err());
    }
}
