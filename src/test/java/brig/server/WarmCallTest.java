package brig.server;

import static org.junit.jupiter.api.Assertions.assertFalse;

import brig.testing.Brig;
import brig.testing.Lifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the ITs comparing a served call with a cold one share: a server of this build running
 * before each test and stopped (its socket gone) after it, the containers a test made deleted,
 * and the server's count of served calls, which proves which path a call took.
 */
abstract class WarmCallTest {
    static final Map<String, String> WARM = Map.of(), COLD = Map.of("BRIG_SERVER", "off");

    @TempDir Path dir;
    Lifecycle brig;
    final List<String> ids = new ArrayList<>();
    private long statusCalls;

    @BeforeEach
    void startServer() {
        brig = new Lifecycle(dir.resolve("state"), dir);
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30);
        Brig.run(dir, List.of("--version"), null, WARM, 30).expect(0); // a server of this build runs
    }

    @AfterEach
    void stopServer() {
        for (String id : ids) brig.brig(null, COLD, List.of("delete", "--force", id));
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30);
        for (int k = 0; k < 100 && Files.exists(ServerIT.SOCKET); k++) sleep(50);
        assertFalse(Files.exists(ServerIT.SOCKET, java.nio.file.LinkOption.NOFOLLOW_LINKS), ServerIT.SOCKET + " left behind");
    }

    /** Calls the running server has served, less the status calls asked here. */
    long served() {
        Brig.Result s = Brig.run(dir, List.of("server", "status"), null, WARM, 30);
        Matcher m = Pattern.compile("served: (\\d+) calls").matcher(s.out());
        if (!m.find()) return -1;
        return Long.parseLong(m.group(1)) - (++statusCalls);
    }

    long serverPid() {
        Matcher m = Pattern.compile("running: pid (\\d+)").matcher(Brig.run(dir, List.of("server", "status"), null, WARM, 30).out());
        statusCalls++;
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
