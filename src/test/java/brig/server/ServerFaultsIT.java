package brig.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's faults a caller must not see: it exits when idle (its socket and cgroup gone,
 * a call arriving meanwhile still answered); one that hangs before acknowledging makes the
 * client wait its patience and run the command cold, once; one killed while a warm `run`
 * waits for its container leaves the container running, its exit status the caller's, and
 * its teardown done.
 *
 * <p>Two test-only knobs of bin/brig shorten the waits: BRIG_TEST_IDLE (the idle seconds the
 * client gives a server it starts; the server takes them as its second argument) and
 * BRIG_TEST_PATIENCE (seconds the client waits for READY or ACK, 30 by default).
 */
@ExtendWith(NoLeaks.class)
class ServerFaultsIT {
    static final Map<String, String> WARM = Map.of(), COLD = Map.of("BRIG_SERVER", "off");

    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();

    @BeforeEach
    void setUp() {
        brig = new Lifecycle(dir.resolve("state"), dir);
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30);
        ServerCgroupIT.awaitNoServer();
    }

    @AfterEach
    void tearDown() throws IOException {
        for (String id : ids) brig.brig(null, COLD, List.of("delete", "--force", id));
        Brig.run(dir, List.of("server", "stop"), null, Map.of(), 30);
        for (int k = 0; k < 100 && Files.exists(ServerIT.SOCKET, LinkOption.NOFOLLOW_LINKS); k++) sleep(50);
        assertFalse(Files.exists(ServerIT.SOCKET, LinkOption.NOFOLLOW_LINKS), ServerIT.SOCKET + " left behind");
    }

    @Test
    void anIdleServerExitsAndRemovesItsSocketAndCgroup() throws IOException {
        long pid = serverPid(Map.of("BRIG_TEST_IDLE", "2"));
        assertTrue(pid > 0, "no server started");
        assertTrue(ProcessHandle.of(pid).isPresent());
        for (int k = 0; k < 200 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); k++) sleep(50);
        assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the server is still there 10 s after 2 idle s");
        assertFalse(Files.exists(ServerIT.SOCKET, LinkOption.NOFOLLOW_LINKS), "the idle server left its socket");
        ServerCgroupIT.assertNoEmptyServerCgroup("the idle server did not remove its cgroup");
        assertEquals(3, Brig.run(dir, List.of("server", "status"), null, WARM, 30).exit(), "status finds a server");
    }

    /**
     * Calls spaced about the idle time, so that some arrive while a server is leaving (its
     * listening socket about to close, its name about to go): every one is answered right,
     * by the server, a new one, or cold. Not deterministic: the spacing walks across the
     * idle deadline in 25 ms steps.
     */
    @Test
    void callsArrivingDuringTheIdleExitAreAnswered() throws IOException {
        Files.createDirectories(brig.root());
        Set<Long> pids = new HashSet<>();
        List<String> list = List.of("--root", brig.root().toString(), "list");
        Brig.Result cold = Brig.run(dir, list, null, COLD, 60);
        for (int k = 0; k < 16; k++) {
            Brig.Result r = Brig.run(dir, list, null, Map.of("BRIG_TEST_IDLE", "1"), 60);
            assertEquals(cold, r, "call " + k);
            Matcher m = Pattern.compile("\\d+").matcher(processes("brig.server.Server"));
            while (m.find()) pids.add(Long.parseLong(m.group()));
            sleep(850 + 25L * k);
        }
        assertTrue(pids.size() >= 2, "no idle exit happened between the calls: " + pids);
    }

    /**
     * A socket planted at the server's name, of root, that answers READY and then nothing: the
     * client waits its patience for the acknowledgement, then runs the command cold, once.
     */
    @Test
    void aServerThatHangsBeforeAcknowledgingMakesTheCallColdOnce() throws Exception {
        String build = Files.readString(Brig.dist().resolve("lib/brig.build")).trim();
        AtomicInteger hellos = new AtomicInteger();
        List<List<String>> requests = java.util.Collections.synchronizedList(new ArrayList<>());
        List<SocketChannel> held = new ArrayList<>();
        Files.deleteIfExists(ServerIT.SOCKET);
        try (ServerSocketChannel fake = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            fake.bind(UnixDomainSocketAddress.of(ServerIT.SOCKET));
            CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
                try {
                    while (true) {
                        SocketChannel c = fake.accept();
                        held.add(c);
                        ByteBuffer head = read(c, 8);
                        String hello = new String(read(c, head.getInt(4)).array(), StandardCharsets.UTF_8);
                        // Other worktrees' builds may call meanwhile: count only ours.
                        if (head.getInt(0) != Protocol.HELLO || !hello.equals(build)) continue;
                        hellos.incrementAndGet();
                        c.write(ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(Protocol.READY).putInt(0).flip());
                        // The request (its cwd fd is dropped): which command came; then nothing.
                        ByteBuffer req = read(c, read(c, 8).getInt(4));
                        requests.add(Server.Request.parse(req.array()).argv());
                    }
                } catch (IOException e) {
                    // closed at the end of the test
                }
            }, task -> Thread.ofPlatform().daemon().start(task));
            TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("echo once");
            b.write();
            ids.add(b.id());
            long t0 = System.nanoTime();
            Brig.Result r = Brig.run(dir, List.of("--root", brig.root().toString(), "run", "--bundle", b.dir().toString(), b.id()),
                    null, Map.of("BRIG_TEST_PATIENCE", "2"), 60);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(new Brig.Result(0, "once\n", ""), r);
            // The run asked once, then ran cold; its supervisor removed the container itself
            // (brig.runtime.Teardown): no `delete` call of its own to wait and go cold too.
            List<String> verbs = requests.stream().map(a -> a.get(2)).toList();
            assertEquals(List.of("run"), verbs, "requests: " + requests);
            assertEquals(1, hellos.get());
            assertTrue(ms >= 2000, "the client went cold before its patience: " + ms + " ms");
            assertEquals("", brig.brig(dir, COLD, List.of("list", "-q")).expect(0).out(), "the run's container stays");
            assertEquals("", processes("brig.server.Server"), "a server started while the fake one held the name");
            fake.close();
            for (SocketChannel c : held) c.close();
            serving.exceptionally(e -> null).join();
        } finally {
            Files.deleteIfExists(ServerIT.SOCKET);
        }
    }

    /**
     * The server SIGKILLed while a warm `run` waits for its container (handed over: the
     * container runs): the container runs on under the caller's supervisor and ends as it
     * would, its exit status is the caller's, and its teardown delete happens (cold or by a
     * new server): no container, no cgroup left.
     */
    @Test
    void aServerKilledDuringAWarmRunLeavesTheRunToFinish() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("b")).sh("echo started; sleep 3; echo done; exit 7");
        b.write();
        ids.add(b.id());
        long pid = serverPid(WARM);
        assertTrue(pid > 0, "no server started");
        CompletableFuture<Brig.Result> run = CompletableFuture.supplyAsync(
                () -> Brig.run(dir, List.of("--root", brig.root().toString(), "run", "--bundle", b.dir().toString(), b.id()), null, WARM, 60),
                task -> Thread.ofPlatform().daemon().start(task));
        brig.awaitStatus(b.id(), "running");
        ProcessHandle server = ProcessHandle.of(pid).orElseThrow();
        server.destroyForcibly();
        server.onExit().join();
        assertEquals("running", brig.status(b.id()), "the container did not outlive the server");
        Brig.Result r = run.join();
        assertEquals(new Brig.Result(7, "started\ndone\n", ""), r);
        assertEquals("", brig.brig(dir, COLD, List.of("list", "-q")).expect(0).out(), "the run's teardown did not happen");
    }

    private static ByteBuffer read(SocketChannel c, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.nativeOrder());
        while (b.hasRemaining()) {
            if (c.read(b) < 0) throw new IOException("closed");
        }
        return b.flip();
    }

    /** The pid `server status` names, the server started by a `--version` with {@code env} if none ran; -1 if none. */
    private long serverPid(Map<String, String> env) {
        Brig.run(dir, List.of("--version"), null, env, 30).expect(0);
        Matcher m = Pattern.compile("running: pid (\\d+)").matcher(Brig.run(dir, List.of("server", "status"), null, WARM, 30).out());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Pids of this dist's processes whose command line has {@code what}, space-separated. */
    private static String processes(String what) {
        StringBuilder out = new StringBuilder();
        ProcessHandle.allProcesses().forEach(p -> {
            String c = p.info().commandLine().orElse("");
            if (c.contains(what) && c.contains(Brig.dist().toString())) out.append(p.pid()).append(' ');
        });
        return out.toString();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
