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

    /** The state cgroup v1 would reach: default allow or deny, and the exceptions to it. */
    public record Rules(boolean allowByDefault, List<Spec.DeviceRule> exceptions) {}

    /** Applies the rules in order, as writes to devices.allow and devices.deny would. */
    public static Rules reduce(List<Spec.DeviceRule> rules) {
        boolean allow = true; // a new cgroup allows everything until told otherwise
        List<Spec.DeviceRule> ex = new ArrayList<>();
        for (Spec.DeviceRule r : rules) {
            if (r.type() == 'a' && r.major() < 0 && r.minor() < 0 && r.access().chars().distinct().count() == 3) {
                allow = r.allow();
                ex.clear();
            } else if (r.allow() == allow) {
                // The same as the default: it takes back exceptions it covers.
                ex.removeIf(e -> covers(r, e));
            } else {
                ex.add(r);
            }
        }
        return new Rules(allow, List.copyOf(ex));
    }

    private static boolean covers(Spec.DeviceRule r, Spec.DeviceRule e) {
        return (r.type() == 'a' || r.type() == e.type()) && (r.major() < 0 || r.major() == e.major())
                && (r.minor() < 0 || r.minor() == e.minor()) && access(e.access()) == (access(e.access()) & access(r.access()));
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

    private static final int BPF_PROG_LOAD = 5, BPF_PROG_ATTACH = 8, BPF_PROG_TYPE_CGROUP_DEVICE = 15,
            BPF_CGROUP_DEVICE = 6, BPF_F_ALLOW_MULTI = 2;

    private static long sysBpf() {
        return switch (System.getProperty("os.arch")) {
            case "aarch64" -> 280;
            default -> 321; // x86-64
        };
    }

    /** Loads the program and attaches it to the cgroup directory. */
    public static void attach(Path cgroup, List<Spec.DeviceRule> rules) throws CgroupException {
        byte[] prog = compile(reduce(rules));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Libc.state(a);
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
            int prog_fd = (int) Libc.call(st, Libc.Fn.SYSCALL, sysBpf(), BPF_PROG_LOAD, attr.address(), attr.byteSize());
            if (prog_fd < 0) {
                String verifier = log.getString(0).strip();
                throw new CgroupException("cgroup: load device filter for " + cgroup + ": bpf: "
                        + new SyscallException("BPF_PROG_LOAD", null, Libc.errno(st)).getMessage()
                        + (verifier.isEmpty() ? "" : " (" + verifier.lines().reduce((x, y) -> y).orElse("") + ")"));
            }
            int dir;
            try {
                dir = Libc.open(cgroup.toString(), Libc.O_RDONLY | Libc.O_DIRECTORY, 0);
            } catch (SyscallException e) {
                Libc.close(prog_fd);
                throw new CgroupException("cgroup: " + e.getMessage());
            }
            try {
                MemorySegment at = a.allocate(144, 8);
                at.set(ValueLayout.JAVA_INT, 0, dir);
                at.set(ValueLayout.JAVA_INT, 4, prog_fd);
                at.set(ValueLayout.JAVA_INT, 8, BPF_CGROUP_DEVICE);
                at.set(ValueLayout.JAVA_INT, 12, BPF_F_ALLOW_MULTI);
                if (Libc.call(st, Libc.Fn.SYSCALL, sysBpf(), BPF_PROG_ATTACH, at.address(), at.byteSize()) < 0) {
                    throw new CgroupException("cgroup: attach device filter to " + cgroup + ": bpf: "
                            + new SyscallException("BPF_PROG_ATTACH", null, Libc.errno(st)).getMessage());
                }
            } finally {
                Libc.close(dir);
                Libc.close(prog_fd);
            }
        }
    }
}
