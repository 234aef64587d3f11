package brig.cli;

import brig.container.MonitorFiles;
import brig.errors.BrigFailure;
import brig.image.ContainerBundles;
import brig.image.ImageException;
import brig.image.Layout;
import brig.json.Json;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Detached containers: `container run -d`, and `container start` of one created with -d.
 * The container's supervisor is then a monitor of its own (brig-helper monitor, see the
 * helper's monitor()): a native process in its own session and in Brig's cgroup
 * /brig.monitor/NAME (as root), the container's parent and subreaper, that writes the log and
 * the exit file of {@link MonitorFiles} and runs `container cleanup` afterwards. No JVM stays.
 *
 * <p>The container's first process must be a descendant of its monitor (only a subreaper
 * ancestor inherits it); so the monitor runs `bin/brig container monitored NAME` in its own
 * process, exactly as a foreground `container start` runs under its supervisor: as root the
 * resident server answers it and the monitor's process starts the helper (~18 ms for the whole
 * `container run -d`), else a JVM of its own (~0.25 s). Its word (that the container runs, or
 * why not, with docker's exit code) comes over a pipe the monitor passes on
 * (BRIG_DETACH_REPORT), which a server opens through /proc/PID/fd.
 */
final class ContainerDetach {
    private ContainerDetach() {}

    /** In a bundle's annotations: made with `create -d`, so `start` runs it detached. */
    static final String DETACH = "brig.container.detach";

    /** The monitors' cgroup below the root of every hierarchy, as the server's is /brig.server. */
    static final String MONITOR_CGROUP = "brig.monitor";

    static final String REPORT = "BRIG_DETACH_REPORT";

    /** The hidden verb the monitor's JVM runs. */
    static final List<Args.Flag> MONITORED_FLAGS = List.of(ImageFlags.STORE);

    /**
     * Starts the bundle under a monitor of its own; prints the name and returns 0 once the
     * container runs, or prints why not and returns docker's code (125, 126, 127).
     */
    static int start(Invocation inv, Path storeDir, Path bundle, String name, boolean rm) throws Exception {
        // A new run: the last one's exit is no longer the container's (its log goes on).
        Files.deleteIfExists(MonitorFiles.exit(bundle));
        Files.deleteIfExists(bundle.resolve(ContainerCommand.EXITED));
        Path home = inv.host().home();
        if (home == null) throw new IllegalStateException("brig.home is not set: start brig with bin/brig");
        List<String> argv = new ArrayList<>(List.of("brig-helper", "monitor", "--log", MonitorFiles.log(bundle).toString(),
                "--exit", MonitorFiles.exit(bundle).toString()));
        if (Libc.geteuid() == 0) {
            try {
                // One of its own below brig.monitor: a monitor leaving removes its own only (and
                // brig.monitor once empty), never one a new monitor is about to enter.
                // Named after the container, so that `container rm` finds one a killed monitor left.
                for (Path dir : brig.cgroups.Hierarchy.make(MONITOR_CGROUP + "/" + name)) argv.addAll(List.of("--cgroup", dir.toString()));
            } catch (brig.cgroups.CgroupException e) {
                // As the server: a monitor in the caller's cgroups still works (never the container's).
                inv.warn(e.getMessage() + " (the monitor stays in the cgroups of brig's caller)");
            }
        }
        // bin/brig's cold path execs `brig-helper launch JAVA ... brig.cli.Main ARGS` in the
        // monitor's own process: the JVM's command line is the client's, in one place.
        // As root, answered by the resident server when there is one (~20 ms, not a JVM of
        // its own: ~0.25 s); it reaches the report pipe through /proc/PID/fd (monitored).
        argv.add(home.resolve("bin/brig").toString());
        if (Libc.geteuid() != 0) argv.add("--no-server");
        argv.addAll(List.of("--root", inv.globals().root().toString(), "container", "monitored", "--store", storeDir.toString(), name));
        // A pipe, not a socket: a server answering `monitored` opens its write end by path.
        int[] sp = Libc.pipe();
        String said;
        try {
            int devnull = Libc.open("/dev/null", Libc.O_RDWR, 0);
            try {
                // Nothing of the caller's: /dev/null as stdin and stdout, the socket as stderr,
                // an empty environment (the container's is in its config.json) but the caller's
                // NOTIFY_SOCKET (a systemd unit of Type=notify): the monitor, which stays,
                // passes the container's READY=1 on with its own pid as MAINPID, before this
                // call returns (podman's --sdnotify=conmon; the unit needs NotifyAccess=all).
                String notify = CreateCommand.notifySocket(inv);
                List<String> env = notify == null ? List.of() : List.of("NOTIFY_SOCKET=" + notify);
                int pid = Libc.spawnWithStdio(home.resolve("libexec/brig-helper").toString(), argv, env, devnull, devnull, sp[1]);
                Libc.waitpid(pid, 0); // it forks the monitor off and exits
            } finally {
                Libc.close(devnull);
                Libc.close(sp[1]);
            }
            said = readReport(sp[0]);
        } finally {
            Libc.close(sp[0]);
        }
        int nul = said.indexOf('\0');
        inv.err().print(nul < 0 ? said : said.substring(0, nul));
        if (nul < 0) {
            // No word: the monitor or its JVM died before the container ran (the monitor's
            // clean-up ran before it closed the socket).
            inv.err().println("brig: container " + name + ": its monitor ended before the container started (see " + MonitorFiles.log(bundle) + ")");
            if (rm) removeQuietly(bundle);
            return ContainerCommand.FAILED;
        }
        int status = Integer.parseInt(said.substring(nul + 1).strip());
        if (status == 0) inv.out().println(name);
        return status;
    }

    /**
     * Removes the container's monitor cgroups (brig.monitor/NAME in every hierarchy) and
     * brig.monitor once empty: its monitor removes them as it exits, one that was killed
     * cannot. One still in use (EBUSY) stays.
     */
    static void forgetMonitor(String name) {
        if (Libc.geteuid() != 0) return;
        try {
            for (brig.cgroups.Hierarchy h : brig.cgroups.Hierarchy.discover()) {
                Path dir = h.mountPoint().resolve(MONITOR_CGROUP);
                for (Path p : List.of(dir.resolve(name), dir)) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException e) {
                        // busy: a monitor is in it
                    }
                }
            }
        } catch (IOException e) {
            // no cgroups to read: none of ours either
        }
    }

    /** Until the monitor's JVM says "\0STATUS\n" (0: running), or the socket closes. */
    private static String readReport(int fd) throws SyscallException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            while (true) {
                int n = Libc.read(fd, buf, buf.byteSize());
                if (n <= 0) break;
                got.writeBytes(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                byte[] b = got.toByteArray();
                int nul = indexOf(b, (byte) 0);
                if (nul >= 0 && indexOf(Arrays.copyOfRange(b, nul, b.length), (byte) '\n') >= 0) break;
            }
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] b, byte x) {
        for (int k = 0; k < b.length; k++) if (b[k] == x) return k;
        return -1;
    }

    /**
     * `container monitored NAME`, in the JVM the monitor started: starts the container as
     * `container start` does, handing it to the monitor (this process's supervisor), and says
     * on the report socket what came of it. Its own stdout and stderr are the log.
     */
    static int monitored(Invocation inv, Args a) throws Exception {
        String fdText = inv.env(REPORT);
        if (fdText == null || inv.sv() == null) throw new Args.UsageException("container monitored: only brig-helper monitor runs this");
        int inherited = Integer.parseInt(fdText);
        // Served, the pipe is the caller's fd (the monitor's process), not this process's.
        long caller = inv.caller().pid();
        boolean here = caller == ProcessHandle.current().pid();
        int fd = here ? inherited : Libc.open("/proc/" + caller + "/fd/" + inherited, Libc.O_WRONLY | Libc.O_CLOEXEC, 0);
        if (here) Libc.setCloseOnExec(fd, true);
        PrintStream report = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    Libc.writeFully(fd, Arrays.copyOfRange(b, off, off + len));
                } catch (SyscallException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        }, true, StandardCharsets.UTF_8);
        // Errors and warnings of the start go to the brig that waits (and its caller), not the log.
        Invocation rep = new Invocation(inv.in(), inv.out(), report, inv.env(), inv.cwd(), inv.umask(), inv.caller(), inv.globals(), inv.host());
        int status;
        try {
            String name = a.exactly("container monitored", 1).get(0);
            Path storeDir = ImageFlags.storeDir(inv, a);
            Path bundle = ContainerBundles.bundle(Layout.open(storeDir), name);
            status = ContainerCommand.startBundle(rep, storeDir, bundle, name, annotation(bundle, ContainerCommand.AUTO_REMOVE), true);
        } catch (BrigFailure e) {
            rep.fail(e.getMessage(), e);
            status = ContainerCommand.exitFor(e.getMessage());
        } catch (Exception e) {
            rep.fail(e instanceof IOException && e.getMessage() != null ? e.getMessage() : "internal error: " + e);
            status = ContainerCommand.FAILED;
        }
        report.print("\0" + status + "\n");
        report.flush();
        if (!here) Libc.close(fd);
        return status;
    }

    /** Whether the bundle's config.json has annotation {@code key} "true". */
    static boolean annotation(Path bundle, String key) throws Exception {
        JsonObject config = Json.parseObjectFile(bundle.resolve("config.json"));
        JsonElement v = config.has("annotations") ? config.getAsJsonObject("annotations").get(key) : null;
        return v != null && v.getAsString().equals("true");
    }

    /**
     * After `rm -f` killed a container: waits (up to 10 s) until its supervisor, foreground or
     * monitor, has exited, so that its exit file and clean-up land before the bundle goes, not
     * in a directory being removed. Only a supervisor (brig-helper): a container's parent may
     * be anything else whose end is not ours to wait for.
     */
    static void awaitSupervisor(java.util.Optional<ProcessHandle> parent) throws InterruptedException {
        if (parent.isEmpty() || !parent.get().info().command().orElse("").endsWith("/brig-helper")) return;
        // Not ProcessHandle.onExit: for a process not our child it looks every 300+ ms, and a
        // zombie counts as alive until its new parent reaps it (rm -f of a detached sleeper took 1.5 s here; this way 0.36-0.59 s, mostly the monitor's clean-up JVM).
        String first = stat(parent.get().pid());
        for (int k = 0; k < 1000; k++) {
            String now = stat(parent.get().pid());
            if (now == null || !now.equals(first)) return;
            Thread.sleep(10);
        }
    }

    /** A process's start time (field 22 of /proc/PID/stat), or null once it has gone or is a zombie (field 3). */
    private static String stat(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return f[0].equals("Z") || f[0].equals("X") ? null : f[19];
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static void removeQuietly(Path bundle) {
        try {
            ContainerBundles.remove(bundle);
        } catch (ImageException e) {
            // gone already (the monitor's clean-up), or the failure above is what matters
        }
    }
}
