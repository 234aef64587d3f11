package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A warm create, run -d and exec -d with --console-socket: the engine listening on the socket
 * (played here by this JVM, with raw system calls, as conmon would) gets a working master of
 * the container's terminal, and its peer (SO_PEERCRED, what conmon or a shim may check) is the
 * process the caller started (bin/brig, exec'd into the supervisor), never the resident
 * server. A relative path is the caller's cwd's; a missing socket fails alike warm and cold.
 */
@ExtendWith(NoLeaks.class)
class ConsoleSocketPeerIT extends WarmCallTest {
    private static final long SYS_SOCKET = 41, SYS_BIND = 49, SYS_LISTEN = 50;

    private TestBundle bundle(String script, boolean terminal) throws IOException {
        TestBundle b = TestBundle.busybox(dir.resolve("b" + ids.size())).sh(script);
        b.process().addProperty("terminal", terminal);
        b.write();
        ids.add(b.id());
        return b;
    }

    @Test
    void createFromARelativePathConnectsFromTheCallersProcess() throws Exception {
        TestBundle b = bundle("read line; echo got:$line", true);
        try (Engine engine = new Engine(dir.resolve("console.sock"))) {
            long before = served();
            Call c = warm(dir, "create", "--console-socket", "console.sock", "--bundle", b.dir().toString(), b.id());
            assertEquals(0, c.exit(), c.err());
            assertEquals(before + 1, served(), "create was not served");
            Engine.Peer peer = engine.accept();
            assertCaller(c, peer);
            assertEquals("/dev/ptmx", peer.name(), "the message names the master as runc's does");
            brig.brig(null, WARM, List.of("start", b.id())).expect(0);
            assertEchoes(peer.master());
            brig.awaitStatus(b.id(), "stopped");
        }
    }

    @Test
    void runDetachedConnectsFromTheCallersProcess() throws Exception {
        TestBundle b = bundle("read line; echo got:$line", true);
        Path socket = dir.resolve("run.sock");
        try (Engine engine = new Engine(socket)) {
            long before = served();
            Call c = warm(dir, "run", "-d", "--console-socket", socket.toString(), "--bundle", b.dir().toString(), b.id());
            assertEquals(0, c.exit(), c.err());
            assertEquals(before + 1, served(), "run -d was not served");
            Engine.Peer peer = engine.accept();
            assertCaller(c, peer);
            assertEchoes(peer.master());
            brig.awaitStatus(b.id(), "stopped");
        }
    }

    @Test
    void execDetachedWithATerminalConnectsFromTheCallersProcess() throws Exception {
        TestBundle b = bundle("exec sleep 1000", false);
        brig.brig(b.dir(), WARM, List.of("run", "-d", "--bundle", b.dir().toString(), b.id())).expect(0);
        Path sub = Files.createDirectories(dir.resolve("sub"));
        try (Engine engine = new Engine(sub.resolve("exec.sock"))) {
            long before = served();
            Call c = warm(sub, "exec", "-d", "-t", "--console-socket", "exec.sock", b.id(), "sh", "-c", "read line; echo got:$line");
            assertEquals(0, c.exit(), c.err());
            assertEquals(before + 1, served(), "exec -d was not served");
            Engine.Peer peer = engine.accept();
            assertCaller(c, peer);
            assertEchoes(peer.master());
        }
        brig.brig(null, WARM, List.of("kill", b.id(), "KILL")).expect(0);
        brig.awaitStatus(b.id(), "stopped");
    }

    /**
     * A path longer than sun_path (108 bytes) is reached through its directory, by the
     * supervisor as by a cold JVM; a missing one in a missing directory reads alike warm and cold.
     */
    @Test
    void aPathLongerThanSunPathWorksWarmAndFailsAlike() throws Exception {
        TestBundle b = bundle("read line; echo got:$line", true);
        Path deep = Files.createDirectories(dir.resolve("d".repeat(60)).resolve("e".repeat(60)));
        Path socket = deep.resolve("console.sock");
        assertTrue(socket.toString().length() > 108, socket.toString());
        try (Engine engine = new Engine(socket)) {
            Call c = warm(dir, "run", "-d", "--console-socket", socket.toString(), "--bundle", b.dir().toString(), b.id());
            assertEquals(0, c.exit(), c.err());
            Engine.Peer peer = engine.accept();
            assertCaller(c, peer);
            assertEchoes(peer.master());
            brig.awaitStatus(b.id(), "stopped");
        }
        Path missing = deep.resolve("gone").resolve("console.sock");
        String line = "brig: --console-socket: connect " + missing + ": ENOENT: no such file or directory\n";
        TestBundle x = bundle("true", true), y = bundle("true", true);
        assertEquals(new Call(1, line, -1), without(call(dir, WARM, "create", "--console-socket", missing.toString(), "--bundle", x.dir().toString(), x.id())));
        assertEquals(new Call(1, line, -1), without(call(dir, COLD, "create", "--console-socket", missing.toString(), "--bundle", y.dir().toString(), y.id())));
    }

    private static Call without(Call c) {
        return new Call(c.exit(), c.err(), -1);
    }

    /** runc's way (connected before anything is made): one line, the same warm and cold; no state, no cgroup. */
    @Test
    void aMissingSocketFailsAlikeWarmAndColdAndLeavesNothing() throws Exception {
        TestBundle a = bundle("true", true), b = bundle("true", true);
        long before = served();
        Call warm = call(dir, WARM, "create", "--console-socket", "nobody.sock", "--bundle", a.dir().toString(), a.id());
        assertEquals(before + 1, served(), "not served");
        Call cold = call(dir, COLD, "create", "--console-socket", "nobody.sock", "--bundle", b.dir().toString(), b.id());
        assertEquals(before + 1, served(), "cold used the server");
        String line = "brig: --console-socket: connect " + dir.resolve("nobody.sock") + ": ENOENT: no such file or directory\n";
        assertEquals(new Call(1, line, -1), new Call(warm.exit(), warm.err(), -1), "warm");
        assertEquals(new Call(1, line, -1), new Call(cold.exit(), cold.err(), -1), "cold");
        for (TestBundle x : List.of(a, b)) {
            assertFalse(Files.exists(brig.root().resolve(x.id())), "a state directory was made");
            assertEquals(List.of(), cgroupsNamed(x.id()), "a cgroup was made");
        }
    }

    /** The peer is the caller's process (the pid the test started), not the server's, with the caller's credentials. */
    private void assertCaller(Call c, Engine.Peer peer) {
        assertEquals(c.pid(), peer.cred().pid(), "the console socket's peer is not the process the caller started");
        assertNotEquals(serverPid(), (long) peer.cred().pid(), "the server connected");
        assertEquals(0, peer.cred().uid());
    }

    /** The master is the container's terminal: a line written to it comes back from the program. */
    private static void assertEchoes(int master) throws Exception {
        Libc.writeFully(master, "hello\n".getBytes(StandardCharsets.UTF_8));
        StringBuilder got = new StringBuilder();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            while (!got.toString().contains("got:hello") && System.nanoTime() < end) {
                if (!Libc.pollIn(new int[] {master}, 200)[0]) continue;
                int n;
                try {
                    n = Libc.read(master, buf, buf.byteSize());
                } catch (SyscallException e) {
                    break; // EIO: every slave is gone
                }
                if (n <= 0) break;
                got.append(new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
            }
        } finally {
            Libc.close(master);
        }
        assertTrue(got.toString().contains("got:hello"), "the container did not answer on the master: " + got);
    }

    private static List<Path> cgroupsNamed(String id) throws IOException {
        try (Stream<Path> s = Files.walk(Path.of("/sys/fs/cgroup"), 4)) {
            return s.filter(p -> p.getFileName() != null && p.getFileName().toString().contains(id)).toList();
        } catch (java.io.UncheckedIOException e) {
            return List.of(); // a cgroup removed during the walk
        }
    }

    /** What a call of bin/brig gave: its exit status, its stderr, and the pid it ran as. */

    private Call warm(Path cwd, String... args) throws Exception {
        return call(cwd, WARM, args);
    }

    /** bin/brig --root ROOT ARGS in {@code cwd}, stdio from and to files (a container may hold them open). */
    private Call call(Path cwd, Map<String, String> env, String... args) throws Exception {
        return Call.of(brig.root(), dir, cwd, env, args);
    }

    /** The engine's end: a listening AF_UNIX stream socket made with raw system calls. */
    private static final class Engine implements AutoCloseable {
        private final int listening;
        private final List<Integer> open = new ArrayList<>();

        /** One connection: who connected (as of connect(2)), the message's bytes and its fd. */
        record Peer(Libc.PeerCred cred, String name, int master) {}

        Engine(Path path) throws SyscallException {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = Libc.state(a);
                listening = (int) Libc.call(st, Libc.Fn.SYSCALL, SYS_SOCKET, Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0);
                if (listening < 0) throw new SyscallException("socket", null, Libc.errno(st));
                open.add(listening);
                // A path too long for sun_path is bound through its directory, as brig connects to it.
                int parent = path.toString().length() > 107 ? Libc.open(path.getParent().toString(), Libc.O_PATH | Libc.O_DIRECTORY, 0) : -1;
                byte[] name = (parent < 0 ? path.toString() : "/proc/self/fd/" + parent + "/" + path.getFileName())
                        .getBytes(StandardCharsets.UTF_8);
                MemorySegment addr = a.allocate(110);
                addr.set(ValueLayout.JAVA_SHORT, 0, (short) Libc.AF_UNIX);
                MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
                long bound = Libc.call(st, Libc.Fn.SYSCALL, SYS_BIND, listening, addr.address(), 2 + name.length + 1);
                int errno = Libc.errno(st);
                Libc.close(parent);
                if (bound < 0) throw new SyscallException("bind", path.toString(), errno);
                if (Libc.call(st, Libc.Fn.SYSCALL, SYS_LISTEN, listening, 4) < 0) throw new SyscallException("listen", null, Libc.errno(st));
            }
        }

        /** The connection brig made (it is queued by the time brig returns) and the master it sent. */
        Peer accept() throws SyscallException {
            assertTrue(Libc.pollIn(new int[] {listening}, 10_000)[0], "nobody connected to the console socket");
            int conn = Libc.accept(listening);
            open.add(conn);
            Libc.PeerCred cred = Libc.peerCred(conn);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocate(4096);
                assertTrue(Libc.pollIn(new int[] {conn}, 10_000)[0], "no master came");
                Libc.Received r = Libc.recvmsg(conn, buf, buf.byteSize());
                assertTrue(r.fd() >= 0, "the message carried no fd");
                return new Peer(cred, new String(buf.asSlice(0, r.count()).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8), r.fd());
            }
        }

        @Override
        public void close() {
            open.forEach(Libc::close);
        }
    }
}
