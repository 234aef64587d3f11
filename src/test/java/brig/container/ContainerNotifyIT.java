package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.NoLeaks;
import brig.testing.NotifyHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `brig container run` under a systemd unit of Type=notify (podman's --sdnotify=container): the
 * container gets its own NOTIFY_SOCKET, and the caller's socket gets the container's READY=1,
 * with MAINPID the process the unit started, only once the container has sent it.
 */
@ExtendWith(NoLeaks.class)
class ContainerNotifyIT extends ContainerITBase {
    @Test
    void theCallersSocketGetsTheContainersReady() throws Exception {
        Path tools = Files.createDirectories(tmp.resolve("tools"));
        NotifyHost.compileSdNotify(tools);
        for (String server : List.of("on", "off")) { // served, and the cold path
            Path socket = tmp.resolve("host-" + server + ".sock"), marks = Files.createDirectories(tmp.resolve("marks-" + server));
            readyPassedOn(tools, socket, marks, name("notify-" + server), server);
        }
    }

    @Test
    void detachedTheMonitorPassesReadyOnAsTheMainPid() throws Exception {
        // podman's --sdnotify=conmon: `run -d` returns once READY has gone on, from the monitor,
        // which stays (MAINPID), not from the brig that returns.
        Path tools = Files.createDirectories(tmp.resolve("tools"));
        NotifyHost.compileSdNotify(tools);
        Path socket = tmp.resolve("host-d.sock");
        String n = name("notify-d");
        try (NotifyHost host = new NotifyHost(socket.toString())) {
            var r = container(Map.of("NOTIFY_SOCKET", socket.toString()), "run", "-d", "--name", n, "-v", tools + ":/tools:ro",
                    "plain", "sh", "-c", "sleep 1; /tools/sdnotify READY=1; exec sleep 1000");
            assertEquals(0, r.exit(), r.err());
            List<NotifyHost.Message> got = host.messages();
            assertEquals(2, got.size(), "READY and the barrier, before run -d returned: " + got);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("READY=1\nMAINPID=(\\d+)\n").matcher(got.get(0).text());
            assertTrue(m.matches(), got.get(0).text());
            long main = Long.parseLong(m.group(1));
            assertEquals(main, got.get(0).pid(), "sent by the process it names");
            // Alive after the brig that returned has gone: the monitor, the container's parent.
            String cmdline = Files.readString(Path.of("/proc/" + main + "/cmdline")).replace('\0', ' ');
            assertTrue(cmdline.contains("monitor"), "the monitor: " + cmdline);
        }
    }

    private void readyPassedOn(Path tools, Path socket, Path marks, String n, String server) throws Exception {
        try (NotifyHost host = new NotifyHost(socket.toString())) {
            var r = container(Map.of("NOTIFY_SOCKET", socket.toString(), "BRIG_SERVER", server), "run", "--rm", "--name", n,
                    "-v", tools + ":/tools:ro", "-v", marks + ":/marks", "plain", "sh", "-c",
                    "echo \"$NOTIFY_SOCKET\" > /marks/env; sleep 1; touch /marks/before-ready; /tools/sdnotify READY=1; echo done");
            assertEquals(0, r.exit(), r.err());
            assertEquals("done\n", r.out());
            assertEquals("/run/notify/notify.sock\n", Files.readString(marks.resolve("env")));
            List<NotifyHost.Message> got = host.messages();
            assertEquals(2, got.size(), "READY and the barrier: " + got);
            assertTrue(got.get(0).text().matches("READY=1\nMAINPID=\\d+\n"), got.get(0).text());
            assertEquals("BARRIER=1", got.get(1).text());
            assertTrue(got.get(1).carriedFd(), "the barrier carries an fd");
        }
    }
}
