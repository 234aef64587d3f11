package brig.cli;

import brig.container.MonitorFiles;
import brig.image.ContainerBundles;
import brig.image.ImageException;
import brig.image.Layout;
import brig.runtime.ContainerState;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig container logs [-f] NAME`: what a detached container wrote (its monitor's log, see
 * {@link MonitorFiles}), stdout and stderr together in the order written; with -f it goes on
 * printing what comes until the container has exited. A container that never ran detached
 * has no log: nothing is printed.
 */
final class ContainerLogsCommand {
    private ContainerLogsCommand() {}

    static final List<Args.Flag> FLAGS = List.of(ImageFlags.STORE,
            Args.Flag.bool("follow: go on printing until the container has exited", "follow", "f"));

    /**
     * How often -f and `wait` look again. Why polling, not inotify: a look is two stat calls
     * (~10 µs), 50 per second cost nothing next to the JVM's start, and a 20 ms delay is below
     * what a person sees; inotify would need a new FFM binding and a watch on a directory that
     * --rm removes under it.
     */
    static final long POLL_MS = 20;

    static int run(Invocation inv, Args a) throws Exception {
        String name = a.exactly("container logs", 1).get(0);
        Path bundle = bundle(inv, a, name);
        boolean follow = a.bool("follow");
        if (follow) forwardSignals(inv);
        Path log = MonitorFiles.log(bundle);
        InputStream in = null;
        ContainerWaitCommand.Watch watch = new ContainerWaitCommand.Watch(inv, bundle, name);
        try {
            while (true) {
                // Whether it has exited is asked before reading, so what it wrote before its
                // exit file appeared is read after: nothing is lost at the end.
                boolean done = !follow || watch.ended() || notStarted(inv, bundle, name);
                if (in == null) in = open(log);
                if (in != null) copy(in, inv);
                if (done) return 0;
                Thread.sleep(POLL_MS);
            }
        } finally {
            if (in != null) in.close();
        }
    }

    private static InputStream open(Path log) throws IOException {
        try {
            return Files.newInputStream(log);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static void copy(InputStream in, Invocation inv) throws IOException {
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) > 0) inv.out().write(buf, 0, n);
        inv.out().flush();
    }

    /** Created and never run, or run in the foreground: nothing will come (docker's -f would wait for a start). */
    private static boolean notStarted(Invocation inv, Path bundle, String name) throws Exception {
        return ContainerCommand.runtime(inv).store().read(name) == null && !Files.exists(MonitorFiles.exit(bundle));
    }

    /** The container's bundle, which must exist. */
    static Path bundle(Invocation inv, Args a, String name) throws Exception {
        Path bundle = ContainerBundles.bundle(Layout.open(ImageFlags.storeDir(inv, a)), name);
        if (!Files.isRegularFile(bundle.resolve("config.json"))) throw new ImageException("no such container: " + name);
        return bundle;
    }

    /** A command that runs until the container ends: the caller's ^C and TERM end it. */
    static void forwardSignals(Invocation inv) {
        Supervisor sv = inv.sv();
        if (sv == null) return;
        try {
            sv.forwardSignals();
        } catch (brig.syscalls.SyscallException e) {
            // the supervisor is gone: nothing to tell
        }
    }
}
