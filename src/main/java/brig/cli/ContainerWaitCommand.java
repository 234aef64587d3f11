package brig.cli;

import brig.syscalls.Libc;

import brig.container.ContainerException;
import brig.container.MonitorFiles;
import brig.image.ImageException;
import brig.runtime.ContainerState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * `brig container wait NAME...`: blocks until each container has exited and prints its exit
 * status, as its monitor wrote it (at once for one that has exited already). A container
 * that is only created is waited for until it has run. One that ran in the foreground has
 * no recorded status (no monitor): that is an error.
 */
final class ContainerWaitCommand {
    private ContainerWaitCommand() {}

    static final List<Args.Flag> FLAGS = List.of(ImageFlags.STORE);

    static int run(Invocation inv, Args a) throws Exception {
        if (a.positional().isEmpty()) throw new Args.UsageException("\"container wait\" requires at least 1 argument");
        ContainerLogsCommand.forwardSignals(inv);
        for (String name : a.positional()) {
            Path bundle = ContainerLogsCommand.bundle(inv, a, name);
            Watch w = new Watch(inv, bundle, name);
            MonitorFiles.Exit exit;
            // A shared lock on the bundle until the exit is read: a --rm removal waits for it.
            int held;
            try {
                held = Libc.open(bundle.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            } catch (brig.syscalls.SyscallException e) {
                throw new ImageException("no such container: " + name + " (removed before its exit was read)");
            }
            try {
                Libc.flock(held, Libc.LOCK_SH, true, bundle.toString());
                while (!w.ended()) Thread.sleep(ContainerLogsCommand.POLL_MS);
                exit = MonitorFiles.readExit(bundle);
            } finally {
                Libc.close(held);
            }
            if (exit == null && !Files.exists(bundle)) throw new ImageException("no such container: " + name + " (removed before its exit was read)");
            if (exit == null && Files.exists(bundle.resolve(ContainerCommand.EXITED))) {
                throw new ContainerException("container " + name + " ran in the foreground: its exit status was not recorded (only detached containers have one)");
            }
            if (exit == null) throw new ContainerException("container " + name + " has exited, but no monitor recorded its status (was its monitor killed?)");
            inv.out().println(exit.status());
        }
        return 0;
    }

    /**
     * Whether a container has ended, asked again and again: its monitor wrote the exit file,
     * or its bundle went (--rm), or it has no state and has run (its supervisor's clean-up is
     * done), or its state has said "stopped" for {@link #GRACE_NS} with no exit file: its
     * monitor, which writes that file within milliseconds of reaping it (a terminal's last
     * output drained for 100 ms at most), is gone. A created container has not ended.
     */
    static final class Watch {
        static final long GRACE_NS = 5_000_000_000L;
        private final Invocation inv;
        private final Path bundle;
        private final String name;
        private long stoppedSince = -1;

        Watch(Invocation inv, Path bundle, String name) {
            this.inv = inv;
            this.bundle = bundle;
            this.name = name;
        }

        boolean ended() throws Exception {
            if (Files.exists(MonitorFiles.exit(bundle)) || !Files.exists(bundle)) return true;
            ContainerState st = ContainerCommand.runtime(inv).store().read(name);
            // The exit file comes before the clean-up removes the state: look for it again.
            if (st == null) return Files.exists(MonitorFiles.exit(bundle)) || Files.exists(bundle.resolve(ContainerCommand.EXITED));
            if (!st.status().equals("stopped")) {
                stoppedSince = -1;
                return false;
            }
            if (stoppedSince < 0) stoppedSince = System.nanoTime();
            return System.nanoTime() - stoppedSince > GRACE_NS;
        }
    }
}
