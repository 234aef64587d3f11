package brig.cli;

import brig.errors.BrigFailure;
import brig.runtime.Runtime;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * `brig events [--stats] [--interval DURATION] ID`: the container's events as runc prints
 * them, one JSON object a line: its stats every interval (5s unless told) and each OOM, until
 * the container stops; with --stats one stats line, at once. Runs long: the caller's signals
 * reach it (the command table's runsLong).
 */
final class EventsCommand {
    private EventsCommand() {}

    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("set the stats collection interval (default: 5s)", "interval"),
            Args.Flag.bool("display the container's stats then exit", "stats"));

    static int run(Invocation inv, Args a) throws BrigFailure {
        String id = a.exactly("events", 1).get(0);
        String given = a.value("interval", "5s");
        Duration interval = goDuration(given);
        if (interval == null) throw new Args.UsageException("invalid value \"" + given + "\" for flag -interval: parse error");
        Runtime rt = new Runtime(inv.globals().root(), (java.nio.file.Path) null);
        if (a.bool("stats")) {
            // runc checks the interval even then.
            if (interval.isNegative() || interval.isZero()) throw new brig.runtime.BrigException("duration interval must be greater than 0");
            print(inv, LINE.toJson(rt.stats(id).toJson()));
            return 0;
        }
        rt.events(id, interval, e -> print(inv, LINE.toJson(e.toJson())), warning -> {
            inv.err().println("brig: " + warning);
            inv.log("error", warning, null);
        });
        return 0;
    }

    /** Compact, with runc's nulls ("network_interfaces": null). */
    private static final com.google.gson.Gson LINE = new com.google.gson.GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    /** One event a line, flushed at once: a reader acts on each as it comes. */
    private static void print(Invocation inv, String line) {
        inv.out().println(line);
        inv.out().flush();
    }

    private static final Map<String, Long> UNITS = Map.of("ns", 1L, "us", 1_000L, "\u00b5s", 1_000L, "\u03bcs", 1_000L,
            "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    /**
     * A duration as Go's time.ParseDuration reads it (what runc's --interval takes): a sign,
     * then numbers with units, "1h2m3.5s", "500ms", "1.5us"; "0" alone. Null if it is not one.
     */
    static Duration goDuration(String s) {
        if (s.equals("0") || s.equals("+0") || s.equals("-0")) return Duration.ZERO;
        int k = 0;
        boolean negative = false;
        if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
            negative = s.charAt(0) == '-';
            k = 1;
        }
        if (k == s.length()) return null;
        BigDecimal total = BigDecimal.ZERO;
        while (k < s.length()) {
            int start = k;
            while (k < s.length() && (Character.isDigit(s.charAt(k)) || s.charAt(k) == '.')) k++;
            String number = s.substring(start, k);
            if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) return null;
            int unitStart = k;
            while (k < s.length() && !Character.isDigit(s.charAt(k)) && s.charAt(k) != '.') k++;
            Long unit = UNITS.get(s.substring(unitStart, k));
            if (unit == null) return null;
            total = total.add(new BigDecimal(number.startsWith(".") ? "0" + number : number).multiply(BigDecimal.valueOf(unit)));
        }
        if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) return null; // Go: "invalid duration"
        long nanos = total.longValue();
        return Duration.ofNanos(negative ? -nanos : nanos);
    }
}
