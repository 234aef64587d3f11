package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the commands and the library off the JVM's process-wide state: no System.out, err,
 * in, exit or getenv (nor user.home, user.dir) anywhere in src/main/java but in Main.main and
 * Main.processInvocation, which build the one {@link Invocation} taken from the real process.
 * In brig.cli, no resolving against the JVM's working directory either (toAbsolutePath).
 * Comments and string literals are not code and are skipped.
 */
class NoJvmStateTest {
    static final Path SOURCES = Path.of("src/main/java");
    static final Pattern FORBIDDEN = Pattern.compile(
            "System\\s*\\.\\s*(out|err|in|exit|getenv|setOut|setErr|setIn|console)\\b|\"user\\.(home|dir)\"");
    static final Pattern FORBIDDEN_IN_CLI = Pattern.compile("\\.toAbsolutePath\\s*\\(|Path\\.of\\(\"\\.\"\\)");

    /** The methods of Main allowed to read the real process. */
    static final List<String> ALLOWED_IN_MAIN = List.of("public static void main(", "static Invocation processInvocation(");

    @Test
    void noCommandOrLibraryClassTouchesTheJvmsProcessState() throws Exception {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                String text = Files.readString(f);
                if (f.endsWith(Path.of("brig/cli/Main.java"))) {
                    for (String m : ALLOWED_IN_MAIN) text = withoutMethod(text, m);
                }
                String code = codeOnly(text);
                boolean cli = f.startsWith(SOURCES.resolve("brig/cli"));
                for (Pattern p : cli ? List.of(FORBIDDEN, FORBIDDEN_IN_CLI) : List.of(FORBIDDEN)) {
                    Matcher m = p.matcher(code);
                    while (m.find()) found.add(SOURCES.relativize(f) + ":" + line(code, m.start()) + ": " + m.group());
                }
            }
        }
        assertEquals(List.of(), found, "give these an Invocation (brig.cli) or a parameter (the library)");
    }

    @Test
    void theCheckSeesWhatItLooksFor() {
        String code = codeOnly("""
                class X { // System.out in a comment
                    /* System.exit(1) */ String s = "System.getenv(\\"A\\")";
                    void f() { System.err.println(s); }
                }
                """);
        Matcher m = FORBIDDEN.matcher(code);
        assertTrue(m.find());
        assertEquals("System.err", m.group());
        assertTrue(!m.find(), code);
        String main = withoutMethod("class M { public static void main(String[] a) { if (x) { System.exit(0); } } void g() { System.exit(2); } }",
                "public static void main(");
        assertEquals("class M {  void g() { System.exit(2); } }", main);
    }

    /** {@code text} without the method whose declaration starts with {@code start} (up to its closing brace). */
    static String withoutMethod(String text, String start) {
        int from = text.indexOf(start);
        if (from < 0) throw new AssertionError("no method " + start + " in Main.java: update ALLOWED_IN_MAIN");
        int k = text.indexOf('{', from), depth = 0;
        for (; k < text.length(); k++) {
            if (text.charAt(k) == '{') depth++;
            if (text.charAt(k) == '}' && --depth == 0) break;
        }
        return text.substring(0, from) + text.substring(k + 1);
    }

    /** Java source with comments and the contents of string, text-block and char literals blanked (lines kept). */
    static String codeOnly(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (s.startsWith("//", i)) {
                while (i < n && s.charAt(i) != '\n') i++;
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                for (; i < end; i++) if (s.charAt(i) == '\n') out.append('\n');
            } else if (s.startsWith("\"\"\"", i)) {
                int end = s.indexOf("\"\"\"", i + 3);
                while (end > 0 && s.charAt(end - 1) == '\\') end = s.indexOf("\"\"\"", end + 1);
                end = end < 0 ? n : end + 3;
                out.append("\"\"");
                for (; i < end; i++) if (s.charAt(i) == '\n') out.append('\n');
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && s.charAt(j) != c && s.charAt(j) != '\n') j += s.charAt(j) == '\\' ? 2 : 1;
                // "user.home" is a literal worth seeing: keep the quotes and the text.
                String literal = s.substring(i, Math.min(j + 1, n));
                out.append(c == '"' && literal.matches("\"user\\.(home|dir)\"") ? literal : String.valueOf(c) + c);
                i = j + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int line(String text, int offset) {
        int line = 1;
        for (int k = 0; k < offset; k++) if (text.charAt(k) == '\n') line++;
        return line;
    }
}
