package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * `brig container run` without --rm: once the container has exited its supervisor removes the
 * runtime's part itself and marks the bundle exited (brig.runtime.Teardown), with no
 * `container cleanup` JVM; strace of the call shows it. (--rm removes the bundle too, which is
 * Java's: ContainerRunIT covers it.)
 */
@ExtendWith(NoLeaks.class)
class ContainerRunTeardownIT extends ContainerITBase {

    @ParameterizedTest(name = "warm={0}")
    @ValueSource(booleans = {false, true})
    void aKeptContainerIsMarkedExitedWithoutAnotherJvm(boolean warm) throws Exception {
        Map<String, String> env = warm ? Map.of() : Map.of("BRIG_SERVER", "off");
        if (warm) container("ps").expect(0); // the server is up: its start is not this run's
        String n = name("kept");
        Path trace = tmp.resolve("trace");
        Brig.Result r = Brig.exec(tmp, List.of("strace", "-f", "-qq", "-e", "trace=execve,rmdir", "-o", trace.toString(),
                Brig.launcher().toString(), "--root", state.toString(), "container", "run", "--store", store.toString(),
                "--pull=never", "--name", n, "plain", "true"), null, env, 120);
        assertEquals(0, r.exit(), r.err());
        List<String> lines = Files.readAllLines(trace);
        String java = Brig.dist().resolve("runtime/bin/java").toString(), brig = Brig.launcher().toString();
        assertEquals(warm ? 0 : 1, lines.stream().filter(l -> l.contains("execve(\"" + java + "\"") && l.endsWith("= 0")).count(),
                String.join("\n", lines));
        assertEquals(1, lines.stream().filter(l -> l.contains("execve(\"" + brig + "\"") && l.endsWith("= 0")).count(),
                "bin/brig ran again (container cleanup):\n" + String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("rmdir(\"" + state.resolve(n) + "\") = 0")),
                "the caller's process did not remove the state directory itself:\n" + String.join("\n", lines));
        assertFalse(Files.exists(state.resolve(n)), "runtime state left");
        for (Path h : NoLeaks.cgroupHierarchies()) assertFalse(Files.exists(h.resolve("brig").resolve(n)), "cgroup left in " + h);
        assertTrue(container("ps", "-a").out().lines().anyMatch(l -> l.startsWith(n + " ") && l.endsWith("exited")), container("ps", "-a").out());
    }
}
