package brig.cli;

import brig.errors.BrigFailure;
import brig.inspect.ContainerInspect;
import brig.runtime.ContainerState;
import brig.runtime.StateStore;
import java.util.List;

/**
 * `brig container inspect ID`: the container's state, namespaces, cgroups, limits and usage,
 * rootfs layers and mounts as one JSON object (see {@link ContainerInspect}); registered under
 * the `container` group.
 */
final class ContainerInspectCommand {
    private ContainerInspectCommand() {}

    static final List<Args.Flag> FLAGS = List.of();

    static int run(Invocation inv, Args a) throws BrigFailure {
        String id = a.exactly("container inspect", 1).get(0);
        StateStore.checkId(id);
        ContainerState s = new StateStore(inv.globals().root()).read(id);
        if (s == null) throw StateStore.notFound();
        inv.out().println(brig.json.Json.pretty(ContainerInspect.of(s)));
        return 0;
    }
}
