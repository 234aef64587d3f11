package brig.process;

import brig.helper.Step;
import brig.rootfs.RootfsException;
import brig.spec.Spec;
import java.util.List;

/**
 * The program's stdin. The runtime's program gets the caller's fds 0-2 (runc's and `brig run`'s
 * way); docker gives a container /dev/null unless run with -i, and `brig container run` asks
 * for the same with Brig's annotation {@value #ANNOTATION}{@code : "null"} in config.json
 * (other runtimes ignore it), so `echo hi | brig container run IMAGE cat` prints nothing. The
 * only value is "null"; any other is refused, so a typo does not pass for the caller's stdin.
 */
public final class Stdin {
    private Stdin() {}

    public static final String ANNOTATION = "brig.process.stdin";

    /** The step that gives the program /dev/null as stdin, if config.json asks for it; empty otherwise. */
    public static List<Step> steps(Spec spec) throws RootfsException {
        String v = spec.annotations().get(ANNOTATION);
        if (v == null) return List.of();
        if (!v.equals("null")) {
            throw new RootfsException("annotations." + ANNOTATION, "\"" + v + "\" is not a value Brig knows (only \"null\")");
        }
        if (spec.process().terminal()) {
            throw new RootfsException("annotations." + ANNOTATION, "\"null\" with process.terminal true: the terminal is the program's stdin");
        }
        return List.of(new Step.Stdin("/dev/null"));
    }
}
