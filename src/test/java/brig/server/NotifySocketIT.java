package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.NotifyHost;
import brig.testing.TestBundle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * NOTIFY_SOCKET as runc does it, warm and cold alike: the container sees its own socket at
 * /run/notify/notify.sock (its state directory's notify/, bind-mounted), `start` and `run`
 * return only once its program has sent READY=1, and the host's socket (played here by this
 * JVM, as systemd: SO_PASSCRED, and the barrier's fd closed on receipt) gets READY=1 and
 * MAINPID from the process the caller started (bin/brig, exec'd into the supervisor), never
 * from the resident server or a JVM; nothing is left after delete.
 */
@ExtendWith(NoLeaks.class)
class NotifySocketIT extends WarmCallTest {
    @TempDir static Path tools;
    private static Path sdnotify;

    @BeforeAll
    static void compileSdNotify() throws IOException {
        sdnotify = NotifyHost.compileSdNotify(tools);
    }

    private TestBundle bundle(String script) throws IOException {
        TestBundle b = TestBundle.busybox(dir.resolve("b" + ids.size())).sh(script);
        b.edit(c -> c.getAsJsonObject("root").addProperty("readonly", false));
        b.write();
        Files.copy(sdnotify, b.rootfs().resolve("bin/sdnotify"));
        ids.add(b.id());
        return b;
    }

    private static Map<String, String> with(Map<String, String> mode, String notify) {
        Map<String, String> env = new HashMap<>(mode);
        env.put("NOTIFY_SOCKET", notify);
        return env;
    }

    private static final String WAITS = "echo \"$NOTIFY_SOCKET\" > /notify-env; sleep 1; touch /before-ready; sdnotify READY=1; exec sleep 1000";

    /** create, then start: start returns after READY, which comes from the pid the caller started, with the container's pid. */
    @Test
    void startWaitsForReadyWhichTheCallersProcessPassesOnWarmAndCold() throws Exception {
        for (Map<String, String> mode : List.of(WARM, COLD)) {
            TestBundle b = bundle(WAITS);
            Path socket = dir.resolve("host-" + b.id() + ".sock");
            try (NotifyHost host = new NotifyHost(socket.toString())) {
                long before = served();
                Call create = call(dir, with(mode, socket.toString()), "create", "--bundle", b.dir().toString(), b.id());
                assertEquals(0, create.exit(), create.err());
                Call start = call(dir, with(mode, socket.toString()), "start", b.id());
                assertEquals(0, start.exit(), start.err());
                assertEquals(before + (mode == WARM ? 2 : 0), served(), "create and start were not both served (or cold was)");
                // start returned once READY had come, not before.
                assertTrue(Files.exists(b.rootfs().resolve("before-ready")), "start returned before the container sent READY");
                List<NotifyHost.Message> got = host.messages();
                assertEquals(2, got.size(), "READY and the barrier: " + got);
                int pid = containerPid(b.id());
                assertEquals(new NotifyHost.Message(start.pid(), "READY=1\nMAINPID=" + pid + "\n", false), got.get(0));
                assertEquals(new NotifyHost.Message(start.pid(), "BARRIER=1", true), got.get(1));
                assertEquals("/run/notify/notify.sock\n", Files.readString(b.rootfs().resolve("notify-env")));
                Path notify = brig.root().resolve(b.id()).resolve("notify");
                assertTrue(Files.isDirectory(notify), "no notify directory in the state directory");
                assertFalse(Files.exists(notify.resolve("notify.sock")), "the socket stays after the wait");
            }
            assertEquals(0, call(dir, mode, "delete", "--force", b.id()).exit());
            assertFalse(Files.exists(brig.root().resolve(b.id())), "the state directory stays");
        }
    }

    /** run -d: MAINPID is the container's; foreground run: the caller's process, which stays (runc's own pid). */
    @Test
    void runDetachedAndInTheForegroundPassReadyOnWarmAndCold() throws Exception {
        for (Map<String, String> mode : List.of(WARM, COLD)) {
            TestBundle d = bundle(WAITS);
            Path socket = dir.resolve("host-" + d.id() + ".sock");
            try (NotifyHost host = new NotifyHost(socket.toString())) {
                Call run = call(dir, with(mode, socket.toString()), "run", "-d", "--bundle", d.dir().toString(), d.id());
                assertEquals(0, run.exit(), run.err());
                assertTrue(Files.exists(d.rootfs().resolve("before-ready")), "run -d returned before READY");
                List<NotifyHost.Message> got = host.messages();
                assertEquals(new NotifyHost.Message(run.pid(), "READY=1\nMAINPID=" + containerPid(d.id()) + "\n", false), got.get(0));
                assertEquals(new NotifyHost.Message(run.pid(), "BARRIER=1", true), got.get(1));
            }
            TestBundle f = bundle("sleep 0.5; sdnotify READY=1; exit 3");
            socket = dir.resolve("host-" + f.id() + ".sock");
            try (NotifyHost host = new NotifyHost(socket.toString())) {
                Call run = call(dir, with(mode, socket.toString()), "run", "--bundle", f.dir().toString(), f.id());
                assertEquals(3, run.exit(), run.err());
                List<NotifyHost.Message> got = host.messages();
                assertEquals(List.of(new NotifyHost.Message(run.pid(), "READY=1\nMAINPID=" + run.pid() + "\n", false),
                        new NotifyHost.Message(run.pid(), "BARRIER=1", true)), got);
            }
            assertFalse(Files.exists(brig.root().resolve(f.id())), "the foreground run's container stays");
        }
    }

    /** An abstract socket (@name) and a relative path (the caller's working directory), as runc takes them. */
    @Test
    void anAbstractSocketAndARelativePathWork() throws Exception {
        TestBundle a = bundle(WAITS);
        String name = "@brig-notify-it-" + ProcessHandle.current().pid();
        try (NotifyHost host = new NotifyHost(name)) {
            Call run = call(dir, with(WARM, name), "run", "-d", "--bundle", a.dir().toString(), a.id());
            assertEquals(0, run.exit(), run.err());
            assertEquals("READY=1\nMAINPID=" + containerPid(a.id()) + "\n", host.messages().get(0).text());
        }
        TestBundle r = bundle(WAITS);
        Path sub = Files.createDirectories(dir.resolve("sub"));
        try (NotifyHost host = new NotifyHost(sub.resolve("rel.sock").toString())) {
            Call run = call(sub, with(COLD, "rel.sock"), "run", "-d", "--bundle", r.dir().toString(), r.id());
            assertEquals(0, run.exit(), run.err());
            assertEquals("READY=1\nMAINPID=" + containerPid(r.id()) + "\n", host.messages().get(0).text());
        }
    }

    /** In a user namespace, the container's root (an unprivileged uid on the host) reaches its socket too. */
    @Test
    void aContainerInAUserNamespaceNotifies() throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        TestBundle b = bundle("sleep 0.2; sdnotify READY=1; exec sleep 1000");
        b.userNamespace(100000, 65536).write();
        // The mount point must exist: the container's root cannot make it in a rootfs the host's root owns.
        Files.createDirectories(b.rootfs().resolve("run/notify"));
        Path socket = dir.resolve("host-" + b.id() + ".sock");
        try (NotifyHost host = new NotifyHost(socket.toString())) {
            Call run = call(dir, with(WARM, socket.toString()), "run", "-d", "--bundle", b.dir().toString(), b.id());
            assertEquals(0, run.exit(), run.err());
            assertEquals(new NotifyHost.Message(run.pid(), "READY=1\nMAINPID=" + containerPid(b.id()) + "\n", false), host.messages().get(0));
        }
    }

    /** A program that exits without READY ends the wait (runc: no message); nothing is sent. */
    @Test
    void aProgramThatExitsWithoutReadyEndsTheWait() throws Exception {
        for (Map<String, String> mode : List.of(WARM, COLD)) {
            TestBundle b = bundle("sleep 0.3");
            Path socket = dir.resolve("host-" + b.id() + ".sock");
            try (NotifyHost host = new NotifyHost(socket.toString())) {
                assertEquals(0, call(dir, with(mode, socket.toString()), "create", "--bundle", b.dir().toString(), b.id()).exit());
                Call start = call(dir, with(mode, socket.toString()), "start", b.id());
                assertEquals(0, start.exit(), start.err());
                assertEquals(List.of(), host.messages());
            }
        }
    }

    /**
     * A caller that stops waiting (systemd's stop: SIGTERM to `brig start`) ends the wait: the
     * call returns, and a resident server stops waiting too (no call of nobody's keeps it).
     */
    @Test
    void theCallersSignalEndsTheWait() throws Exception {
        for (Map<String, String> mode : List.of(WARM, COLD)) {
            TestBundle b = bundle("exec sleep 1000");
            Path socket = dir.resolve("host-" + b.id() + ".sock");
            try (NotifyHost host = new NotifyHost(socket.toString())) {
                assertEquals(0, call(dir, with(mode, socket.toString()), "create", "--bundle", b.dir().toString(), b.id()).exit());
                List<String> cmd = List.of(Brig.launcher().toString(), "--root", brig.root().toString(), "start", b.id());
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD);
                pb.environment().clear();
                pb.environment().putAll(with(mode, socket.toString()));
                Process start = pb.start();
                Path notify = brig.root().resolve(b.id()).resolve("notify/notify.sock");
                for (int k = 0; k < 200 && !Files.exists(notify); k++) Thread.sleep(50);
                assertTrue(Files.exists(notify), "start did not bind the container's socket");
                assertFalse(start.waitFor(500, TimeUnit.MILLISECONDS), "start did not wait for READY");
                start.destroy(); // SIGTERM
                assertTrue(start.waitFor(10, TimeUnit.SECONDS), "SIGTERM did not end the wait");
                // Warm, the server stops waiting and removes the socket. Cold, the JVM dies of the
                // forwarded SIGTERM with it (the file stays until the next start or the delete).
                for (int k = 0; k < 200 && mode == WARM && Files.exists(notify); k++) Thread.sleep(50);
                if (mode == WARM) assertFalse(Files.exists(notify), "the server still waits after its caller went");
                assertEquals(List.of(), host.messages());
            }
            // A socket a start left in notify/ goes with the container.
            assertEquals(0, call(dir, mode, "delete", "--force", b.id()).exit());
            assertFalse(Files.exists(brig.root().resolve(b.id())), "the state directory stays");
        }
        assertEquals("running", Brig.run(dir, List.of("server", "status"), null, WARM, 30).out().contains("running: pid") ? "running" : "gone");
    }

    /** Refused by name, the same line warm and cold: vsock, a start for a container created without, a host socket not there. */
    @Test
    void unsupportedOrUnreachableSocketsFailAlikeWarmAndCold() throws Exception {
        for (Map<String, String> mode : List.of(WARM, COLD)) {
            TestBundle v = bundle("true");
            Call vsock = call(dir, with(mode, "vsock:2:1234"), "create", "--bundle", v.dir().toString(), v.id());
            assertEquals(new Call(1, "brig: NOTIFY_SOCKET=vsock:2:1234: a vsock address is not supported (an AF_UNIX path or @name only)\n", -1),
                    new Call(vsock.exit(), vsock.err(), -1));
            assertFalse(Files.exists(brig.root().resolve(v.id())), "a refused create left its state");

            TestBundle w = bundle(WAITS);
            assertEquals(0, call(dir, mode, "create", "--bundle", w.dir().toString(), w.id()).exit());
            Call start = call(dir, with(mode, dir.resolve("x.sock").toString()), "start", w.id());
            assertEquals(new Call(1, "brig: NOTIFY_SOCKET is set but container " + w.id() + " was created without it: its process has no"
                    + " notify socket (set NOTIFY_SOCKET for create too, or unset it for start)\n", -1), new Call(start.exit(), start.err(), -1));
            assertEquals("created", brig.status(w.id()));

            TestBundle m = bundle(WAITS);
            Path missing = dir.resolve("nobody.sock");
            Call run = call(dir, with(mode, missing.toString()), "run", "-d", "--bundle", m.dir().toString(), m.id());
            assertEquals(new Call(1, "brig: NOTIFY_SOCKET: cannot pass READY on: sendto " + missing + ": ENOENT: no such file or directory\n", -1),
                    new Call(run.exit(), run.err(), -1));
            assertFalse(Files.exists(brig.root().resolve(m.id())), "run -d left the container whose READY it could not pass on");
        }
    }

    /** `--explain` shows the mount and the variable. */
    @Test
    void explainShowsTheMountAndTheVariable() throws Exception {
        TestBundle b = bundle("true");
        Brig.Result r = brig.brig(dir, with(WARM, "/run/systemd/notify"), List.of("run", "--explain", "--bundle", b.dir().toString(), b.id()));
        assertEquals(0, r.exit(), r.err());
        Path notify = brig.root().resolve(b.id()).resolve("notify");
        assertTrue(r.out().contains("host: make the directory " + notify + " (mode 0755) for the container's notify socket"), r.out());
        assertTrue(r.out().contains("bind-mount " + notify + " on /run/notify in the container (ro,nosuid,nodev,noexec)"), r.out());
        assertTrue(r.out().contains("with 3 environment variables"), r.out());
    }

    private int containerPid(String id) {
        Brig.Result r = brig.brig(null, COLD, List.of("state", id));
        return Json.parseQuietly(r.out()).getAsJsonObject().get("pid").getAsInt();
    }


    /** bin/brig --root ROOT ARGS in {@code cwd} with exactly {@code env}; stdout discarded (a container may hold it). */
    private Call call(Path cwd, Map<String, String> env, String... args) throws Exception {
        return Call.of(brig.root(), dir, cwd, env, args);
    }
}
