package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ArgsTest {
    static final List<Args.Flag> FLAGS = List.of(Args.Flag.value("", "bundle", "b"), Args.Flag.bool("", "detach", "d"),
            Args.Flag.value("", "root"));

    @Test
    void readsFlagsAsGoDoes() throws Exception {
        Args a = Args.parse(List.of("--root=/r", "-b", "/x", "-detach", "id", "--bundle", "y"), 0, FLAGS, true);
        assertEquals("/r", a.value("root", null));
        assertEquals("/x", a.value("bundle", null));
        assertTrue(a.bool("detach"));
        assertEquals(List.of("id", "--bundle", "y"), a.positional());
    }

    @Test
    void booleansTakeAnExplicitValue() throws Exception {
        assertFalse(Args.parse(List.of("--detach=false"), 0, FLAGS, true).bool("detach"));
        assertThrows(Args.UsageException.class, () -> Args.parse(List.of("--detach=maybe"), 0, FLAGS, true));
    }

    @Test
    void unknownFlagsAreErrorsInRuncsWords() {
        assertEquals("flag provided but not defined: -foo",
                assertThrows(Args.UsageException.class, () -> Args.parse(List.of("--foo"), 0, FLAGS, true)).getMessage());
        assertEquals("flag needs an argument: -bundle",
                assertThrows(Args.UsageException.class, () -> Args.parse(List.of("--bundle"), 0, FLAGS, true)).getMessage());
    }
}
