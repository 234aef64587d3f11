package brig.container;

import java.util.List;

/**
 * What `brig container run` was asked, flag by flag, as docker names them; {@link ContainerConfig}
 * turns it into the bundle's config.json. Absent values are null (or -1 for numbers): the image's
 * or docker's default applies.
 *
 * @param env -e values in order: "K=V", or "K" (the caller's value of K, or dropped if unset,
 *     as docker does); --env-file lines come first, resolved the same way by the caller
 * @param entrypoint --entrypoint: null keeps the image's, "" clears it
 * @param memory bytes, or -1
 * @param memorySwap bytes of memory plus swap, -1 unlimited, or 0 if not given
 * @param cpus --cpus as a quota over a 100 ms period, or 0
 * @param seccomp null for Brig's default profile, "unconfined", or a profile file (OCI linux.seccomp JSON)
 * @param network "none" (the default) or "host"
 */
public record RunOptions(String name, List<String> env, String workdir, String user, String hostname, String entrypoint,
                         long memory, long memorySwap, int memorySwappiness, long cpuShares, double cpus, String cpusetCpus,
                         long pidsLimit, boolean readOnly, List<String> capAdd, List<String> capDrop, String seccomp,
                         String network, boolean tty, List<String> cmd) {
    public RunOptions {
        env = List.copyOf(env);
        capAdd = List.copyOf(capAdd);
        capDrop = List.copyOf(capDrop);
        cmd = List.copyOf(cmd);
    }
}
