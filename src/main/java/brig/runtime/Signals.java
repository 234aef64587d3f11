package brig.runtime;

import java.util.Locale;
import java.util.Map;

/** Signal names as `kill` takes them: "TERM", "SIGTERM", "term" or "15". */
public final class Signals {
    private Signals() {}

    /** Linux's numbers (the same on x86-64 and arm64). */
    private static final Map<String, Integer> NUMBERS = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
            Map.entry("ABRT", 6), Map.entry("IOT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9),
            Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13), Map.entry("ALRM", 14),
            Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17), Map.entry("CONT", 18), Map.entry("STOP", 19),
            Map.entry("TSTP", 20), Map.entry("TTIN", 21), Map.entry("TTOU", 22), Map.entry("URG", 23), Map.entry("XCPU", 24),
            Map.entry("XFSZ", 25), Map.entry("VTALRM", 26), Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29),
            Map.entry("POLL", 29), Map.entry("PWR", 30), Map.entry("SYS", 31));

    /** The highest real-time signal on Linux. */
    private static final int MAX = 64;

    /** The signal's number; fails with runc's words for a name or number it does not know. */
    public static int parse(String s) throws BrigException {
        if (!s.isEmpty() && s.chars().allMatch(Character::isDigit)) {
            try {
                int n = Integer.parseInt(s);
                if (n >= 1 && n <= MAX) return n;
            } catch (NumberFormatException e) {
                // too long: not a signal
            }
            throw new BrigException("unknown signal \"" + s + "\"");
        }
        String name = s.toUpperCase(Locale.ROOT);
        if (name.startsWith("SIG")) name = name.substring(3);
        Integer n = NUMBERS.get(name);
        if (n == null) throw new BrigException("unknown signal \"" + s + "\"");
        return n;
    }
}
