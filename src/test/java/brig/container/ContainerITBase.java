package brig.container;

import brig.image.Layout;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the `brig container` ITs share: an image store with the busybox image "plain" (Cmd sh),
 * a state root, the container names a test made (each removed after it, even on failure), and
 * the CLI call with --root and --store.
 */
abstract class ContainerITBase {
    @TempDir Path tmp;
    Path store, state;
    final List<String> names = new ArrayList<>();

    @BeforeEach
    void plainImage() throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "containers need root");
        store = tmp.resolve("store");
        state = tmp.resolve("state");
        image("plain", "{\"Cmd\":[\"sh\"]}");
    }

    /** A busybox image of that name in the store, with that image config. */
    void image(String name, String config) throws Exception {
        ContainerImages.busybox(tmp, Layout.openOrCreate(store), name, ContainerImages.config(config));
    }

    @AfterEach
    void removeLeftovers() throws Exception {
        for (String n : names) {
            container("rm", "-f", n);
            afterRemoving(n);
            NoLeaks.removeContainer(n, state.resolve(n));
        }
    }

    /** After `container rm -f NAME` of a test's container (a detached one's monitor, say). */
    void afterRemoving(String name) throws Exception {}

    /** A container name of this test, removed after it. */
    String name(String what) {
        String n = NoLeaks.PREFIX + what;
        names.add(n);
        return n;
    }

    Brig.Result container(String... args) {
        return container(Map.of(), args);
    }

    /** `brig --root STATE container VERB --store STORE ARGS...` with that environment. */
    Brig.Result container(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("--root", state.toString(), "container", args[0], "--store", store.toString()));
        cmd.addAll(List.of(args).subList(1, args.length));
        return Brig.run(tmp, cmd, null, env, 120);
    }
}
