package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** kill's signal names and ps's filtering, without root. */
class SignalsAndPsTest {
    @Test
    void signalsByNameWithAndWithoutSigAnyCaseAndByNumber() throws Exception {
        for (String s : List.of("KILL", "SIGKILL", "kill", "sigkill", "9")) assertEquals(9, Signals.parse(s), s);
        assertEquals(15, Signals.parse("TERM"));
        assertEquals(10, Signals.parse("USR1"));
        assertEquals(34, Signals.parse("34"));
        for (String s : List.of("NOSUCH", "SIG", "0", "65", "-9", "", "99999999999")) {
            BrigException e = assertThrows(BrigException.class, () -> Signals.parse(s), s);
            assertEquals("unknown signal \"" + s + "\"", e.getMessage());
        }
    }

    @Test
    void psKeepsTheHeaderAndTheContainersLinesByThePidColumn() throws Exception {
        String out = """
                UID          PID    PPID  C STIME TTY          TIME CMD
                root           1       0  0 09:00 ?        00:00:01 /sbin/init
                root         120       1  0 09:00 ?        00:00:00 sleep 120
                root        1200     120  0 09:00 ?        00:00:00 sh -c echo 120
                """;
        assertEquals("UID          PID    PPID  C STIME TTY          TIME CMD\n"
                + "root        1200     120  0 09:00 ?        00:00:00 sh -c echo 120\n", PsTable.filter(out, List.of(1200)));
        assertEquals("    PID COMMAND\n", PsTable.filter("    PID COMMAND\n      7 x\n", List.of(8)));
        BrigException e = assertThrows(BrigException.class, () -> PsTable.filter("USER COMMAND\nroot x\n", List.of(1)));
        assertEquals("couldn't find PID field in ps output", e.getMessage());
    }
}
