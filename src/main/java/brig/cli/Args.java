package brig.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command-line flags the way runc (Go's flag package) reads them: "-flag" and "--flag" alike,
 * values as "--flag=value" or "--flag value", booleans as "--flag" or "--flag=false", and flags
 * end at the first argument that is not one (or at "--"). Hand-written: a CLI library cost more
 * JVM start-up than the whole of a `state` call.
 *
 * <p>Docker's fronts (`brig container ...`, the image verbs) read flags with {@link #parseGrouped}
 * instead, which adds docker's (pflag's) grouped one-letter flags: "-it", "-dit", "-ite K=V",
 * "-m100m". runc's verbs keep Go's grammar, where "-it" is one flag named "it": engines call them.
 */
final class Args {

    /** A flag: its names (without dashes, the first is canonical) and whether it takes a value. */
    record Flag(List<String> names, boolean value, String help) {
        static Flag bool(String help, String... names) {
            return new Flag(List.of(names), false, help);
        }

        static Flag value(String help, String... names) {
            return new Flag(List.of(names), true, help);
        }
    }

    /** Bad flags or arguments: reported as runc reports them, one line and exit status 1. */
    static final class UsageException extends brig.errors.BrigFailure {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private final Map<String, List<String>> values = new HashMap<>();
    private final List<String> positional = new ArrayList<>();

    private Args() {}

    /**
     * Parses flags from {@code argv} starting at {@code from}.
     *
     * @param stopAtPositional whether flags end at the first positional argument (Go's rule);
     *     the rest, flags or not, are positional
     */
    static Args parse(List<String> argv, int from, List<Flag> flags, boolean stopAtPositional) throws UsageException {
        return parse(argv, from, flags, stopAtPositional, false);
    }

    /**
     * As {@link #parse}, plus docker's grouped one-letter flags: an argument "-xyz" that is not
     * itself a flag's name is read letter by letter, each a one-letter flag; booleans set, and
     * the first that takes a value takes the rest of the argument ("-m100m", "-e=K=V") or, if
     * it is the last letter, the next argument ("-ite K=V"). A whole name still wins ("-rm",
     * "-net host" as before).
     */
    static Args parseGrouped(List<String> argv, int from, List<Flag> flags, boolean stopAtPositional) throws UsageException {
        return parse(argv, from, flags, stopAtPositional, true);
    }

    private static Args parse(List<String> argv, int from, List<Flag> flags, boolean stopAtPositional, boolean grouped)
            throws UsageException {
        Map<String, Flag> byName = new LinkedHashMap<>();
        for (Flag f : flags) for (String n : f.names()) byName.put(n, f);
        Args a = new Args();
        int k = from;
        for (; k < argv.size(); k++) {
            String arg = argv.get(k);
            if (arg.equals("--")) {
                k++;
                break;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                if (stopAtPositional) break;
                a.positional.add(arg);
                continue;
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            String name = body, inline = null;
            int eq = body.indexOf('=');
            if (eq >= 0) {
                name = body.substring(0, eq);
                inline = body.substring(eq + 1);
            }
            Flag f = byName.get(name);
            if (f == null && grouped && !arg.startsWith("--") && body.length() > 1 && isShort(byName, body.charAt(0))) {
                k = group(a, byName, argv, k);
                continue;
            }
            if (f == null) throw new UsageException("flag provided but not defined: -" + name);
            String canonical = f.names().get(0);
            String v;
            if (f.value()) {
                if (inline != null) {
                    v = inline;
                } else if (k + 1 < argv.size()) {
                    v = argv.get(++k);
                } else {
                    throw new UsageException("flag needs an argument: -" + name);
                }
            } else {
                v = bool(inline == null ? "true" : inline, name);
            }
            a.values.computeIfAbsent(canonical, x -> new ArrayList<>()).add(v);
        }
        for (; k < argv.size(); k++) a.positional.add(argv.get(k));
        return a;
    }

    private static boolean isShort(Map<String, Flag> byName, char c) {
        return byName.containsKey(String.valueOf(c));
    }

    /** Reads the group argv[k] ("-it", "-ite", "-m100m"); returns the index of the last argument it took. */
    private static int group(Args a, Map<String, Flag> byName, List<String> argv, int k) throws UsageException {
        String arg = argv.get(k), body = arg.substring(1);
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            Flag f = byName.get(String.valueOf(c));
            // docker's (pflag's) words: the letter and the group it was in
            if (f == null) throw new UsageException("unknown shorthand flag: '" + c + "' in " + arg);
            String rest = body.substring(i + 1);
            String inline = rest.startsWith("=") ? rest.substring(1) : null;
            String v;
            if (f.value()) {
                if (!rest.isEmpty()) {
                    v = inline != null ? inline : rest;
                } else if (k + 1 < argv.size()) {
                    v = argv.get(++k);
                } else {
                    throw new UsageException("flag needs an argument: '" + c + "' in " + arg);
                }
            } else if (inline != null) {
                v = bool(inline, String.valueOf(c));
            } else {
                a.values.computeIfAbsent(f.names().get(0), x -> new ArrayList<>()).add("true");
                continue;
            }
            a.values.computeIfAbsent(f.names().get(0), x -> new ArrayList<>()).add(v);
            break; // a value (or "=false") ends the group
        }
        return k;
    }

    /** Go's spellings of a boolean, as "true" or "false". */
    private static String bool(String v, String name) throws UsageException {
        if (!List.of("true", "false", "1", "0", "t", "f", "TRUE", "FALSE", "True", "False").contains(v)) {
            throw new UsageException("invalid boolean value \"" + v + "\" for -" + name);
        }
        return List.of("true", "1", "t", "TRUE", "True").contains(v) ? "true" : "false";
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    boolean bool(String name) {
        List<String> v = values.get(name);
        return v != null && v.get(v.size() - 1).equals("true");
    }

    /** The last value given, or the fallback. */
    String value(String name, String fallback) {
        List<String> v = values.get(name);
        return v == null ? fallback : v.get(v.size() - 1);
    }

    /** Every value given for a repeatable flag, in order (empty if none). */
    List<String> values(String name) {
        return values.getOrDefault(name, List.of());
    }

    int intValue(String name, int fallback) throws UsageException {
        String v = value(name, null);
        if (v == null) return fallback;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException("invalid value \"" + v + "\" for flag -" + name + ": parse error");
        }
    }

    List<String> positional() {
        return positional;
    }

    /** Exactly {@code n} positional arguments, as runc checks them. */
    List<String> exactly(String command, int n) throws UsageException {
        if (positional.size() != n) {
            throw new UsageException("\"" + command + "\" requires exactly " + n + " argument(s)");
        }
        return positional;
    }

    static String help(List<Flag> flags) {
        StringBuilder sb = new StringBuilder();
        for (Flag f : flags) {
            String names = String.join(", ", f.names().stream().map(n -> (n.length() == 1 ? "-" : "--") + n).toList());
            if (f.value()) names += " value";
            sb.append(String.format("   %-28s %s%n", names, f.help()));
        }
        return sb.toString();
    }
}
