package brig.cgroups;

import brig.spec.Spec;
import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Device rules on cgroup v2, where they are an eBPF program attached to the cgroup: the rules
 * are first reduced to what cgroup v1 would hold after the same writes (a default and a list of
 * exceptions), then compiled to a program that checks the exceptions and falls back to the
 * default.
 */
public final class DeviceFilter {
    private DeviceFilter() {}

    /**
     * The state cgroup v1 would reach: default allow or deny, and the exceptions to it (each
     * with the opposite verdict, one per type, major and minor, in the order v1 lists them).
     */
    public record Rules(boolean allowByDefault, List<Spec.DeviceRule> exceptions) {}

    /**
     * Applies the rules in order, as writes to devices.allow and devices.deny would, starting
     * from deny-all: whatever a config says, no device is open unless a rule opens it. As the
     * v1 kernel does (checked against it in DeviceSecurityIT): any "a" rule resets to its
     * verdict whatever its access and numbers; a rule with the default's verdict takes its
     * access bits from the exception of exactly the same type, major and minor ("*" being a
     * value of its own, not a wildcard here); a rule against the default adds its bits to that
     * exception, or becomes a new one.
     */
    public static Rules reduce(List<Spec.DeviceRule> rules) {
        boolean allow = false;
        List<Spec.DeviceRule> ex = new ArrayList<>();
        for (Spec.DeviceRule r : rules) {
            if (r.type() == 'a') {
                allow = r.allow();
                ex.clear();
                continue;
            }
            int k = 0;
            while (k < ex.size() && !sameDevice(ex.get(k), r)) k++;
            int had = k < ex.size() ? access(ex.get(k).access()) : 0;
            int now = r.allow() == allow ? had & ~access(r.access()) : had | access(r.access());
            Spec.DeviceRule e = new Spec.DeviceRule(!allow, r.type(), r.major(), r.minor(), access(now));
            if (k == ex.size()) {
                if (now != 0) ex.add(e);
            } else if (now == 0) {
                ex.remove(k);
            } else {
                ex.set(k, e);
            }
        }
        return new Rules(allow, List.copyOf(ex));
    }

    /** The same type, major and minor, "*" (-1) matching only "*". */
    static boolean sameDevice(Spec.DeviceRule a, Spec.DeviceRule b) {
        return a.type() == b.type() && a.major() == b.major() && a.minor() == b.minor();
    }

    /** The access bits as v1 lists them: "rwm" order. */
    static String access(int bits) {
        return ((bits & 2) != 0 ? "r" : "") + ((bits & 4) != 0 ? "w" : "") + ((bits & 1) != 0 ? "m" : "");
    }

    /** BPF_DEVCG_ACC_MKNOD=1, READ=2, WRITE=4. */
    static int access(String a) {
        int m = 0;
        if (a.indexOf('m') >= 0) m |= 1;
        if (a.indexOf('r') >= 0) m |= 2;
        if (a.indexOf('w') >= 0) m |= 4;
        return m;
    }

    // eBPF instructions: op, dst | src << 4, a 16-bit jump offset, a 32-bit immediate.
    private static final int LDX_W = 0x61, ALU32_AND_K = 0x54, ALU32_RSH_K = 0x74, MOV32_K = 0xb4,
            MOV64_X = 0xbf, JEQ_K = 0x15, JNE_K = 0x55, JSET_K = 0x45, EXIT = 0x95;

    private record Insn(int op, int dst, int src, int off, int imm) {}

    /**
     * The program: r2 = device type (1 block, 2 char), r3 = requested access, r4 = major,
     * r5 = minor. Per exception, checks that jump past its block when it does not apply, then
     * the exception's verdict; at the end, the default.
     */
    public static byte[] compile(Rules rules) {
        List<Insn> prog = new ArrayList<>(List.of(
                new Insn(LDX_W, 2, 1, 0, 0),              // r2 = ctx->access_type
                new Insn(ALU32_AND_K, 2, 0, 0, 0xffff),    //      & 0xffff: the type
                new Insn(LDX_W, 3, 1, 0, 0),              // r3 = ctx->access_type
                new Insn(ALU32_RSH_K, 3, 0, 0, 16),       //      >> 16: the access
                new Insn(LDX_W, 4, 1, 4, 0),              // r4 = ctx->major
                new Insn(LDX_W, 5, 1, 8, 0)));            // r5 = ctx->minor
        final int next = Integer.MIN_VALUE; // placeholder: "past this block"
        for (Spec.DeviceRule e : rules.exceptions()) {
            List<Insn> block = new ArrayList<>();
            if (e.type() != 'a') block.add(new Insn(JNE_K, 2, 0, next, e.type() == 'b' ? 1 : 2));
            if (e.major() >= 0) block.add(new Insn(JNE_K, 4, 0, next, (int) e.major()));
            if (e.minor() >= 0) block.add(new Insn(JNE_K, 5, 0, next, (int) e.minor()));
            int acc = access(e.access());
            if (acc != 7 && rules.allowByDefault()) {
                // A denied access applies if any requested bit is in it.
                block.add(new Insn(MOV64_X, 6, 3, 0, 0));
                block.add(new Insn(ALU32_AND_K, 6, 0, 0, acc));
                block.add(new Insn(JEQ_K, 6, 0, next, 0));
            } else if (acc != 7) {
                // An allowed access applies only if every requested bit is in it.
                block.add(new Insn(JSET_K, 3, 0, next, ~acc & 7));
            }
            block.add(new Insn(MOV32_K, 0, 0, 0, rules.allowByDefault() ? 0 : 1));
            block.add(new Insn(EXIT, 0, 0, 0, 0));
            for (int k = 0; k < block.size(); k++) {
                Insn i = block.get(k);
                prog.add(i.off() == next ? new Insn(i.op(), i.dst(), i.src(), block.size() - k - 1, i.imm()) : i);
            }
        }
        prog.add(new Insn(MOV32_K, 0, 0, 0, rules.allowByDefault() ? 1 : 0));
        prog.add(new Insn(EXIT, 0, 0, 0, 0));
        ByteBuffer b = ByteBuffer.allocate(8 * prog.size()).order(ByteOrder.LITTLE_ENDIAN);
        for (Insn i : prog) b.put((byte) i.op()).put((byte) (i.dst() | i.src() << 4)).putShort((short) i.off()).putInt(i.imm());
        return b.array();
    }

    private static final int BPF_PROG_LOAD = 5, BPF_PROG_ATTACH = 8, BPF_PROG_DETACH = 9, BPF_PROG_GET_FD_BY_ID = 13,
            BPF_PROG_QUERY = 16, BPF_PROG_TYPE_CGROUP_DEVICE = 15, BPF_CGROUP_DEVICE = 6, BPF_F_ALLOW_MULTI = 2;

    private static long sysBpf() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64" -> 280;
            default -> 321; // x86-64
        };
    }

    /**
     * Gives the cgroup a program for these rules in place of the ones it had. Safe on a cgroup
     * whose processes run: the new program is attached before the old ones are detached, and
     * while several are attached an access needs every one of them to allow it, so no moment is
     * more open than the old rules or the new ones.
     */
    public static void attach(Path cgroup, List<Spec.DeviceRule> rules) throws CgroupException {
        byte[] prog = compile(reduce(rules));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a);
            int dir = openDir(cgroup);
            try {
                int[] old = attached(a, st, cgroup, dir);
                int progFd = load(a, st, cgroup, prog);
                try {
                    MemorySegment at = a.allocate(144, 8);
                    at.set(ValueLayout.JAVA_INT, 0, dir);
                    at.set(ValueLayout.JAVA_INT, 4, progFd);
                    at.set(ValueLayout.JAVA_INT, 8, BPF_CGROUP_DEVICE);
                    at.set(ValueLayout.JAVA_INT, 12, BPF_F_ALLOW_MULTI);
                    bpf(st, BPF_PROG_ATTACH, at, "attach device filter to " + cgroup);
                } finally {
                    Libc.close(progFd);
                }
                for (int id : old) detach(a, st, cgroup, dir, id);
            } finally {
                Libc.close(dir);
            }
        }
    }

    private static int openDir(Path cgroup) throws CgroupException {
        try {
            return Libc.open(cgroup.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
        } catch (SyscallException e) {
            throw new CgroupException("cgroup: " + e.getMessage());
        }
    }

    /** The ids of the device programs attached to the cgroup itself (for tests and checks). */
    static int[] programs(Path cgroup) throws CgroupException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a);
            int dir = openDir(cgroup);
            try {
                return attached(a, st, cgroup, dir);
            } finally {
                Libc.close(dir);
            }
        }
    }

    private static int load(Arena a, MemorySegment st, Path cgroup, byte[] prog) throws CgroupException {
        MemorySegment insns = a.allocate(prog.length, 8);
        MemorySegment.copy(prog, 0, insns, ValueLayout.JAVA_BYTE, 0, prog.length);
        MemorySegment license = a.allocateFrom("Apache-2.0");
        MemorySegment log = a.allocate(16384);
        MemorySegment attr = a.allocate(144, 8);
        attr.set(ValueLayout.JAVA_INT, 0, BPF_PROG_TYPE_CGROUP_DEVICE);
        attr.set(ValueLayout.JAVA_INT, 4, prog.length / 8);
        attr.set(ValueLayout.JAVA_LONG, 8, insns.address());
        attr.set(ValueLayout.JAVA_LONG, 16, license.address());
        attr.set(ValueLayout.JAVA_INT, 24, 1);             // log_level
        attr.set(ValueLayout.JAVA_INT, 28, (int) log.byteSize());
        attr.set(ValueLayout.JAVA_LONG, 32, log.address());
        int fd = (int) Libc.call(st, Libc.Fn.SYSCALL, sysBpf(), BPF_PROG_LOAD, attr.address(), attr.byteSize());
        if (fd < 0) {
            String verifier = log.getString(0).strip();
            throw new CgroupException("cgroup: load device filter for " + cgroup + ": bpf: "
                    + new SyscallException("BPF_PROG_LOAD", null, Libc.errno(st)).getMessage()
                    + (verifier.isEmpty() ? "" : " (" + verifier.lines().reduce((x, y) -> y).orElse("") + ")"));
        }
        return fd;
    }

    /** The ids of the device programs attached to this cgroup itself. */
    private static int[] attached(Arena a, MemorySegment st, Path cgroup, int dir) throws CgroupException {
        MemorySegment ids = a.allocate(4 * 64, 8);
        MemorySegment q = a.allocate(144, 8);
        q.set(ValueLayout.JAVA_INT, 0, dir);
        q.set(ValueLayout.JAVA_INT, 4, BPF_CGROUP_DEVICE);
        q.set(ValueLayout.JAVA_LONG, 16, ids.address());
        q.set(ValueLayout.JAVA_INT, 24, 64);
        bpf(st, BPF_PROG_QUERY, q, "list the device filters of " + cgroup);
        int n = q.get(ValueLayout.JAVA_INT, 24);
        int[] out = new int[n];
        for (int k = 0; k < n; k++) out[k] = ids.getAtIndex(ValueLayout.JAVA_INT, k);
        return out;
    }

    private static void detach(Arena a, MemorySegment st, Path cgroup, int dir, int id) throws CgroupException {
        MemorySegment g = a.allocate(144, 8);
        g.set(ValueLayout.JAVA_INT, 0, id);
        int fd = (int) bpf(st, BPF_PROG_GET_FD_BY_ID, g, "find the old device filter of " + cgroup);
        try {
            MemorySegment d = a.allocate(144, 8);
            d.set(ValueLayout.JAVA_INT, 0, dir);
            d.set(ValueLayout.JAVA_INT, 4, fd);
            d.set(ValueLayout.JAVA_INT, 8, BPF_CGROUP_DEVICE);
            bpf(st, BPF_PROG_DETACH, d, "detach the old device filter from " + cgroup);
        } finally {
            Libc.close(fd);
        }
    }

    private static long bpf(MemorySegment st, int cmd, MemorySegment attr, String what) throws CgroupException {
        long r = Libc.call(st, Libc.Fn.SYSCALL, sysBpf(), cmd, attr.address(), attr.byteSize());
        if (r < 0) {
            throw new CgroupException("cgroup: " + what + ": bpf: " + new SyscallException(switch (cmd) {
                case BPF_PROG_ATTACH -> "BPF_PROG_ATTACH";
                case BPF_PROG_DETACH -> "BPF_PROG_DETACH";
                case BPF_PROG_QUERY -> "BPF_PROG_QUERY";
                default -> "BPF_PROG_GET_FD_BY_ID";
            }, null, Libc.errno(st)).getMessage());
        }
        return r;
    }
}
