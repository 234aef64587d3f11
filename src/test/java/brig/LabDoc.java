package brig;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The walkthrough in docs/lab.md as data: its ```sh blocks, each a list of commands (a line
 * starting with "$ ", continued by lines ending in "\" and by the body of a here-document) with
 * the output the doc shows after them, up to the next command or the end of the block. Other
 * blocks (```text, ```json) are not run.
 *
 * <p>How output is compared ({@link #matches}): line by line, runs of blanks count as one
 * blank (table columns widen with longer names); "…" in a line stands for any text within it
 * (a pid, an id, a time, a host's own value); a line that is only "…" stands for any number of
 * lines, none included. Every other line must be there, in order, and nothing else.
 */
final class LabDoc {
    private LabDoc() {}

    static final String ELLIPSIS = "…";

    /** One command of the doc: where it starts (1-based line), its text, the output shown. */
    record Step(int line, String command, List<String> expected) {
        Step {
            expected = List.copyOf(expected);
        }
    }

    private static final Pattern HEREDOC = Pattern.compile("<<-?\\s*['\"]?(\\w+)['\"]?");

    static List<Step> parse(String markdown) {
        List<Step> steps = new ArrayList<>();
        String[] lines = markdown.split("\n", -1);
        boolean inSh = false, inOther = false;
        String command = null;
        int start = 0;
        List<String> expected = new ArrayList<>();
        for (int k = 0; k < lines.length; k++) {
            String l = lines[k];
            if (!inSh && !inOther) {
                if (l.equals("```sh")) inSh = true;
                else if (l.startsWith("```")) inOther = true;
                continue;
            }
            if (inOther) {
                if (l.equals("```")) inOther = false;
                continue;
            }
            if (l.equals("```")) {
                if (command != null) steps.add(new Step(start, command, expected));
                command = null;
                expected = new ArrayList<>();
                inSh = false;
                continue;
            }
            if (l.startsWith("$ ")) {
                if (command != null) steps.add(new Step(start, command, expected));
                expected = new ArrayList<>();
                start = k + 1;
                StringBuilder c = new StringBuilder(l.substring(2));
                while (c.toString().endsWith("\\") && k + 1 < lines.length) c.append('\n').append(lines[++k]);
                Matcher h = HEREDOC.matcher(c);
                if (h.find()) {
                    String end = h.group(1);
                    while (k + 1 < lines.length) {
                        c.append('\n').append(lines[++k]);
                        if (lines[k].equals(end)) break;
                    }
                }
                command = c.toString();
            } else if (command == null) {
                throw new IllegalArgumentException("docs/lab.md:" + (k + 1) + ": a ```sh block's lines before its first \"$ \" command");
            } else {
                expected.add(l);
            }
        }
        if (inSh) throw new IllegalArgumentException("docs/lab.md: a ```sh block is not closed");
        return steps;
    }

    static String normalize(String line) {
        return line.strip().replaceAll("\\s+", " ");
    }

    /** Whether {@code actual} (the output's lines) is what {@code expected} shows; see the class comment. */
    static boolean matches(List<String> expected, List<String> actual) {
        List<String> e = expected.stream().map(LabDoc::normalize).toList();
        List<String> a = actual.stream().map(LabDoc::normalize).toList();
        return match(e, 0, a, 0);
    }

    private static boolean match(List<String> e, int i, List<String> a, int j) {
        if (i == e.size()) return j == a.size();
        if (e.get(i).equals(ELLIPSIS)) {
            for (int skip = j; skip <= a.size(); skip++) if (match(e, i + 1, a, skip)) return true;
            return false;
        }
        return j < a.size() && line(e.get(i), a.get(j)) && match(e, i + 1, a, j + 1);
    }

    static boolean line(String expected, String actual) {
        if (!expected.contains(ELLIPSIS)) return expected.equals(actual);
        // The blanks beside an ellipsis are its own: "a … b" is "a b" when it stands for nothing.
        StringBuilder re = new StringBuilder();
        String[] parts = expected.split("\\s*" + ELLIPSIS + "\\s*", -1);
        for (int k = 0; k < parts.length; k++) {
            if (k > 0) re.append(".*");
            if (!parts[k].isEmpty()) re.append(Pattern.quote(parts[k]));
        }
        return actual.matches(re.toString());
    }
}
