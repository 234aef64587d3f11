package brig.engines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.NotifyHost;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * `podman run --sdnotify=container` with Brig as the runtime, as a systemd unit of
 * Type=notify runs it: the container's READY=1 reaches the unit's NOTIFY_SOCKET (played here
 * by {@link NotifyHost}). Podman 4.3 with conmon 2.x does not hand NOTIFY_SOCKET to the
 * runtime: it mounts its own notify directory at /run/notify and conmon relays; Brig must run
 * that container as any other (brig.runtime.Notify is for callers that do hand it over).
 */
@ExtendWith(NoLeaks.class)
class PodmanNotifyIT {
    @RegisterExtension static final Engine.PerClass<Podman> ENGINE = new Engine.PerClass<>(Podman::start, "containers, conmon or cgroups left");

    @TempDir static Path tools;

    @Test
    void sdnotifyContainerReachesTheUnitsSocket() throws Exception {
        Path sdnotify = NotifyHost.compileSdNotify(tools);
        Path socket = ENGINE.get().dir.resolve("unit-notify.sock");
        try (NotifyHost host = new NotifyHost(socket.toString())) {
            List<String> podman = ENGINE.get().command("run", "--pull=never", "--rm", "--network=none",
                    "--cgroup-parent=" + Podman.CGROUP_PARENT, "--sdnotify=container", "-v", sdnotify + ":/sdnotify:ro",
                    Podman.IMAGE, "sh", "-c", "echo \"$NOTIFY_SOCKET\"; /sdnotify READY=1 && echo sent");
            Brig.Result r = ENGINE.get().run(Cmd.concat(List.of("env", "NOTIFY_SOCKET=" + socket), podman.toArray(String[]::new)));
            assertEquals(0, r.exit(), r.err());
            assertEquals("/run/notify/notify.sock\nsent\n", r.out(), r.err());
            for (int k = 0; k < 100 && host.messages().stream().noneMatch(m -> m.text().contains("READY=1")); k++) Thread.sleep(50);
            List<NotifyHost.Message> got = host.messages();
            assertTrue(got.stream().anyMatch(m -> m.text().contains("READY=1")), "READY=1 did not reach the unit's socket: " + got);
            // Podman names conmon as the main pid, and conmon relays the container's READY.
            String main = got.stream().map(NotifyHost.Message::text).filter(t -> t.startsWith("MAINPID=")).findFirst().orElse("none");
            NotifyHost.Message ready = got.stream().filter(m -> m.text().contains("READY=1")).findFirst().orElseThrow();
            assertEquals(main, "MAINPID=" + ready.pid(), "READY=1 did not come from the main pid podman named: " + got);
        }
    }
}
