package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --debug as runc's: debug lines in the --log file, or on stderr without one; nothing without the flag. */
class DebugFlagTest {
    @TempDir Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    private int run(String... argv) {
        Invocation inv = new Invocation(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(), dir, 022, new Invocation.Caller(4242, 0, 0),
                Invocation.Globals.DEFAULT, Invocation.Host.detached(Path.of("/nonexistent/brig")));
        return Main.run(inv, List.of(argv));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void withoutALogFileDebugLinesGoToStderr() {
        assertEquals(1, run("--debug", "--root", dir.resolve("state").toString(), "state", "nosuch"));
        List<String> lines = err().lines().toList();
        assertEquals(2, lines.size(), err()); // a failure ends the command with its error line
        assertTrue(lines.get(0).matches("time=\"[^\"]+\" level=debug msg=\"brig --debug --root .*/state state nosuch \\(root .*/state, caller pid 4242\\)\""), lines.get(0));
        assertEquals("brig: container does not exist", lines.get(1));
    }

    @Test
    void withALogFileDebugLinesGoThereInItsFormat() throws Exception {
        Path log = dir.resolve("log.json");
        assertEquals(1, run("--debug", "--log", log.toString(), "--log-format", "json", "--root", dir.resolve("state").toString(), "state", "nosuch"));
        assertEquals("brig: container does not exist\n", err());
        List<String> lines = Files.readAllLines(log);
        assertEquals(2, lines.size(), lines.toString()); // the error stays the last line, which engines read
        assertTrue(lines.get(0).startsWith("{\"level\":\"debug\",\"msg\":\"brig --debug"), lines.get(0));
        assertTrue(lines.get(1).startsWith("{\"level\":\"error\",\"msg\":\"container does not exist\""), lines.get(1));
    }

    @Test
    void aCommandThatReturnsLogsItsStatus() {
        assertEquals(0, run("--debug", "--root", dir.resolve("state").toString(), "list", "-q"));
        List<String> lines = err().lines().toList();
        assertEquals(2, lines.size(), err());
        assertTrue(lines.get(1).endsWith("level=debug msg=\"list: exit status 0\""), lines.get(1));
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void withoutTheFlagNoDebugLines() throws Exception {
        Path log = dir.resolve("log");
        assertEquals(1, run("--log", log.toString(), "--root", dir.resolve("state").toString(), "state", "nosuch"));
        assertEquals("brig: container does not exist\n", err());
        assertFalse(Files.readString(log).contains("level=debug"));
    }
}
