package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** docker's clumps of one-letter booleans ("-dt", "-it"), as `brig container run` takes them. */
class ArgsClumpTest {
    static final List<Args.Flag> FLAGS = List.of(Args.Flag.bool("", "detach", "d"), Args.Flag.bool("", "tty", "t"),
            Args.Flag.bool("", "interactive", "i"), Args.Flag.value("", "memory", "m"));

    @Test
    void oneLetterBooleansGoTogether() throws Exception {
        Args a = Args.parse(List.of("-dit", "image", "-x"), 0, FLAGS, true);
        assertTrue(a.bool("detach") && a.bool("tty") && a.bool("interactive"));
        assertEquals(List.of("image", "-x"), a.positional());
    }

    @Test
    void aClumpWithAValueFlagOrAnUnknownLetterIsRefusedAsBefore() {
        assertEquals("flag provided but not defined: -dm",
                assertThrows(Args.UsageException.class, () -> Args.parse(List.of("-dm", "1g"), 0, FLAGS, true)).getMessage());
        assertEquals("flag provided but not defined: -dx",
                assertThrows(Args.UsageException.class, () -> Args.parse(List.of("-dx"), 0, FLAGS, true)).getMessage());
        assertEquals("flag provided but not defined: -dt",
                assertThrows(Args.UsageException.class, () -> Args.parse(List.of("--dt"), 0, FLAGS, true)).getMessage());
    }
}
