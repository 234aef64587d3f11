package brig.testing;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * An engine's end of a --console-socket (src/test/c/console-engine.c): it receives the
 * terminal's master and relays it. Shared by the create and the exec console tests.
 */
public final class ConsoleEngine {
    private ConsoleEngine() {}

    private static Path binary;

    /** Built once per run. */
    private static synchronized Path binary() {
        if (binary != null) return binary;
        Path out = Path.of("target/test-console-engine").toAbsolutePath();
        Brig.exec(null, List.of("cc", "-std=gnu11", "-O1", "-Wall", "-o", out.toString(),
                Path.of("src/test/c/console-engine.c").toAbsolutePath().toString()), null,
                Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 120).expect(0);
        binary = out;
        return out;
    }

    /** An engine listening on {@code socket} (returns once it does); its stderr goes to {@code err}. */
    public static Process start(Path socket, Path err) throws Exception {
        Process p = new ProcessBuilder(binary().toString(), socket.toString()).redirectError(err.toFile()).start();
        for (int k = 0; k < 200 && !Files.exists(socket); k++) Thread.sleep(10);
        if (!Files.exists(socket)) {
            p.destroyForcibly();
            throw new AssertionError("the engine does not listen");
        }
        return p;
    }

    /** Reads {@code in} until what was read matches, or 20 s have passed. */
    public static String readUntil(InputStream in, Predicate<String> done) throws Exception {
        StringBuilder sb = new StringBuilder();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        byte[] buf = new byte[4096];
        while (!done.test(sb.toString())) {
            if (System.nanoTime() > end) throw new AssertionError("timed out; read so far: " + sb);
            if (in.available() == 0) {
                Thread.sleep(10);
                continue;
            }
            int n = in.read(buf);
            if (n < 0) break;
            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
        return sb.toString();
    }
}
