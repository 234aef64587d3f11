package brig.server;

import brig.cli.Dispatch;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * What a new server does before its callers need it: it plans a run of runc's default config
 * ({@code run --explain} of a bundle of its own, which makes nothing) until the JIT has
 * compiled reading and planning, between calls only and on a thread the kernel runs only when
 * nothing else of the server wants the CPU. Measured: a fresh server's first 20 runs took 11.9 ms each (median),
 * those after 150 calls 6.1 ms; a run's planning code runs once a call, so only many calls
 * compile it.
 */
final class Warmup implements AutoCloseable {
    /** Plans this many runs: at a tenth of the default thresholds (bin/brig's server flags) C1 has compiled them by then. */
    static final int PLANS = 150;

    private final Path home;
    private final int uid, gid;
    private final java.util.function.BooleanSupplier busy;
    private final Consumer<String> log;
    private final Thread thread = new Thread(this::plan, "brig-warmup");
    private volatile boolean closed;

    /** @param busy whether a call is being served: the warm-up plans only between calls, never beside one */
    private Warmup(Path home, int uid, int gid, java.util.function.BooleanSupplier busy, Consumer<String> log) {
        this.home = home;
        this.uid = uid;
        this.gid = gid;
        this.busy = busy;
        this.log = log;
    }

    static Warmup start(Path home, int uid, int gid, java.util.function.BooleanSupplier busy, Consumer<String> log) {
        Warmup w = new Warmup(home, uid, gid, busy, log);
        w.thread.setDaemon(true);
        w.thread.start();
        return w;
    }

    /** Stops planning and waits (briefly) until the bundle made for it is gone: the server is exiting. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void plan() {
        Path dir = null;
        try {
            Libc.niceThisThread(19);
            // Beside the socket, one name per installation: a server killed while it warmed up
            // leaves it to the next one, which removes it first.
            dir = Protocol.dir(uid).resolve(Protocol.warmup(home));
            remove(dir);
            Files.createDirectories(dir.resolve("rootfs"));
            run(dir, List.of("spec", "--bundle", dir.toString()));
            List<String> plan = List.of("--root", dir.resolve("state").toString(), "run", "--explain", "--bundle", dir.toString(), "warmup");
            for (int k = 0; k < PLANS && !closed; k++) {
                while (busy.getAsBoolean() && !closed) Thread.sleep(5);
                if (run(dir, plan) != 0) {
                    log.accept("warm-up: run --explain of runc's default config failed; stopped");
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | SyscallException | RuntimeException e) {
            log.accept("warm-up: " + e.getMessage());
        } finally {
            if (dir != null) remove(dir);
        }
    }

    private int run(Path dir, List<String> argv) {
        PrintStream none = new PrintStream(OutputStream.nullOutputStream());
        return Dispatch.run(argv, InputStream.nullInputStream(), none, none, Map.of(), dir, 022,
                ProcessHandle.current().pid(), uid, gid, home);
    }

    private static void remove(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            // the warm-up's own bundle: the next server removes it first
        }
    }
}
