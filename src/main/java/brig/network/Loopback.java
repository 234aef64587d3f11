package brig.network;

import brig.helper.Step;
import brig.rootfs.RootfsException;
import brig.spec.NamespaceType;
import brig.spec.Spec;
import java.util.List;

/**
 * The container's loopback interface. The kernel creates a network namespace with "lo" down;
 * runc leaves it so, and so does `brig run` of a plain bundle. Docker's `--network none`
 * brings it up (127.0.0.1 works, nothing else), and `brig container run` asks for the same
 * with Brig's annotation {@value #ANNOTATION}{@code : "up"} in config.json (other runtimes
 * ignore it). Its only value is "up"; any other is refused, so a typo does not pass for lo
 * down.
 */
public final class Loopback {
    private Loopback() {}

    public static final String ANNOTATION = "brig.network.loopback";

    /** The step that brings lo up, if config.json asks for it; empty otherwise. */
    public static List<Step> steps(Spec spec) throws RootfsException {
        String v = spec.annotations().get(ANNOTATION);
        if (v == null) return List.of();
        if (!v.equals("up")) {
            throw new RootfsException("annotations." + ANNOTATION, "\"" + v + "\" is not a value Brig knows (only \"up\")");
        }
        // A joined namespace is someone else's (the host's, another container's): not ours to change.
        if (!spec.linux().creates(NamespaceType.NETWORK)) {
            throw new RootfsException("annotations." + ANNOTATION, "lo can only be brought up in a network namespace of the"
                    + " container's own (linux.namespaces has no new \"network\")");
        }
        return List.of(new Step.LoopbackUp());
    }
}
