package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a command run in-process writes, for its caller only: the output of hooks run on the host
 * goes to the streams of the command that runs them (a caller of a resident brig gets its own
 * hooks' output), not to the JVM's fds 1 and 2; --debug lines go to the caller's log.
 */
@ExtendWith(NoLeaks.class)
class CliStreamsIT {
    @TempDir Path dir;

    private static String hook(String name) {
        return "{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo " + name + "-out; echo " + name + "-err >&2\"]}";
    }

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    private Invocation invocation() {
        return new Invocation(new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of(), dir, 022, new Invocation.Caller(4242, 0, 0),
                Invocation.Globals.DEFAULT, Invocation.Host.detached(Brig.dist()));
    }

    @Test
    void hostHooksWriteToTheInvocationsStreams() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("bundle")).args("true");
        b.add("hooks.prestart", hook("prestart"));
        b.add("hooks.poststop", hook("poststop"));
        b.write();
        Invocation inv = invocation();
        String root = b.stateRoot().toString();
        try {
            assertEquals(0, Main.run(inv, List.of("--root", root, "create", "--bundle", b.dir().toString(), b.id())),
                    err.toString(StandardCharsets.UTF_8));
            assertEquals("prestart-out\n", out.toString(StandardCharsets.UTF_8));
            assertEquals("prestart-err\n", err.toString(StandardCharsets.UTF_8));
            out.reset();
            err.reset();
        } finally {
            assertEquals(0, Main.run(inv, List.of("--root", root, "delete", "--force", b.id())));
        }
        assertEquals("poststop-out\n", out.toString(StandardCharsets.UTF_8));
        assertEquals("poststop-err\n", err.toString(StandardCharsets.UTF_8));
        assertFalse(Brig.run(dir, "--root", root, "list", "-q").expect(0).out().contains(b.id()));
    }

    /** With --debug, create logs its plan step by step. */
    @Test
    void debugLogsThePlan() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("bundle")).args("true");
        b.write();
        Path log = dir.resolve("log");
        String root = b.stateRoot().toString();
        try {
            assertEquals(0, Main.run(invocation(), List.of("--debug", "--log", log.toString(), "--root", root, "create",
                    "--bundle", b.dir().toString(), b.id())), err.toString(StandardCharsets.UTF_8));
        } finally {
            Main.run(invocation(), List.of("--root", root, "delete", "--force", b.id()));
        }
        String text = Files.readString(log);
        assertTrue(text.contains("level=debug msg=\"plan: ") && text.contains("pivot_root into the rootfs"), text);
        assertTrue(text.contains("level=debug msg=\"create: exit status 0\""), text);
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }
}
