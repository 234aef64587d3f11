package brig;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How docs/lab.md is read and its output compared (no root; LabIT runs it). */
class LabDocTest {
    @Test
    void commandsContinuationsHereDocumentsAndTheirOutput() {
        String md = """
                text
                ```sh
                $ echo a \\
                  b
                a b
                $ cat > f <<'EOF'
                x
                $ not a command
                EOF
                $ true
                ```
                ```text
                $ not run
                ```
                ```sh
                $ echo $?
                0
                ```
                """;
        List<LabDoc.Step> s = LabDoc.parse(md);
        assertEquals(4, s.size());
        assertEquals(new LabDoc.Step(3, "echo a \\\n  b", List.of("a b")), s.get(0));
        assertEquals("cat > f <<'EOF'\nx\n$ not a command\nEOF", s.get(1).command());
        assertEquals(List.of(), s.get(1).expected());
        assertEquals(List.of(), s.get(2).expected());
        assertEquals(new LabDoc.Step(16, "echo $?", List.of("0")), s.get(3));
        assertThrows(IllegalArgumentException.class, () -> LabDoc.parse("```sh\noutput before a command\n```\n"));
        assertThrows(IllegalArgumentException.class, () -> LabDoc.parse("```sh\n$ true\n"));
    }

    @Test
    void outputMatchesExactlyButForBlanksAndEllipses() {
        assertTrue(LabDoc.matches(List.of("NAME IMAGE", "a b"), List.of("NAME     IMAGE  ", "a   b")));
        assertFalse(LabDoc.matches(List.of("a"), List.of("a", "b")), "a line the doc does not show");
        assertFalse(LabDoc.matches(List.of("a", "b"), List.of("a")), "a line the doc shows is missing");
        assertFalse(LabDoc.matches(List.of("hostname: fish"), List.of("hostname: vm")));
        assertTrue(LabDoc.matches(List.of(), List.of()));
        assertFalse(LabDoc.matches(List.of(), List.of("unexpected")));
        // "…" within a line
        assertTrue(LabDoc.matches(List.of("I am pid …; pid 1 is …"), List.of("I am pid 4242; pid 1 is /sbin/init")));
        assertTrue(LabDoc.matches(List.of("interfaces: …lo…"), List.of("interfaces: lo")));
        assertTrue(LabDoc.matches(List.of("… pid … root lab-bomb sh"), List.of("4026532254 pid 6 15041 root lab-bomb sh")));
        assertTrue(LabDoc.matches(List.of("a … b"), List.of("a b")));
        assertFalse(LabDoc.matches(List.of("{\"limit\":10,\"current\":…}"), List.of("{\"limit\":11,\"current\":3}")));
        assertFalse(LabDoc.matches(List.of("sha256:…"), List.of("error: sha256:x")), "anchored at both ends");
        // a line of "…": any number of lines, none included
        assertTrue(LabDoc.matches(List.of("H", "…"), List.of("H")));
        assertTrue(LabDoc.matches(List.of("H", "…", "x", "…"), List.of("H", "1", "2", "x", "3")));
        assertFalse(LabDoc.matches(List.of("H", "…", "x"), List.of("H", "1", "x", "3")));
        assertFalse(LabDoc.matches(List.of("…", "blobs", "…", "index.json"), List.of("index.json", "blobs")), "in order");
    }

    @Test
    void theLabIsWellFormed() throws Exception {
        List<LabDoc.Step> steps = LabDoc.parse(Files.readString(LabIT.DOC));
        assertTrue(steps.size() > 20, steps.size() + " commands");
        // Every name a container or image gets is lab-…: the test tells its own apart by them.
        for (LabDoc.Step s : steps) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("--name (\\S+)").matcher(s.command());
            while (m.find()) assertTrue(m.group(1).startsWith("lab-"), "docs/lab.md:" + s.line() + ": " + m.group(1));
        }
    }
}
