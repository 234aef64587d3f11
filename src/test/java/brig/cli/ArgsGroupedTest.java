package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docker's grouped one-letter flags, as `brig container ...` and the image verbs read them; runc's verbs do not. */
class ArgsGroupedTest {
    static final List<Args.Flag> FLAGS = List.of(Args.Flag.bool("", "interactive", "i"), Args.Flag.bool("", "tty", "t"),
            Args.Flag.bool("", "detach", "d"), Args.Flag.value("", "env", "e"), Args.Flag.value("", "memory", "m"),
            Args.Flag.bool("", "rm"), Args.Flag.value("", "network", "net"), Args.Flag.value("", "name"));

    static Args grouped(String... argv) throws Args.UsageException {
        return Args.parseGrouped(List.of(argv), 0, FLAGS, true);
    }

    @Test
    void booleansGoTogetherInAnyOrder() throws Exception {
        for (String g : List.of("-it", "-ti", "-dit", "-itd", "-tid")) {
            Args a = grouped(g, "busybox", "-x");
            assertTrue(a.bool("interactive") && a.bool("tty"), g);
            assertEquals(g.contains("d"), a.bool("detach"), g);
            assertEquals(List.of("busybox", "-x"), a.positional(), g);
        }
    }

    @Test
    void aValueFlagLastTakesTheNextArgumentOrTheRestOfTheGroup() throws Exception {
        Args a = grouped("-ite", "FOO=1", "-e", "BAR=2", "busybox");
        assertTrue(a.bool("interactive") && a.bool("tty"));
        assertEquals(List.of("FOO=1", "BAR=2"), a.values("env"));
        assertEquals(List.of("busybox"), a.positional());
        assertEquals("100m", grouped("-m100m").value("memory", null));
        assertEquals("K=V", grouped("-ie=K=V").value("env", null));
        Args b = grouped("-dm", "1g", "img");
        assertTrue(b.bool("detach"));
        assertEquals("1g", b.value("memory", null));
        // a boolean given a value ends the group, as pflag's
        assertFalse(grouped("-it=false").bool("tty"));
    }

    @Test
    void wholeNamesStillWinAndLongFormsAreUntouched() throws Exception {
        Args a = grouped("-rm", "-net", "host", "--name=n", "-e", "A=1", "img");
        assertTrue(a.bool("rm"));
        assertEquals("host", a.value("network", null));
        assertEquals("n", a.value("name", null));
        assertEquals(List.of("A=1"), a.values("env"));
    }

    @Test
    void errorsNameTheLetterAndTheGroup() {
        assertEquals("unknown shorthand flag: 'x' in -itx",
                assertThrows(Args.UsageException.class, () -> grouped("-itx")).getMessage());
        assertEquals("flag needs an argument: 'e' in -ite",
                assertThrows(Args.UsageException.class, () -> grouped("-ite")).getMessage());
        // nothing of it is a flag: the words of before
        assertEquals("flag provided but not defined: -foo",
                assertThrows(Args.UsageException.class, () -> grouped("-foo")).getMessage());
        assertEquals("flag provided but not defined: -it",
                assertThrows(Args.UsageException.class, () -> grouped("--it")).getMessage());
    }

    @Test
    void runcsGrammarReadsAGroupAsOneName() {
        // engines call runc's verbs: "-it" is a flag named "it" there, as in Go's flag package
        assertEquals("flag provided but not defined: -it",
                assertThrows(Args.UsageException.class, () -> Args.parse(List.of("-it"), 0, FLAGS, true)).getMessage());
    }

    @TempDir Path dir;

    /** Through the real command table, in this JVM (no root: the run stops at the image, after the flags). */
    private String main(int status, String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        Invocation inv = new Invocation(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(), dir, 022, new Invocation.Caller(4242, 0, 0),
                Invocation.Globals.DEFAULT, Invocation.Host.detached(Path.of("/nonexistent/brig")));
        assertEquals(status, Main.run(inv, List.of(argv)), () -> err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theContainerAndImageVerbsGroupRuncsDoNot() {
        String store = dir.resolve("store").toString();
        String run = main(125, "--root", dir.resolve("state").toString(), "container", "run", "--store", store, "--pull=never", "-it",
                "-ite", "A=1", "--rm", "nosuch:latest", "sh");
        assertFalse(run.contains("flag"), run); // the flags parsed: what fails is the missing image
        assertTrue(run.contains("nosuch"), run);
        assertTrue(main(125, "container", "run", "-itx", "img").contains("unknown shorthand flag: 'x' in -itx"));
        assertTrue(main(0, "images", "--store", store, "-qh").startsWith("usage: brig images"));
        assertTrue(main(1, "--root", dir.resolve("state").toString(), "run", "-dt", "id").contains("flag provided but not defined: -dt"));
    }
}
