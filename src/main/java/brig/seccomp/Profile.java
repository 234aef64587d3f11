package brig.seccomp;

import java.util.List;

/**
 * linux.seccomp of a config, as written (names the syscall tables do not know are kept here
 * and skipped by {@link Compiler}, as runc skips those libseccomp does not know).
 *
 * @param defaultErrnoRet the errno of an ERRNO or TRACE default action (EPERM unless given)
 * @param architectures besides the native x86_64 (which a filter always covers); only those
 *     with a table ({@link SyscallTable}) get a section, the others can never match here
 * @param flags SECCOMP_FILTER_FLAG_* bits for seccomp(2), as the config names them
 * @param listenerPath the notify agent's AF_UNIX stream socket (null if not given): where the
 *     listener of a profile with SCMP_ACT_NOTIFY rules goes, with the container process state
 * @param listenerMetadata opaque text for the agent (null if not given)
 */
public record Profile(Action defaultAction, int defaultErrnoRet, List<String> architectures, int flags,
                      List<Rule> syscalls, String listenerPath, String listenerMetadata) {
    public Profile {
        architectures = List.copyOf(architectures);
        syscalls = List.copyOf(syscalls);
    }

    /** Without a notify agent. */
    public Profile(Action defaultAction, int defaultErrnoRet, List<String> architectures, int flags, List<Rule> syscalls) {
        this(defaultAction, defaultErrnoRet, architectures, flags, syscalls, null, null);
    }

    /**
     * Whether a rule notifies an agent: the filter is then loaded with a listener
     * (SECCOMP_FILTER_FLAG_NEW_LISTENER), which goes to {@link #listenerPath}.
     */
    public boolean notifies() {
        for (Rule r : syscalls) if (r.action() == Action.SCMP_ACT_NOTIFY) return true;
        return false;
    }

    public static final int EPERM = 1, ENOSYS = 38;

    /** seccomp(2) flags as runtime-spec names them. */
    public static final int FLAG_TSYNC = 1, FLAG_LOG = 2, FLAG_SPEC_ALLOW = 4, FLAG_WAIT_KILLABLE_RECV = 32;

    /** seccomp(2) returns a listener fd for the notify agent; the compiler sets it, never a config. */
    public static final int FLAG_NEW_LISTENER = 8;

    /** @param errnoRet for ERRNO and TRACE (EPERM unless given) */
    public record Rule(List<String> names, Action action, int errnoRet, List<Arg> args) {
        public Rule {
            names = List.copyOf(names);
            args = List.copyOf(args);
        }
    }

    /** A condition on argument {@code index} (0 to 5); MASKED_EQ: (arg & value) == valueTwo. */
    public record Arg(int index, long value, long valueTwo, Operator op) {}

    public enum Action {
        SCMP_ACT_KILL(0x00000000), SCMP_ACT_KILL_THREAD(0x00000000), SCMP_ACT_KILL_PROCESS(0x80000000),
        SCMP_ACT_TRAP(0x00030000), SCMP_ACT_ERRNO(0x00050000), SCMP_ACT_TRACE(0x7ff00000),
        SCMP_ACT_LOG(0x7ffc0000), SCMP_ACT_ALLOW(0x7fff0000), SCMP_ACT_NOTIFY(0x7fc00000);

        /** SECCOMP_RET_* without its data. */
        public final int ret;

        Action(int ret) { this.ret = ret; }

        /** Whether errnoRet means something for this action. */
        public boolean takesErrno() { return this == SCMP_ACT_ERRNO || this == SCMP_ACT_TRACE; }

        /** The filter's return value. */
        public int ret(int errno) { return takesErrno() ? ret | (errno & 0xffff) : ret; }

        public static Action ofName(String name) {
            for (Action a : values()) if (a.name().equals(name)) return a;
            return null;
        }
    }

    public enum Operator {
        SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ;

        public static Operator ofName(String name) {
            for (Operator o : values()) if (o.name().equals(name)) return o;
            return null;
        }
    }

    /** The flag's bit, or 0 if runtime-spec has no such flag. */
    public static int flag(String name) {
        return switch (name) {
            case "SECCOMP_FILTER_FLAG_TSYNC" -> FLAG_TSYNC;
            case "SECCOMP_FILTER_FLAG_LOG" -> FLAG_LOG;
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW" -> FLAG_SPEC_ALLOW;
            case "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" -> FLAG_WAIT_KILLABLE_RECV;
            default -> 0;
        };
    }

    /** Every architecture name libseccomp knows; others in a config are errors. */
    public static final List<String> ARCHITECTURES = List.of("SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",
            "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
            "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64",
            "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",
            "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB");
}
