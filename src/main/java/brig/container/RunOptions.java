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
 * @param volumes -v values as given, SRC:DST[:MODE] (see {@link Volumes})
 * @param tmpfs --tmpfs values as given, DST[:OPTIONS]
 * @param init --init: the host's static init to bind into the container, or null for none
 */
public record RunOptions(String name, List<String> env, String workdir, String user, String hostname, String entrypoint,
                         long memory, long memorySwap, int memorySwappiness, long cpuShares, double cpus, String cpusetCpus,
                         long pidsLimit, boolean readOnly, List<String> capAdd, List<String> capDrop, String seccomp,
                         String network, boolean tty, List<String> cmd, List<String> volumes, List<String> tmpfs,
                         java.nio.file.Path init) {
    public RunOptions {
        env = List.copyOf(env);
        volumes = List.copyOf(volumes);
        tmpfs = List.copyOf(tmpfs);
        capAdd = List.copyOf(capAdd);
        capDrop = List.copyOf(capDrop);
        cmd = List.copyOf(cmd);
    }

    /** Without volumes, tmpfs mounts or an init (the flags of the first increment). */
    public RunOptions(String name, List<String> env, String workdir, String user, String hostname, String entrypoint,
                      long memory, long memorySwap, int memorySwappiness, long cpuShares, double cpus, String cpusetCpus,
                      long pidsLimit, boolean readOnly, List<String> capAdd, List<String> capDrop, String seccomp,
                      String network, boolean tty, List<String> cmd) {
        this(name, env, workdir, user, hostname, entrypoint, memory, memorySwap, memorySwappiness, cpuShares, cpus, cpusetCpus,
                pidsLimit, readOnly, capAdd, capDrop, seccomp, network, tty, cmd, List.of(), List.of(), null);
    }
}
