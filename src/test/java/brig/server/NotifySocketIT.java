package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
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
    private static final long SYS_SETSOCKOPT = 54, SYS_BIND = 49;
    private static final int SOL_SOCKET = 1, SO_PASSCRED = 16, SCM_RIGHTS = 1, SCM_CREDENTIALS = 2, SOCK_DGRAM = 2;

    @TempDir static Path tools;
    private static Path sdnotify;

    /** A static sd_notify for busybox (which has none): sends argv[1] to $NOTIFY_SOCKET. */
    @BeforeAll
    static void compileSdNotify() throws IOException {
        Path src = tools.resolve("sdnotify.c");
        sdnotify = tools.resolve("sdnotify");
        Files.writeString(src, """
                #include <stdlib.h>
                #include <string.h>
                #include <sys/socket.h>
                #include <sys/un.h>
                int main(int argc, char **argv) {
                    const char *to = getenv("NOTIFY_SOCKET");
                    struct sockaddr_un a = { .sun_family = AF_UNIX };
                    if (!to || argc < 2) return 2;
                    strncpy(a.sun_path, to, sizeof a.sun_path - 1);
                    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
                    return sendto(s, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&a, sizeof a) < 0;
                }
                """);
        Brig.Result cc = Brig.exec(null, List.of("cc", "-static", "-O1", "-o", sdnotify.toString(), src.toString()), null,
                Map.of("PATH", "/usr/bin:/bin"), 120);
        assertEquals(0, cc.exit(), "cannot compile sdnotify (gcc and libc6-dev are build dependencies): " + cc.err());
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
            try (HostSocket host = new HostSocket(socket.toString())) {
                long before = served();
                Call create = call(dir, with(mode, socket.toString()), "create", "--bundle", b.dir().toString(), b.id());
                assertEquals(0, create.exit(), create.err());
                Call start = call(dir, with(mode, socket.toString()), "start", b.id());
                assertEquals(0, start.exit(), start.err());
                assertEquals(before + (mode == WARM ? 2 : 0), served(), "create and start were not both served (or cold was)");
                // start returned once READY had come, not before.
                assertTrue(Files.exists(b.rootfs().resolve("before-ready")), "start returned before the container sent READY");
                List<HostSocket.Message> got = host.messages();
                assertEquals(2, got.size(), "READY and the barrier: " + got);
                int pid = containerPid(b.id());
                assertEquals(new HostSocket.Message(start.pid(), "READY=1\nMAINPID=" + pid + "\n", false), got.get(0));
                assertEquals(new HostSocket.Message(start.pid(), "BARRIER=1", true), got.get(1));
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
            try (HostSocket host = new HostSocket(socket.toString())) {
                Call run = call(dir, with(mode, socket.toString()), "run", "-d", "--bundle", d.dir().toString(), d.id());
                assertEquals(0, run.exit(), run.err());
                assertTrue(Files.exists(d.rootfs().resolve("before-ready")), "run -d returned before READY");
                List<HostSocket.Message> got = host.messages();
                assertEquals(new HostSocket.Message(run.pid(), "READY=1\nMAINPID=" + containerPid(d.id()) + "\n", false), got.get(0));
                assertEquals(new HostSocket.Message(run.pid(), "BARRIER=1", true), got.get(1));
            }
            TestBundle f = bundle("sleep 0.5; sdnotify READY=1; exit 3");
            socket = dir.resolve("host-" + f.id() + ".sock");
            try (HostSocket host = new HostSocket(socket.toString())) {
                Call run = call(dir, with(mode, socket.toString()), "run", "--bundle", f.dir().toString(), f.id());
                assertEquals(3, run.exit(), run.err());
                List<HostSocket.Message> got = host.messages();
                assertEquals(List.of(new HostSocket.Message(run.pid(), "READY=1\nMAINPID=" + run.pid() + "\n", false),
                        new HostSocket.Message(run.pid(), "BARRIER=1", true)), got);
            }
            assertFalse(Files.exists(brig.root().resolve(f.id())), "the foreground run's container stays");
        }
    }

    /** An abstract socket (@name) and a relative path (the caller's working directory), as runc takes them. */
    @Test
    void anAbstractSocketAndARelativePathWork() throws Exception {
        TestBundle a = bundle(WAITS);
        String name = "@brig-notify-it-" + ProcessHandle.current().pid();
        try (HostSocket host = new HostSocket(name)) {
            Call run = call(dir, with(WARM, name), "run", "-d", "--bundle", a.dir().toString(), a.id());
            assertEquals(0, run.exit(), run.err());
            assertEquals("READY=1\nMAINPID=" + containerPid(a.id()) + "\n", host.messages().get(0).text());
        }
        TestBundle r = bundle(WAITS);
        Path sub = Files.createDirectories(dir.resolve("sub"));
        try (HostSocket host = new HostSocket(sub.resolve("rel.sock").toString())) {
            Call run = call(sub, with(COLD, "rel.sock"), "run", "-d", "--bundle", r.dir().toString(), r.id());
            assertEquals(0, run.exit(), run.err());
            assertEquals("READY=1\nMAINPID=" + containerPid(r.id()) + "\n", host.messages().get(0).text());
        }
    }

    /** A program that exits without READY ends the wait (runc: no message); nothing is sent. */
    @Test
    void aProgramThatExitsWithoutReadyEndsTheWait() throws Exception {
        for (Map<String, String> mode : List.of(WARM, COLD)) {
            TestBundle b = bundle("sleep 0.3");
            Path socket = dir.resolve("host-" + b.id() + ".sock");
            try (HostSocket host = new HostSocket(socket.toString())) {
                assertEquals(0, call(dir, with(mode, socket.toString()), "create", "--bundle", b.dir().toString(), b.id()).exit());
                Call start = call(dir, with(mode, socket.toString()), "start", b.id());
                assertEquals(0, start.exit(), start.err());
                assertEquals(List.of(), host.messages());
            }
        }
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

    /** What a call of bin/brig gave: its exit status, its stderr, and the pid it ran as. */
    record Call(int exit, String err, long pid) {}

    /** bin/brig --root ROOT ARGS in {@code cwd} with exactly {@code env}; stdout discarded (a container may hold it). */
    private Call call(Path cwd, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Brig.launcher().toString(), "--root", brig.root().toString()));
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "err", "");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            throw new AssertionError("timed out: " + cmd);
        }
        return new Call(p.exitValue(), Files.readString(err), p.pid());
    }

    /**
     * The host's notify socket, as systemd keeps it: an AF_UNIX datagram socket with
     * SO_PASSCRED (each message names its sender's pid), read by a thread that closes any fd a
     * message carries (BARRIER=1's pipe: the sender waits for that).
     */
    static final class HostSocket implements AutoCloseable {
        record Message(long pid, String text, boolean carriedFd) {}

        private final int fd;
        private final String address;
        private final List<Message> got = new CopyOnWriteArrayList<>();
        private volatile boolean closed;
        private final Thread reader;

        HostSocket(String address) throws SyscallException {
            this.address = address;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = Libc.state(a);
                fd = (int) Libc.call(st, Libc.Fn.SOCKET, Libc.AF_UNIX, SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
                if (fd < 0) throw new SyscallException("socket", null, Libc.errno(st));
                MemorySegment one = a.allocate(ValueLayout.JAVA_INT);
                one.set(ValueLayout.JAVA_INT, 0, 1);
                if (Libc.call(st, Libc.Fn.SYSCALL, SYS_SETSOCKOPT, fd, SOL_SOCKET, SO_PASSCRED, one.address(), 4) < 0) {
                    throw new SyscallException("setsockopt", null, Libc.errno(st));
                }
                byte[] name = address.getBytes(StandardCharsets.UTF_8);
                MemorySegment addr = a.allocate(110);
                addr.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_UNIX);
                MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
                boolean abstractName = address.startsWith("@");
                if (abstractName) addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
                if (Libc.call(st, Libc.Fn.SYSCALL, SYS_BIND, fd, addr.address(), 2 + name.length + (abstractName ? 0 : 1)) < 0) {
                    throw new SyscallException("bind", address, Libc.errno(st));
                }
            }
            reader = new Thread(this::read, "host notify socket");
            reader.setDaemon(true);
            reader.start();
        }

        private void read() {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = Libc.state(a), buf = a.allocate(4096), ctl = a.allocate(128, 8),
                        iov = a.allocate(16, 8), msg = a.allocate(56, 8);
                while (!closed) {
                    if (!Libc.pollIn(new int[] {fd}, 100)[0]) continue;
                    iov.set(ValueLayout.ADDRESS, 0, buf);
                    iov.set(ValueLayout.JAVA_LONG, 8, buf.byteSize());
                    msg.fill((byte) 0);
                    msg.set(ValueLayout.ADDRESS, 16, iov);
                    msg.set(ValueLayout.JAVA_LONG, 24, 1);
                    msg.set(ValueLayout.ADDRESS, 32, ctl);
                    msg.set(ValueLayout.JAVA_LONG, 40, ctl.byteSize());
                    long n = Libc.call(st, Libc.Fn.RECVMSG, fd, msg.address(), 0x40000000 /* MSG_CMSG_CLOEXEC */);
                    if (n < 0) continue;
                    long pid = -1;
                    List<Integer> fds = new ArrayList<>();
                    long len = msg.get(ValueLayout.JAVA_LONG, 40);
                    for (long off = 0; off + 16 <= len;) {
                        long clen = ctl.get(ValueLayout.JAVA_LONG, off);
                        int level = ctl.get(ValueLayout.JAVA_INT, off + 8), type = ctl.get(ValueLayout.JAVA_INT, off + 12);
                        if (level == SOL_SOCKET && type == SCM_CREDENTIALS) pid = ctl.get(ValueLayout.JAVA_INT, off + 16);
                        if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                            for (long k = 16; k + 4 <= clen; k += 4) fds.add(ctl.get(ValueLayout.JAVA_INT, off + k));
                        }
                        if (clen < 16) break;
                        off += (clen + 7) & ~7L;
                    }
                    got.add(new Message(pid, new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8), !fds.isEmpty()));
                    fds.forEach(Libc::close); // as systemd: the barrier is released once the message is taken
                }
            } catch (SyscallException e) {
                // closed
            }
        }

        /** What came so far (each brig call that passes READY on has returned once its barrier was released). */
        List<Message> messages() {
            return List.copyOf(got);
        }

        @Override
        public void close() throws Exception {
            closed = true;
            reader.join(5000);
            Libc.close(fd);
            if (!address.startsWith("@")) Files.deleteIfExists(Path.of(address));
        }
    }
}
