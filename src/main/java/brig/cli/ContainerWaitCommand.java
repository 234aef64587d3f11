package brig.cli;

import brig.container.ContainerException;
import brig.container.MonitorFiles;
import brig.image.ImageException;
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
            MonitorFiles.Exit exit;
            while ((exit = MonitorFiles.readExit(bundle)) == null) {
                if (!Files.exists(bundle)) throw new ImageException("no such container: " + name + " (removed before its exit was read)");
                boolean running = ContainerCommand.runtime(inv).store().read(name) != null;
                // The exit file comes before the clean-up removes the state: read it again.
                if (!running && (exit = MonitorFiles.readExit(bundle)) != null) break;
                if (!running && Files.exists(bundle.resolve(ContainerCommand.EXITED))) {
                    throw new ContainerException("container " + name + " ran in the foreground: its exit status was not recorded (only detached containers have one)");
                }
                Thread.sleep(ContainerLogsCommand.POLL_MS);
            }
            inv.out().println(exit.status());
        }
        return 0;
    }
}
