package brig.spec;

/** The namespace types of the runtime spec, with their clone flags and /proc/PID/ns names. */
public enum NamespaceType {
    PID("pid", "pid", 0x20000000),
    NETWORK("network", "net", 0x40000000),
    MOUNT("mount", "mnt", 0x00020000),
    IPC("ipc", "ipc", 0x08000000),
    UTS("uts", "uts", 0x04000000),
    USER("user", "user", 0x10000000),
    CGROUP("cgroup", "cgroup", 0x02000000),
    TIME("time", "time", 0x00000080);

    private final String specName;
    private final String procName;
    private final int cloneFlag;

    NamespaceType(String specName, String procName, int cloneFlag) {
        this.specName = specName;
        this.procName = procName;
        this.cloneFlag = cloneFlag;
    }

    /** The name in config.json ("network"). */
    public String specName() { return specName; }

    /** The name under /proc/PID/ns ("net"). */
    public String procName() { return procName; }

    /** CLONE_NEW*. */
    public int cloneFlag() { return cloneFlag; }

    /**
     * Whether Brig can make or join one (the spec reader refuses the others). Not a time
     * namespace: CLONE_NEWTIME (0x80) lies in clone(2)'s exit-signal byte, so the helper's
     * clone cannot ask for one; measured before it was refused, a config asking for one ran in
     * the host's time namespace.
     */
    public boolean supported() { return this != TIME; }

    public static NamespaceType ofSpecName(String name) {
        for (NamespaceType t : values()) if (t.specName.equals(name)) return t;
        return null;
    }
}
