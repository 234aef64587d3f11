package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.Layout;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Docker's -i through the real CLI: without it the container's stdin is /dev/null (`echo hi |
 * brig container run IMAGE cat` prints nothing), with it the caller's; and docker's grouped
 * one-letter flags (-it, -ite K=V) give a terminal as -i -t do.
 */
@ExtendWith(NoLeaks.class)
class ContainerStdinIT {
    @TempDir Path tmp;
    Path store, state;

    @BeforeEach
    void image() throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "containers need root");
        store = tmp.resolve("store");
        state = tmp.resolve("state");
        ContainerImages.busybox(tmp, Layout.openOrCreate(store), "plain", ContainerImages.config("{\"Cmd\":[\"sh\"],\"Env\":[\"PATH=/bin\"]}"));
    }

    Brig.Result run(byte[] stdin, String... flagsImageAndCommand) {
        List<String> cmd = new ArrayList<>(List.of("--root", state.toString(), "container", "run", "--store", store.toString(), "--pull=never", "--rm"));
        cmd.addAll(List.of(flagsImageAndCommand));
        return Brig.run(tmp, cmd, stdin, Map.of(), 60);
    }

    @Test
    void withoutIStdinIsDevNullWithIItIsTheCallers() throws Exception {
        byte[] hi = "hi\n".getBytes(StandardCharsets.UTF_8);
        Brig.Result r = run(hi, "--name", NoLeaks.PREFIX + "stdin0", "plain", "cat");
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.out(), "without -i cat reads /dev/null");
        r = run(hi, "--name", NoLeaks.PREFIX + "stdin1", "plain", "sh", "-c", "cat; readlink /proc/self/fd/0");
        assertEquals("/dev/null\n", r.out(), r.err());
        r = run(hi, "--name", NoLeaks.PREFIX + "stdin2", "-i", "plain", "cat");
        assertEquals(0, r.exit(), r.err());
        assertEquals("hi\n", r.out(), "with -i the caller's stdin");
        assertTrue(Files.notExists(store.resolve("containers").resolve(NoLeaks.PREFIX + "stdin2")), "--rm");
    }

    @Test
    void groupedItGivesATerminal() {
        // script(1) gives brig a terminal as a person's shell would.
        String brig = Brig.launcher() + " --root " + state + " container run --store " + store + " --pull=never --rm --name " + NoLeaks.PREFIX + "stdinit";
        Brig.Result r = Brig.exec(tmp, List.of("/usr/bin/script", "-qec", brig + " -it plain sh -c 'tty; exit 6'", "/dev/null"), null, Map.of(), 60);
        assertEquals(6, r.exit(), r.out() + r.err());
        // contains, not startsWith: script(1) writes a NUL to the terminal at its stdin's end, echoed as "^@" before or after
        assertTrue(r.out().contains("/dev/pts/"), "-it: a terminal of the container's devpts: " + r.out());
        r = Brig.exec(tmp, List.of("/usr/bin/script", "-qec", brig + " -tie X=grouped plain sh -c 'echo $X; exit 7'", "/dev/null"), null, Map.of(), 60);
        assertEquals(7, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("grouped\r\n"), "-tie K=V: the value flag last takes the next argument: " + r.out());
    }
}
