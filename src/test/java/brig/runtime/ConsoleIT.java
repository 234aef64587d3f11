package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.ConsoleEngine;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Terminals and what engines pass a runtime: --console-socket (the test plays the engine with
 * src/test/c/console-engine.c, which receives the master as conmon does and relays it),
 * `run -d`, `run --keep`, a terminal relayed by `run` in the foreground, LISTEN_FDS, and the
 * session keyring.
 */
@ExtendWith(NoLeaks.class)
class ConsoleIT {
    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();
    private final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() {
        brig = new Lifecycle(dir.resolve("state"), dir);
    }

    @AfterEach
    void cleanUp() throws InterruptedException {
        for (String id : ids) brig.brig(null, "delete", "--force", id);
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private TestBundle bundle(String name, String... args) throws IOException {
        TestBundle b = TestBundle.busybox(dir.resolve(name)).args(args);
        b.write();
        ids.add(b.id());
        return b;
    }

    /** An engine listening on {@code socket}; its stderr goes to a file (see {@link #engineSaid}). */
    private Process startEngine(Path socket) throws Exception {
        Process p = ConsoleEngine.start(socket, dir.resolve("engine.err"));
        started.add(p);
        return p;
    }

    private String engineSaid() throws IOException {
        return Files.readString(dir.resolve("engine.err"));
    }

    /**
     * The engine's way: create with --console-socket, the master arrives (a tty) before create
     * returns and before the program runs; after start the program's terminal is the one made
     * inside the container, and input and output go through the engine's master.
     */
    @Test
    void createSendsTheTerminalsMasterToTheConsoleSocket() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "tty; read line; echo got:$line");
        b.process().addProperty("terminal", true);
        b.write();
        Path socket = dir.resolve("console.sock");
        Process engine = startEngine(socket);
        brig.brig(b.dir(), Map.of(), List.of("create", "--console-socket", socket.toString(), "--bundle", b.dir().toString(), b.id()))
                .expect(0);
        assertEquals("received /dev/ptmx fd-is-a-tty\n", engineSaid());
        assertEquals("created", brig.status(b.id()));

        brig.brig(null, "start", b.id()).expect(0);
        InputStream out = engine.getInputStream();
        String tty = ConsoleEngine.readUntil(out, s -> s.contains("\n"));
        assertTrue(tty.startsWith("/dev/pts/0") || tty.startsWith("/dev/console"), tty);
        OutputStream in = engine.getOutputStream();
        in.write("hello\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        String rest = ConsoleEngine.readUntil(out, s -> s.contains("got:hello"));
        assertTrue(rest.contains("got:hello"), rest);
        brig.awaitStatus(b.id(), "stopped");
        // Every slave is gone with the container: the engine's relay ends.
        assertTrue(engine.waitFor(10, TimeUnit.SECONDS), "the master did not end with the container");
        brig.brig(null, "delete", b.id()).expect(0);
    }

    /** runc's texts for what does not go together; a socket nobody listens on fails before anything is made. */
    @Test
    void wrongCombinationsAreRefusedWithRuncsWords() throws Exception {
        TestBundle plain = bundle("plain", "true");
        TestBundle tty = bundle("tty", "true");
        tty.process().addProperty("terminal", true);
        tty.write();
        Path socket = dir.resolve("console.sock");
        startEngine(socket);

        Brig.Result r = brig.brig(plain.dir(), Map.of(), List.of("create", "--console-socket", socket.toString(), plain.id()));
        assertEquals(1, r.exit());
        assertEquals("brig: cannot use console socket if brig will not detach or allocate tty\n", r.err());
        r = brig.brig(tty.dir(), Map.of(), List.of("run", "--console-socket", socket.toString(), tty.id()));
        assertEquals("brig: cannot use console socket if brig will not detach or allocate tty\n", r.err());
        r = brig.brig(tty.dir(), Map.of(), List.of("run", "-d", tty.id()));
        assertEquals("brig: cannot allocate tty if brig will detach without setting console socket\n", r.err());
        r = brig.brig(tty.dir(), Map.of(), List.of("create", "--console-socket", dir.resolve("nobody.sock").toString(), tty.id()));
        assertEquals(1, r.exit());
        assertEquals("brig: --console-socket: connect " + dir.resolve("nobody.sock") + ": ENOENT: no such file or directory\n", r.err());
        assertEquals("", brig.brig(null, "list", "-q").expect(0).out(), "a refused create left something");
    }

    /**
     * run -d returns while the container runs on (reparented: no brig process is its parent),
     * and with a terminal its master goes to the console socket.
     */
    @Test
    void runDetachedReturnsWhileTheContainerRuns() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "echo detached-on-$(tty); sleep 1000");
        b.process().addProperty("terminal", true);
        b.write();
        Path socket = dir.resolve("console.sock");
        Process engine = startEngine(socket);
        Path pidFile = dir.resolve("pid");
        brig.brig(b.dir(), Map.of(), List.of("run", "-d", "--console-socket", socket.toString(), "--pid-file", pidFile.toString(),
                "--bundle", b.dir().toString(), b.id())).expect(0);
        assertEquals("running", brig.status(b.id()));
        int pid = Integer.parseInt(Files.readString(pidFile));
        String parent = ProcessHandle.of(pid).flatMap(ProcessHandle::parent).flatMap(p -> p.info().command()).orElse("");
        assertFalse(parent.contains("brig") || parent.contains("java"), "still brig's child: " + parent);
        String said = ConsoleEngine.readUntil(engine.getInputStream(), s -> s.contains("detached-on-/dev/"));
        assertTrue(said.contains("detached-on-/dev/pts/0") || said.contains("detached-on-/dev/console"), said);

        brig.brig(null, "kill", b.id(), "KILL").expect(0);
        brig.awaitStatus(b.id(), "stopped");
        brig.brig(null, "delete", b.id()).expect(0);
    }

    /** run --keep: the exit status is the program's, the stopped container stays until delete. */
    @Test
    void runKeepLeavesAStoppedContainer() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "exit 3");
        Brig.Result r = brig.brig(b.dir(), Map.of(), List.of("run", "--keep", "--bundle", b.dir().toString(), b.id()));
        assertEquals(3, r.exit(), r.err());
        assertEquals("stopped", brig.status(b.id()));
        assertTrue(brig.brig(null, "list").expect(0).out().contains(b.id()));
        assertTrue(Files.isDirectory(Path.of("/sys/fs/cgroup/pids/brig", b.id())), "the cgroup went");
        brig.brig(null, "delete", b.id()).expect(0);
        assertEquals("container does not exist", brig.status(b.id()).replace("brig: ", ""));
        assertFalse(Files.exists(Path.of("/sys/fs/cgroup/pids/brig", b.id())));

        // Without --keep, run removes it as before.
        TestBundle c = bundle("c", "/bin/sh", "-c", "exit 4");
        assertEquals(4, brig.brig(c.dir(), Map.of(), List.of("run", "--bundle", c.dir().toString(), c.id())).exit());
        assertEquals("container does not exist", brig.status(c.id()).replace("brig: ", ""));
    }

    /**
     * In the foreground with a terminal and no socket, run relays the caller's terminal (here
     * one script(1) makes) both ways with it in raw mode: what is typed is echoed once, by the
     * container's terminal, not a second time by the caller's. The container's terminal is its
     * own, never the caller's.
     */
    @Test
    void runInTheForegroundRelaysTheCallersTerminal() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "tty; stty size; read line; echo got:$line");
        b.process().addProperty("terminal", true);
        b.set("process.consoleSize", "{\"height\":33,\"width\":77}");
        b.write();
        String cmd = Brig.launcher() + " --root " + brig.root() + " run --bundle " + b.dir() + " " + b.id();
        Process script = new ProcessBuilder("script", "-qefc", cmd, "/dev/null").redirectError(dir.resolve("script.err").toFile()).start();
        started.add(script);
        InputStream out = script.getInputStream();
        String first = ConsoleEngine.readUntil(out, s -> s.matches("(?s).*\\d+ \\d+\\r?\\n.*"));
        assertTrue(first.contains("/dev/pts/0") || first.contains("/dev/console"), first);
        // process.consoleSize holds: the caller's terminal has no size to give (0 0).
        assertTrue(first.contains("33 77"), first);
        script.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        script.getOutputStream().flush();
        String all = first + ConsoleEngine.readUntil(out, s -> s.contains("got:hello"));
        assertTrue(script.waitFor(20, TimeUnit.SECONDS), all);
        all += new String(out.readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, script.exitValue(), all + Files.readString(dir.resolve("script.err")));
        long echoes = all.lines().map(String::strip).filter(l -> l.equals("hello")).count();
        assertEquals(1, echoes, "typed input echoed " + echoes + " times: " + all);
        assertTrue(all.contains("got:hello"), all);
    }

    /**
     * The caller's terminal changes size (SIGWINCH to brig, the session leader of it): the
     * container's terminal follows. Python's pty module plays the user's terminal emulator.
     */
    @Test
    void aResizeOfTheCallersTerminalReachesTheContainer() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "echo ready; read x; echo size:$(stty size):");
        b.process().addProperty("terminal", true);
        b.write();
        String driver = """
                import fcntl, os, select, struct, sys, termios, time
                import pty
                pid, fd = pty.fork()
                if pid == 0:
                    os.execv(sys.argv[1], sys.argv[1:])
                buf = b''
                def until(marker):
                    global buf
                    end = time.time() + 20
                    while marker not in buf:
                        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
                        if not r:
                            sys.exit('timed out waiting for %r: %r' % (marker, buf))
                        try:
                            data = os.read(fd, 4096)
                        except OSError:
                            data = b''
                        if not data:
                            sys.exit('ended waiting for %r: %r' % (marker, buf))
                        buf += data
                until(b'ready')
                fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 41, 103, 0, 0))
                time.sleep(0.5)
                os.write(fd, b'go\\n')
                until(b'size:')
                until(b':\\r\\n')
                sys.stdout.write(buf.decode(errors='replace'))
                _, status = os.waitpid(pid, 0)
                sys.exit(os.waitstatus_to_exitcode(status))
                """;
        Brig.Result r = Brig.exec(b.dir(), List.of("python3", "-c", driver, Brig.launcher().toString(), "--root", brig.root().toString(),
                "run", "--bundle", b.dir().toString(), b.id()), null, Map.of("PATH", "/usr/bin:/bin"), 60);
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("size:41 103:"), r.out());
    }

    /**
     * LISTEN_FDS: passed only when LISTEN_PID is the runtime's pid (here the shell's, which the
     * launcher keeps with exec), as fds 3.. before the --preserve-fds range, announced with
     * LISTEN_FDS=N and LISTEN_PID=1.
     */
    @Test
    void listenFdsArePassedOnlyWhenMeantForTheRuntime() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c",
                "echo fds=$LISTEN_FDS pid=$LISTEN_PID; cat <&3 || echo no-fd-3; cat <&4 || echo no-fd-4");
        Files.writeString(dir.resolve("listen"), "from-listen-fd\n");
        Files.writeString(dir.resolve("extra"), "from-preserved-fd\n");
        String run = "exec 3<" + dir.resolve("listen") + " 4<" + dir.resolve("extra") + "; export LISTEN_FDS=1 LISTEN_PID=%s; exec "
                + Brig.launcher() + " --root " + brig.root() + " run --preserve-fds %s --bundle " + b.dir() + " " + b.id();
        Brig.Result r = brig.exec(b.dir(), Map.of(), List.of("/bin/sh", "-c", run.formatted("$$", "1"))).expect(0);
        assertEquals("fds=1 pid=1\nfrom-listen-fd\nfrom-preserved-fd\n", r.out(), r.err());

        // As systemd passes them: a socket, the pid the process that execs brig has.
        String activate = """
                import os, socket, sys
                a, b = socket.socketpair()
                b.sendall(b'from-a-socket\\n')
                b.close()
                if a.fileno() != 3:
                    os.dup2(a.fileno(), 3)
                os.set_inheritable(3, True)
                os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()))
                os.execv(sys.argv[1], sys.argv[1:])
                """;
        r = brig.exec(b.dir(), Map.of("PATH", "/usr/bin:/bin"), List.of("python3", "-c", activate, Brig.launcher().toString(),
                "--root", brig.root().toString(), "run", "--bundle", b.dir().toString(), b.id())).expect(0);
        assertEquals("fds=1 pid=1\nfrom-a-socket\nno-fd-4\n", r.out().replaceAll("(?m)^.*Bad file descriptor\n", ""), r.err());

        // Another process's LISTEN_PID: nothing passed, nothing announced; fd 3 is the
        // --preserve-fds range's now.
        r = brig.exec(b.dir(), Map.of(), List.of("/bin/sh", "-c", run.formatted("1", "1"))).expect(0);
        assertTrue(r.out().startsWith("fds= pid=\nfrom-listen-fd\n"), r.out());
        assertTrue(r.out().endsWith("no-fd-4\n"), r.out());
        r = brig.exec(b.dir(), Map.of(), List.of("/bin/sh", "-c", run.formatted("1", "0"))).expect(0);
        assertTrue(r.out().startsWith("fds= pid=\n") && r.out().contains("no-fd-3\n"), r.out());
    }

    /** A fresh session keyring named _ses.ID, as runc's; --no-new-keyring keeps the caller's. */
    @Test
    void theContainerGetsAFreshSessionKeyring() throws Exception {
        TestBundle b = bundle("b", "/bin/sh", "-c", "cat /proc/keys");
        b.set("linux.maskedPaths", "[]"); // /proc/keys is masked by default
        b.write();
        String keys = brig.brig(b.dir(), Map.of(), List.of("run", "--bundle", b.dir().toString(), b.id())).expect(0).out();
        assertTrue(keys.lines().anyMatch(l -> l.contains(" keyring ") && l.contains("_ses." + b.id() + ":")), keys);
        String plan = brig.brig(b.dir(), Map.of(), List.of("run", "--explain", "--bundle", b.dir().toString(), b.id())).expect(0).out();
        assertTrue(plan.contains("join a new session keyring _ses." + b.id()), plan);

        // Another id: the first run's keyring is only collected a while after its last user
        // exits, and a warm run comes quickly enough to still see it in /proc/keys.
        TestBundle c = bundle("c", "/bin/sh", "-c", "cat /proc/keys");
        c.set("linux.maskedPaths", "[]");
        c.write();
        keys = brig.brig(c.dir(), Map.of(), List.of("run", "--no-new-keyring", "--bundle", c.dir().toString(), c.id())).expect(0).out();
        assertFalse(keys.contains("_ses." + c.id()), keys);
    }
}
