package brig.server;

import brig.cli.Dispatch;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The resident Brig: one JVM that answers brig's quick commands for every caller with its own
 * powers ({@link Peer}), so that they cost a few milliseconds instead of a JVM's start. The
 * native client (bin/brig, src/main/c/brig-client.c) starts it on demand and hands it the
 * listening socket as fd 3; it runs in a clean context (empty environment, / as working
 * directory, a session of its own, umask 022, no attach mechanism) and serves each call on a
 * thread of its own, with the caller's environment, working directory and umask (see
 * {@link Protocol} for the wire).
 *
 * <p>Served: the verbs that start no process (state, list, ps, kill, delete, pause, resume,
 * update, events, features, spec, help, --version) and start, which lets a created container
 * go by its exec fifo and runs the host's hooks (poststart; poststop for delete) in the
 * caller's working directory, their output in the caller's frames. run, create and exec are
 * planned and carried out here but supervised by the caller's own process ({@link CallerLink}):
 * it starts the helper, so the container is the caller's descendant with the caller's stdio.
 */
public final class Server {
    /**
     * Why 5 minutes: engines call the runtime in bursts (create, start, state several times,
     * kill, delete for a container), seconds apart; the server costs ~50 MB resident while it
     * waits, and a call that finds none pays one JVM start (~0.1-0.2 s here) once. Minutes
     * keep a busy node warm and give the memory back soon after the last container changed.
     */
    static final Duration IDLE = Duration.ofMinutes(5);

    /**
     * The verbs served here; "" is --version, --help or no verb, null a bad global flag. A
     * verb brig does not know is answered here too (runc's "No help topic").
     */
    static final Set<String> SERVED = Set.of("", "help", "h", "spec", "state", "list", "ps", "kill", "start", "delete", "pause",
            "resume", "update", "events", "features", "server", "run", "create", "exec", "container");

    /**
     * Root's server lives in this cgroup, below the root of every hierarchy (v1 and unified):
     * not below the caller's (a test JVM's, conmon's, a systemd unit's: removing that cgroup
     * would fail while the server lived, and its limits and accounting would be ours), nor
     * below Brig's default parent for containers (/brig), whose children are containers. At
     * exit the server moves back to the root cgroups and removes it, unless a newer server is
     * in it by then. An unprivileged user's server stays where it was started.
     */
    static final String CGROUP = "brig.server";

    private final int listening;
    private final Path home;
    private final String build;
    private final Duration idle;
    private final int uid = Libc.geteuid(), gid = Libc.getegid();
    private final int umask;
    private final int[] wake;
    private final Instant started = Instant.now();
    private final AtomicLong served = new AtomicLong(), calls = new AtomicLong();
    private final AtomicInteger active = new AtomicInteger();
    private volatile long lastCall = System.nanoTime();
    private volatile String stopping;
    private final PrintStream log = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);

    private final long bornNanos = System.nanoTime();
    /** Root's server entering its own cgroups (a thread of its own, see main): null once in, else why not. */
    private final java.util.concurrent.Future<String> entering;

    private Server(int listening, Path home, Duration idle, java.util.concurrent.Future<String> entering) throws SyscallException, IOException {
        this.entering = entering;
        this.listening = listening;
        this.home = home;
        this.build = Protocol.buildId(home);
        this.idle = idle;
        this.wake = Libc.socketpair();
        this.umask = Integer.parseInt(statusLine(Files.readString(Path.of("/proc/self/status")), "Umask"), 8);
    }

    /** {@code brig.server.Server FD [IDLE-SECONDS]}: serves on the listening socket FD. */
    public static void main(String[] args) throws Exception {
        // Root's server enters its own cgroups first, on a thread of its own: the move's first
        // write waits out the kernel's RCU grace period (11-23 ms measured at a server's start),
        // which so passes while this thread links its C calls (~20 ms), and the JVM's memory
        // from here on is charged to the server's cgroups, not to its starter's. Not root: it
        // stays in its starter's cgroups (on v1 it dies with them: README). The same thread
        // then reads what the first caller is compared with (Peer). Measured: a server's first
        // call (started by it) 172 -> 161 ms.
        boolean root = isRoot();
        java.util.concurrent.FutureTask<String> entering = new java.util.concurrent.FutureTask<>(() -> {
            String failed = null;
            try {
                if (root) brig.cgroups.Hierarchy.enter(CGROUP);
            } catch (brig.cgroups.CgroupException | RuntimeException e) {
                failed = e.getMessage();
            }
            Peer.prime();
            return failed;
        });
        Thread t = new Thread(entering, "brig-server-start");
        t.setDaemon(true);
        t.start();
        String home = System.getProperty("brig.home");
        Duration idle = args.length > 1 ? Duration.ofSeconds(Long.parseLong(args[1])) : IDLE;
        new Server(Integer.parseInt(args[0]), home == null ? null : Path.of(home), idle, entering).serve();
    }

    /**
     * The inode of the socket's name, read before the first call: the client that started
     * this server holds the start lock until this server has answered it, so the name is
     * still the one it bound for us (fstat of the socket itself gives sockfs's inode).
     */
    private long socketIno = -1;

    private void serve() throws SyscallException, InterruptedException {
        Libc.Stat named = Libc.statx(Libc.AT_FDCWD, Protocol.dir(uid).resolve(Protocol.socket(home)).toString(), Libc.AT_SYMLINK_NOFOLLOW);
        if (named != null) socketIno = named.ino();
        if (uid == 0) brig.runtime.Runtime.keepDefaultParents(true); // removed when this server exits
        String notEntered; // waited for before the first call: none is served from the starter's cgroups
        try {
            notEntered = entering.get();
        } catch (java.util.concurrent.ExecutionException e) {
            notEntered = "cgroup: " + e.getCause();
        }
        if (notEntered != null) log(notEntered + " (serving from the cgroups it was started in)");
        // SIGTERM (an admin, a shutdown, a test harness) ends the server as `brig server stop`
        // does: calls finish, and its cgroups and the kept default parents go with it.
        java.util.concurrent.CountDownLatch exited = new java.util.concurrent.CountDownLatch(1);
        java.lang.Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop("stopped by a signal");
            try {
                exited.await(12, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "brig-server-exit"));
        // The caller that started this server waits on the socket: the warm-up plans only
        // once that call is answered (or none came for a second), never beside it.
        Warmup warmup = home == null ? null : Warmup.start(home, uid, gid,
                () -> active.get() > 0 || served.get() == 0 && System.nanoTime() - bornNanos < 1_000_000_000L, this::log);
        try {
            loop();
        } finally {
            if (warmup != null) warmup.close();
            exited.countDown();
        }
    }

    private void loop() throws SyscallException, InterruptedException {
        log("serving (build " + build + ", pid " + ProcessHandle.current().pid() + ", exits after " + idle.toSeconds() + " s without a call)");
        Libc.setCloseOnExec(listening, true);
        while (stopping == null) {
            long waited = System.nanoTime() - lastCall;
            if (active.get() == 0 && waited >= idle.toNanos()) {
                stopping = "no call for " + idle.toSeconds() + " s";
                break;
            }
            int timeout = (int) Math.min(Integer.MAX_VALUE, Math.max(1, (idle.toNanos() - waited) / 1_000_000));
            boolean[] ready = Libc.pollIn(new int[] {listening, wake[0]}, timeout);
            if (ready[0] && stopping == null) {
                int conn = Libc.accept(listening);
                active.incrementAndGet();
                calls.incrementAndGet();
                Thread t = new Thread(() -> call(conn), "brig-call-" + calls.get());
                t.setDaemon(true);
                t.start();
            }
        }
        release();
        // Calls under way finish (a stop waits for them at most 10 s: an `events` may run for ever).
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (active.get() > 0 && (!stopping.startsWith("stop") || System.nanoTime() < deadline)) Thread.sleep(20);
        // Out of our cgroup and remove it, so that none is left behind (one a newer server entered stays).
        if (uid == 0) brig.cgroups.Hierarchy.leave(CGROUP).forEach(this::log);
        if (uid == 0) brig.runtime.Runtime.removeDefaultParents().forEach(this::log);
        log("exiting: " + stopping);
    }

    /**
     * Stops taking calls: the listening socket is closed and, unless a newer server's client
     * is taking its place, its name removed (under the start lock, if it is still ours).
     */
    private void release() {
        if (!stopping.startsWith("stale")) {
            Path dir = Protocol.dir(uid);
            int lock = -1;
            try {
                lock = Libc.open(dir.resolve(Protocol.lock(home)).toString(), Libc.O_RDWR | Libc.O_NOFOLLOW, 0);
                Libc.flock(lock, Libc.LOCK_EX, true, Protocol.lock(home));
                Libc.Stat there = Libc.statx(Libc.AT_FDCWD, dir.resolve(Protocol.socket(home)).toString(), Libc.AT_SYMLINK_NOFOLLOW);
                if (there != null && there.ino() == socketIno) Files.deleteIfExists(dir.resolve(Protocol.socket(home)));
            } catch (SyscallException | IOException e) {
                log("cannot remove " + dir.resolve(Protocol.socket(home)) + ": " + e.getMessage());
            } finally {
                Libc.close(lock);
            }
        }
        Libc.close(listening);
    }

    private void stop(String why) {
        if (stopping == null) stopping = why;
        try {
            Libc.writeFully(wake[1], new byte[] {1});
        } catch (SyscallException e) {
            // the accept loop sees `stopping` at its next turn
        }
    }

    /** One caller's connection: the handshake, the request, and the command or "cold". */
    private void call(int conn) {
        int cwd = -1;
        try {
            Protocol.Frame hello = Protocol.read(conn);
            Libc.close(hello.fd());
            if (hello.type() != Protocol.HELLO) return;
            if (!new String(hello.payload(), StandardCharsets.UTF_8).equals(build)) {
                // The client is of another build (brig was upgraded): it starts a server of its own.
                stop("stale: a client of another build called");
                Protocol.write(conn, Protocol.STALE, new byte[0]);
                return;
            }
            Protocol.write(conn, Protocol.READY, new byte[0]);
            Protocol.Frame req = Protocol.read(conn);
            cwd = req.fd();
            if (req.type() != Protocol.REQUEST) return;
            Request r = Request.parse(req.payload());
            Libc.PeerCred peer = Libc.peerCred(conn);
            String verb = Dispatch.verb(r.argv());
            List<String> args = verb == null || verb.isEmpty() ? List.of() : r.argv().subList(r.argv().indexOf(verb) + 1, r.argv().size());
            // Asking about or stopping the server takes only its uid and gid (the server's own business).
            boolean control = "server".equals(verb) && (args.equals(List.of("status")) || args.equals(List.of("stop")));
            String cold = control && peer.uid() == uid && peer.gid() == gid ? null : Peer.differs(peer.pid(), peer.uid(), peer.gid(), uid, gid);
            if (cold == null && !control && r.umask() != umask) cold = "caller's umask " + Integer.toOctalString(r.umask()) + " is not the server's";
            if (cold == null && cwd < 0) cold = "no working directory came";
            if (cold == null && verb != null && !SERVED.contains(verb) && Dispatch.known(verb)) cold = "\"" + verb + "\" is not served yet";
            boolean supervised = cold == null && Dispatch.supervised(verb, r.env());
            Path dir = cold == null ? workingDirectory(cwd) : null;
            // The plan names paths the helper opens in the caller's process: /proc/self/fd/N is ours.
            if (supervised && dir.startsWith("/proc/self/fd")) cold = "the working directory has no name (removed or renamed)";
            if (supervised && cold == null && sealedHelper() < 0) cold = "no helper binary to start containers from";
            if (cold != null) {
                Protocol.write(conn, Protocol.COLD, Protocol.text(cold));
                return;
            }
            Protocol.write(conn, Protocol.ACK, new byte[] {(byte) (supervised ? 2 : Dispatch.runsLong(verb) ? 1 : 0)});
            served.incrementAndGet();
            Object lock = new Object();
            Incoming incoming = new Incoming(conn);
            CallerLink link = supervised ? new CallerLink(conn, lock, sealedHelper(), incoming) : null;
            // The helper starts in the caller's process while this thread plans (measured: the
            // spawn and the helper's own start took 0.8 ms of a 8.2 ms warm run, after planning).
            if (link != null && Dispatch.startsHelper(r.argv())) link.prespawn();
            Frames out = new Frames(conn, Protocol.OUT, lock), err = new Frames(conn, Protocol.ERR, lock);
            int status;
            try (PrintStream o = out.print(); PrintStream e = err.print()) {
                if (verb.equals("server") && args.equals(List.of("status"))) {
                    o.print(status());
                    status = 0;
                } else if (verb.equals("server") && args.equals(List.of("stop"))) {
                    o.println("stopped the brig server (pid " + ProcessHandle.current().pid() + ")");
                    stop("stopped by `brig server stop` (pid " + peer.pid() + ")");
                    status = 0;
                } else {
                    status = Dispatch.run(r.argv(), new Input(conn, incoming), o, e, r.env(), dir, r.umask(),
                            peer.pid(), peer.uid(), peer.gid(), home, link);
                    List<String> teardown = link == null ? null : link.teardown();
                    if (teardown != null) {
                        o.flush();
                        e.flush();
                        Protocol.write(conn, Protocol.EXIT, Protocol.u32(status));
                        // The call stays open while the container runs (it counts as a call:
                        // no idle exit meanwhile); its supervisor says when it has exited.
                        Protocol.Frame f = incoming.next();
                        Libc.close(f.fd());
                        if (f.type() != Protocol.TEARDOWN || CallerLink.removedBySupervisor(f)) return;
                        status = Dispatch.run(teardown, new Input(conn, incoming), o, e, r.env(), dir, r.umask(),
                                peer.pid(), peer.uid(), peer.gid(), home, null);
                    }
                }
            }
            incoming.drop(); // a helper started ahead and never used: it ends with this fd
            Protocol.write(conn, Protocol.EXIT, Protocol.u32(status));
        } catch (EOFException | SyscallException e) {
            // The caller went away (killed mid-call, say): nothing of ours is left to answer.
        } catch (RuntimeException | IOException e) {
            log("call failed: " + e);
        } finally {
            Libc.close(cwd);
            Libc.close(conn);
            lastCall = System.nanoTime();
            active.decrementAndGet();
        }
    }

    private int helperCopy = -1;

    /** The sealed copy of the helper every supervised call's client starts from, made once; -1 if there is none. */
    private synchronized int sealedHelper() {
        if (helperCopy < 0 && home != null) {
            try {
                helperCopy = CallerLink.sealedHelper(home);
            } catch (SyscallException e) {
                log("cannot copy the helper: " + e.getMessage());
            }
        }
        return helperCopy;
    }

    /**
     * The caller's working directory as a name, which is what NIO and error messages take:
     * the path the fd names, if that is still the same directory; else /proc/self/fd/N, which
     * the kernel resolves to it (a directory removed or renamed since).
     */
    private static Path workingDirectory(int fd) {
        Path byFd = Path.of("/proc/self/fd/" + fd);
        try {
            Path named = Files.readSymbolicLink(byFd);
            Libc.Stat a = Libc.statx(fd, "", Libc.AT_EMPTY_PATH), b = Libc.statx(Libc.AT_FDCWD, named.toString(), 0);
            if (named.isAbsolute() && a != null && b != null && a.ino() == b.ino() && a.isDirectory()) return named;
        } catch (IOException | SyscallException e) {
            // the fd's own name then
        }
        return byFd;
    }

    private String status() {
        return "running: pid " + ProcessHandle.current().pid() + "\n"
                + "socket: " + Protocol.dir(uid).resolve(Protocol.socket(home)) + "\n"
                + "build: " + build + "\n"
                + "up: " + Duration.between(started, Instant.now()).toSeconds() + " s\n"
                + "served: " + served.get() + " calls (" + (calls.get() - served.get()) + " others answered cold or refused)\n"
                + "calls now: " + (active.get() - 1) + " besides this one\n"
                + "exits: after " + idle.toSeconds() + " s without a call\n";
    }

    private void log(String line) {
        log.println(brig.json.Rfc3339.now() + " brig server: " + line);
    }

    /** Whether this process's effective uid is 0, from /proc (no C call: the link is not made yet). */
    private static boolean isRoot() throws IOException {
        String[] uids = statusLine(Files.readString(Path.of("/proc/self/status")), "Uid").trim().split("\\s+");
        return uids.length > 1 && uids[1].equals("0");
    }

    private static String statusLine(String status, String field) {
        int at = status.indexOf("\n" + field + ":");
        int end = status.indexOf('\n', at + 1);
        return status.substring(at + field.length() + 2, end).trim();
    }

    /** What a caller asked for. */
    record Request(int umask, List<String> argv, Map<String, String> env) {
        static Request parse(byte[] p) throws EOFException {
            if (p.length < 12) throw new EOFException("a short request");
            int umask = Protocol.u32(p, 0), argc = Protocol.u32(p, 4), envc = Protocol.u32(p, 8);
            List<String> strings = new ArrayList<>();
            int at = 12;
            for (int k = at; k < p.length; k++) {
                if (p[k] == 0) {
                    strings.add(new String(p, at, k - at, StandardCharsets.UTF_8));
                    at = k + 1;
                }
            }
            if (argc < 0 || envc < 0 || strings.size() != argc + envc) throw new EOFException("a malformed request");
            Map<String, String> env = new HashMap<>();
            for (String e : strings.subList(argc, strings.size())) {
                int eq = e.indexOf('=');
                if (eq > 0) env.putIfAbsent(e.substring(0, eq), e.substring(eq + 1));
            }
            return new Request(umask, List.copyOf(strings.subList(0, argc)), env);
        }
    }

    /**
     * A command's stdout or stderr: frames to the client. A client that went away ends a
     * command that runs until stopped (events): its next write interrupts it.
     */
    private static final class Frames extends OutputStream {
        private final int conn, type;
        private final Object lock;
        private final Thread owner = Thread.currentThread();
        private boolean gone;

        /** @param lock shared by a call's two streams: one frame at a time on the socket */
        Frames(int conn, int type, Object lock) {
            this.conn = conn;
            this.type = type;
            this.lock = lock;
        }

        PrintStream print() {
            return new PrintStream(new BufferedOutputStream(this, 8192), true, StandardCharsets.UTF_8);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            synchronized (lock) {
                if (gone) throw new IOException("the caller went away");
                try {
                    Protocol.write(conn, type, b, off, len);
                } catch (SyscallException e) {
                    gone = true;
                    owner.interrupt();
                    throw new IOException("the caller went away: " + e.getMessage());
                }
            }
        }
    }

    /** A command's stdin: read from the client's fd 0 on demand (update --resources -). */
    private static final class Input extends InputStream {
        private final int conn;
        private final Incoming incoming;
        private boolean end;

        Input(int conn, Incoming incoming) {
            this.conn = conn;
            this.incoming = incoming;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (end) return -1;
            if (len == 0) return 0;
            try {
                Protocol.write(conn, Protocol.IN_WANT, Protocol.u32(Math.min(len, 65536)));
                Protocol.Frame f = incoming.next();
                Libc.close(f.fd());
                if (f.type() != Protocol.IN || f.payload().length > len) throw new IOException("the client sent no input");
                if (f.payload().length == 0) {
                    end = true;
                    return -1;
                }
                System.arraycopy(f.payload(), 0, b, off, f.payload().length);
                return f.payload().length;
            } catch (SyscallException e) {
                throw new IOException("the caller's stdin: " + e.getMessage());
            }
        }
    }
}
