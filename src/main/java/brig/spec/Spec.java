package brig.spec;

import java.util.List;
import java.util.Map;

/**
 * An OCI runtime configuration (config.json, runtime-spec 1.2) as far as Brig models it. Read
 * by {@link SpecReader}, which validates every known field and ignores unknown ones.
 *
 * @param process null when absent (allowed by the spec for create, not for run)
 */
public record Spec(String ociVersion, Process process, Root root, String hostname,
                   String domainname, List<Mount> mounts, Map<String, String> annotations, Linux linux, Hooks hooks) {
    /** The runtime-spec version Brig implements: what `brig spec` writes and the newest `brig features` claims. */
    public static final String VERSION = "1.2.0";

    /** The oldest ociVersion the reader accepts (it reads every 1.x). */
    public static final String VERSION_MIN = "1.0.0";

    public Spec {
        mounts = List.copyOf(mounts);
        annotations = Map.copyOf(annotations);
        if (hooks == null) hooks = Hooks.NONE;
    }

    /**
     * What a config without "process" is created with: runtime-spec makes "process" required
     * only by `start` (config.md "Process": REQUIRED when start is called; runtime.md "Start":
     * start MUST generate an error if process was not set), so `create` makes the container
     * and its first process waits for a start that refuses it. Nothing to run, no terminal, no
     * identity or limits to take: {@code brig.runtime.Planner} plans no program for it.
     */
    public static final Process NO_PROCESS = new Process(false, null, new User(0, 0, null, List.of()), List.of(),
            List.of(), "/", null, List.of(), true, null);

    /** Whether the config names a program to run (false for a null or {@link #NO_PROCESS} process). */
    public boolean hasProcess() {
        return process != null && process != NO_PROCESS;
    }

    /** This spec with another process (for a config without one, {@link #NO_PROCESS}). */
    public Spec withProcess(Process p) {
        return new Spec(ociVersion, p, root, hostname, domainname, mounts, annotations, linux, hooks);
    }

    /** A spec without hooks. */
    public Spec(String ociVersion, Process process, Root root, String hostname, String domainname, List<Mount> mounts,
                Map<String, String> annotations, Linux linux) {
        this(ociVersion, process, root, hostname, domainname, mounts, annotations, linux, Hooks.NONE);
    }

    /**
     * One entry of "hooks": a program, its whole argv (args[0] is argv[0]; when the config has
     * no args, the path) and its whole environment (nothing else is inherited).
     *
     * @param timeout seconds, or null for none
     */
    public record Hook(String path, List<String> args, List<String> env, Integer timeout) {
        public Hook {
            args = List.copyOf(args);
            env = List.copyOf(env);
        }

        /** What the program gets as argv. */
        public List<String> argv() {
            return args.isEmpty() ? List.of(path) : args;
        }
    }

    /** "hooks", each list in config.json's order (runtime-spec "POSIX-platform Hooks"). */
    public record Hooks(List<Hook> prestart, List<Hook> createRuntime, List<Hook> createContainer,
                        List<Hook> startContainer, List<Hook> poststart, List<Hook> poststop) {
        public static final Hooks NONE = new Hooks(List.of(), List.of(), List.of(), List.of(), List.of(), List.of());

        public Hooks {
            prestart = List.copyOf(prestart);
            createRuntime = List.copyOf(createRuntime);
            createContainer = List.copyOf(createContainer);
            startContainer = List.copyOf(startContainer);
            poststart = List.copyOf(poststart);
            poststop = List.copyOf(poststop);
        }

        // Field by field: a record's first equals() spins its method handles, ~7 ms of a cold run.
        public boolean isEmpty() {
            return prestart.isEmpty() && createRuntime.isEmpty() && createContainer.isEmpty()
                    && startContainer.isEmpty() && poststart.isEmpty() && poststop.isEmpty();
        }
    }

    public record Root(String path, boolean readonly) {}

    /** One entry of "mounts"; options are kept as written and interpreted by the rootfs planner. */
    public record Mount(String destination, String type, String source, List<String> options) {
        public Mount {
            options = List.copyOf(options);
        }
    }

    /**
     * @param consoleSize null when not given
     * @param capabilities null when the config has no "capabilities": the process then keeps
     *     the capabilities it has, as with runc
     * @param oomScoreAdj null when not given
     */
    public record Process(boolean terminal, ConsoleSize consoleSize, User user, List<String> args,
                          List<String> env, String cwd, Capabilities capabilities, List<Rlimit> rlimits,
                          boolean noNewPrivileges, Integer oomScoreAdj) {
        public Process {
            args = List.copyOf(args);
            env = List.copyOf(env);
            rlimits = List.copyOf(rlimits);
        }
    }

    public record ConsoleSize(int height, int width) {}

    /** @param umask null when not given */
    public record User(long uid, long gid, Integer umask, List<Long> additionalGids) {
        public User {
            additionalGids = List.copyOf(additionalGids);
        }
    }

    /** The five capability sets; a set the config leaves out is null, meaning empty. */
    public record Capabilities(List<Capability> bounding, List<Capability> effective,
                               List<Capability> inheritable, List<Capability> permitted,
                               List<Capability> ambient) {}

    public record Rlimit(RlimitType type, long soft, long hard) {}

    /**
     * @param cgroupsPath null when not given
     * @param rootfsPropagation "" when not given
     * @param seccomp null when not given (or empty)
     */
    public record Linux(List<Namespace> namespaces, List<IdMapping> uidMappings, List<IdMapping> gidMappings,
                        List<Device> devices, String cgroupsPath, Resources resources, String rootfsPropagation,
                        Map<String, String> sysctl, List<String> maskedPaths, List<String> readonlyPaths,
                        brig.seccomp.Profile seccomp) {
        public Linux {
            namespaces = List.copyOf(namespaces);
            uidMappings = List.copyOf(uidMappings);
            gidMappings = List.copyOf(gidMappings);
            devices = List.copyOf(devices);
            sysctl = Map.copyOf(sysctl);
            maskedPaths = List.copyOf(maskedPaths);
            readonlyPaths = List.copyOf(readonlyPaths);
        }

        /** Without seccomp. */
        public Linux(List<Namespace> namespaces, List<IdMapping> uidMappings, List<IdMapping> gidMappings,
                     List<Device> devices, String cgroupsPath, Resources resources, String rootfsPropagation,
                     Map<String, String> sysctl, List<String> maskedPaths, List<String> readonlyPaths) {
            this(namespaces, uidMappings, gidMappings, devices, cgroupsPath, resources, rootfsPropagation, sysctl,
                    maskedPaths, readonlyPaths, null);
        }

        public static final Linux EMPTY = new Linux(List.of(), List.of(), List.of(), List.of(), null,
                Resources.NONE, "", Map.of(), List.of(), List.of());

        public boolean has(NamespaceType type) {
            return namespaces.stream().anyMatch(n -> n.type() == type);
        }

        /** A namespace the container gets newly made (not joined by path). */
        public boolean creates(NamespaceType type) {
            return namespaces.stream().anyMatch(n -> n.type() == type && n.path() == null);
        }
    }

    /** @param path null for a new namespace, else the namespace to join */
    public record Namespace(NamespaceType type, String path) {}

    public record IdMapping(long containerID, long hostID, long size) {}

    /**
     * @param type 'c', 'b', 'u' or 'p'
     * @param fileMode permission bits, null when not given
     * @param uid null when not given
     * @param gid null when not given
     */
    public record Device(String path, char type, long major, long minor, Integer fileMode, Long uid, Long gid) {}

    /**
     * linux.resources. A field the config leaves out is null (or empty), meaning "leave the
     * kernel's value alone"; numbers keep runc's meanings (-1 = unlimited where runc allows it,
     * 0 = not set for the memory sizes and pids.limit).
     */
    public record Resources(List<DeviceRule> devices, Memory memory, Cpu cpu, Long pidsLimit, BlockIO blockIO,
                            List<HugepageLimit> hugepageLimits, Network network, Map<String, Rdma> rdma,
                            Map<String, String> unified) {
        public static final Resources NONE = new Resources(List.of());

        public Resources {
            devices = List.copyOf(devices);
            hugepageLimits = List.copyOf(hugepageLimits);
            rdma = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(rdma));
            unified = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(unified));
        }

        /** Only device rules. */
        public Resources(List<DeviceRule> devices) {
            this(devices, null, null, null, null, List.of(), null, Map.of(), Map.of());
        }
    }

    /**
     * linux.resources.memory, in bytes; -1 is unlimited.
     *
     * @param swap memory plus swap, as runc (not swap alone)
     * @param swappiness null when not given or -1
     * @param kernel deprecated by the kernel: ignored, and the plan says so
     * @param kernelTCP likewise
     */
    public record Memory(Long limit, Long reservation, Long swap, Long kernel, Long kernelTCP, Long swappiness,
                         boolean disableOOMKiller) {}

    /**
     * linux.resources.cpu.
     *
     * @param quota microseconds per period, -1 for no limit
     * @param idle 0 or 1
     */
    public record Cpu(Long shares, Long quota, Long burst, Long period, Long realtimeRuntime, Long realtimePeriod,
                      String cpus, String mems, Long idle) {}

    /** linux.resources.blockIO; weights 10 to 1000 as the spec says, leaf weights likewise. */
    public record BlockIO(Integer weight, Integer leafWeight, List<WeightDevice> weightDevice,
                          List<ThrottleDevice> throttleReadBpsDevice, List<ThrottleDevice> throttleWriteBpsDevice,
                          List<ThrottleDevice> throttleReadIOPSDevice, List<ThrottleDevice> throttleWriteIOPSDevice) {
        public BlockIO {
            weightDevice = List.copyOf(weightDevice);
            throttleReadBpsDevice = List.copyOf(throttleReadBpsDevice);
            throttleWriteBpsDevice = List.copyOf(throttleWriteBpsDevice);
            throttleReadIOPSDevice = List.copyOf(throttleReadIOPSDevice);
            throttleWriteIOPSDevice = List.copyOf(throttleWriteIOPSDevice);
        }
    }

    /** @param weight null when not given; leafWeight likewise */
    public record WeightDevice(long major, long minor, Integer weight, Integer leafWeight) {}

    public record ThrottleDevice(long major, long minor, long rate) {}

    /** @param pageSize as the kernel names it: "2MB", "1GB", "64KB" */
    public record HugepageLimit(String pageSize, long limit) {}

    /** @param classID null when not given */
    public record Network(Long classID, List<InterfacePriority> priorities) {
        public Network {
            priorities = List.copyOf(priorities);
        }
    }

    public record InterfacePriority(String name, long priority) {}

    /** @param hcaHandles null when not given; hcaObjects likewise */
    public record Rdma(Long hcaHandles, Long hcaObjects) {}

    /**
     * @param type 'a', 'c' or 'b'
     * @param major -1 for any
     * @param minor -1 for any
     * @param access some of "rwm"
     */
    public record DeviceRule(boolean allow, char type, long major, long minor, String access) {}
}
