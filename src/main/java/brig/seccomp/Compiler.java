package brig.seccomp;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a {@link Profile} into classic BPF, in Java rather than through libseccomp: the
 * program is simple (per architecture: a binary search on the call number down to short chains
 * of calls, each with its argument conditions and action), short to generate and to read back,
 * and a JVM started for every CLI call pays no library binding for it (see the issue 9 note).
 *
 * <p>Per architecture section, as libseccomp lays it out: the arch is checked first (a call
 * from an architecture the profile does not cover is killed), on x86_64 a call number with the
 * x32 bit is killed unless x32 is listed; then the rules; then runc's stub: a call newer than
 * every call the profile names returns ENOSYS, not the default action, so that a C library
 * falls back from it (clone3, openat2, faccessat2) instead of failing.
 *
 * <p>Within one call: rules with conditions are tried in the profile's order, then the
 * unconditional rule if there is one, else the default action. Conditions of one rule must all
 * hold; when one rule names an argument twice, each condition is a rule of its own (runc's
 * reading: libseccomp refuses two conditions on one argument).
 */
public final class Compiler {
    /** BPF_MAXINSNS: the kernel refuses longer programs. */
    public static final int MAX_INSNS = 4096;

    static final int LD_ABS = 0x20, JEQ = 0x15, JGT = 0x25, JGE = 0x35, JA = 0x05, RET = 0x06, AND = 0x54;
    static final int OFF_NR = 0, OFF_ARCH = 4, OFF_ARGS = 16;
    static final int RET_KILL_PROCESS = 0x80000000;

    /** The profile cannot become a filter (too long). */
    public static final class CompileException extends Exception {
        private static final long serialVersionUID = 1L;
        public CompileException(String message) { super(message); }
    }

    private Compiler() {}

    private static volatile Object[] last = {null, null};

    /**
     * The filter of a profile. The last one is kept, as the reader checks the very profile the
     * planner then installs (by identity: a record's equals costs a cold JVM a bootstrap).
     */
    public static Filter compile(Profile p) throws CompileException {
        Object[] l = last;
        if (p == l[0]) return (Filter) l[1];
        Filter f = build(p);
        last = new Object[] {p, f};
        return f;
    }

    private static Filter build(Profile p) throws CompileException {
        Set<SyscallTable> archs = EnumSet.of(SyscallTable.X86_64);
        for (String a : p.architectures()) {
            SyscallTable t = SyscallTable.ofSpecName(a);
            if (t != null) archs.add(t);
        }
        Asm asm = new Asm();
        int defaultRet = p.defaultAction().ret(p.defaultErrnoRet());
        boolean stub = p.defaultAction() != Profile.Action.SCMP_ACT_ALLOW && p.defaultAction() != Profile.Action.SCMP_ACT_LOG
                && !(p.defaultAction() == Profile.Action.SCMP_ACT_ERRNO && p.defaultErrnoRet() == Profile.ENOSYS);
        int badArch = asm.label(), calls = 0;
        asm.ld(OFF_ARCH);
        int x32 = archs.contains(SyscallTable.X32) ? asm.label() : -1;
        for (SyscallTable t : List.of(SyscallTable.X86_64, SyscallTable.X86)) {
            if (!archs.contains(t)) continue;
            int next = asm.label();
            asm.jump(JEQ, t.auditArch, asm.skipOne(), Asm.NEXT);
            asm.ja(next); // a section can be longer than a conditional jump reaches (255)
            asm.ld(OFF_NR);
            if (t == SyscallTable.X86_64) {
                int native64 = asm.label();
                asm.jump(JGE, SyscallTable.X32_SYSCALL_BIT, Asm.NEXT, native64);
                if (x32 >= 0) asm.ja(x32);
                else asm.ret(RET_KILL_PROCESS);
                asm.bind(native64);
            }
            int known = section(asm, p, t, defaultRet, stub);
            if (t == SyscallTable.X86_64) calls = known;
            asm.bind(next);
            if (t == SyscallTable.X86_64 && x32 >= 0) {
                // Reached only through the jump above, which keeps x86_64's "arch" check.
                int after = asm.label();
                asm.ja(after);
                asm.bind(x32);
                asm.ld(OFF_NR);
                section(asm, p, SyscallTable.X32, defaultRet, stub);
                asm.bind(after);
            }
        }
        asm.bind(badArch);
        asm.ret(RET_KILL_PROCESS);
        long[] program = asm.assemble();
        if (program.length > MAX_INSNS) {
            throw new CompileException("the filter takes " + program.length + " BPF instructions, more than the kernel's "
                    + MAX_INSNS);
        }
        String errno = p.defaultAction().takesErrno() ? " (errno " + p.defaultErrnoRet() + ")" : "";
        StringBuilder names = new StringBuilder();
        for (SyscallTable t : archs) names.append(names.isEmpty() ? "" : ", ").append(t.specName.substring(10).toLowerCase());
        List<String> flags = new ArrayList<>();
        if ((p.flags() & Profile.FLAG_TSYNC) != 0 && !p.notifies()) flags.add("TSYNC");
        if ((p.flags() & Profile.FLAG_LOG) != 0) flags.add("LOG");
        if ((p.flags() & Profile.FLAG_SPEC_ALLOW) != 0) flags.add("SPEC_ALLOW");
        if ((p.flags() & Profile.FLAG_WAIT_KILLABLE_RECV) != 0 && p.notifies()) flags.add("WAIT_KILLABLE_RECV");
        int bits = p.flags();
        if (p.notifies()) {
            // TSYNC with a listener is EINVAL (unless TSYNC_ESRCH); the helper has one thread, so
            // synchronising threads means nothing there.
            bits = (bits & ~Profile.FLAG_TSYNC) | Profile.FLAG_NEW_LISTENER;
            flags.add("NEW_LISTENER");
        }
        String summary = "default action " + p.defaultAction() + errno + ", " + p.syscalls().size() + " rules over " + calls
                + " x86_64 calls, sections for " + names + (stub ? ", calls newer than the profile's return ENOSYS" : "")
                + (flags.isEmpty() ? "" : ", flags " + String.join(" ", flags)) + ", " + program.length + " BPF instructions";
        return new Filter(program, bits, summary);
    }

    /** One architecture's rules, its ENOSYS stub and its default; returns how many calls it names. */
    private static int section(Asm asm, Profile p, SyscallTable t, int defaultRet, boolean stub) {
        // Rules per call number, in the order the profile first names each call.
        Map<Integer, List<Profile.Rule>> byNr = new LinkedHashMap<>();
        int max = -1;
        for (Profile.Rule r : p.syscalls()) {
            for (String name : r.names()) {
                int nr = t.number(name);
                if (nr < 0) continue;
                List<Profile.Rule> rs = byNr.get(nr);
                if (rs == null) byNr.put(nr, rs = new ArrayList<>());
                rs.add(r);
                max = Math.max(max, nr);
            }
        }
        List<Integer> nrs = new ArrayList<>(byNr.keySet());
        java.util.Collections.sort(nrs);
        int notNamed = asm.label();
        tree(asm, nrs, 0, nrs.size(), byNr, defaultRet, notNamed);
        asm.bind(notNamed);
        if (stub && max >= 0) {
            asm.jump(JGT, max, Asm.NEXT, asm.skipOne());
            asm.ret(Profile.Action.SCMP_ACT_ERRNO.ret(Profile.ENOSYS));
        }
        asm.ret(defaultRet);
        return byNr.size();
    }

    /** Calls per chain at the leaves of the search tree. */
    static final int LEAF = 8;

    /**
     * The calls nrs[lo..hi) as a binary search on the call number (a few comparisons per call
     * instead of a chain as long as the profile: an allow-list names some 300 calls), with
     * chains of at most {@link #LEAF} calls at the leaves. Every call's block ends in a return;
     * a number not named jumps to {@code notNamed}. A holds the call number throughout.
     */
    private static void tree(Asm asm, List<Integer> nrs, int lo, int hi, Map<Integer, List<Profile.Rule>> byNr,
                             int defaultRet, int notNamed) {
        if (hi - lo > LEAF) {
            int mid = (lo + hi) >>> 1, upper = asm.label();
            asm.jump(JGE, nrs.get(mid), Asm.NEXT, asm.skipOne());
            asm.ja(upper);
            tree(asm, nrs, lo, mid, byNr, defaultRet, notNamed);
            asm.bind(upper);
            tree(asm, nrs, mid, hi, byNr, defaultRet, notNamed);
            return;
        }
        for (int k = lo; k < hi; k++) call(asm, nrs.get(k), byNr.get(nrs.get(k)), defaultRet);
        asm.ja(notNamed);
    }

    /** One call: its conditional rules in order, then its unconditional one, else the default. */
    private static void call(Asm asm, int nr, List<Profile.Rule> rs, int defaultRet) {
        Profile.Rule plain = null;
        for (Profile.Rule r : rs) if (plain == null && r.args().isEmpty()) plain = r;
        if (rs.size() == 1 && plain != null) {
            asm.jump(JEQ, nr, Asm.NEXT, asm.skipOne());
            asm.ret(plain.action().ret(plain.errnoRet()));
            return;
        }
        int after = asm.label();
        asm.jump(JEQ, nr, asm.skipOne(), Asm.NEXT);
        asm.ja(after);
        for (Profile.Rule r : rs) {
            if (r.args().isEmpty()) continue;
            for (List<Profile.Arg> conds : alternatives(r.args())) {
                int fail = asm.label();
                for (Profile.Arg a : conds) condition(asm, a, fail);
                asm.ret(r.action().ret(r.errnoRet()));
                asm.bind(fail);
            }
        }
        asm.ret(plain != null ? plain.action().ret(plain.errnoRet()) : defaultRet);
        asm.bind(after);
    }

    /** The conditions of one rule as alternatives: all of them, or each alone if an index repeats. */
    private static List<List<Profile.Arg>> alternatives(List<Profile.Arg> args) {
        int seen = 0;
        boolean repeated = false;
        for (Profile.Arg a : args) {
            repeated |= (seen & 1 << a.index()) != 0;
            seen |= 1 << a.index();
        }
        if (!repeated) return List.of(args);
        List<List<Profile.Arg>> each = new ArrayList<>();
        for (Profile.Arg a : args) each.add(List.of(a));
        return each;
    }

    /** Falls through when the 64-bit argument satisfies the condition, jumps to fail if not. */
    private static void condition(Asm asm, Profile.Arg a, int fail) {
        int lo = OFF_ARGS + 8 * a.index(), hi = lo + 4; // little-endian halves
        int vlo = (int) a.value(), vhi = (int) (a.value() >>> 32);
        int ok = asm.label();
        switch (a.op()) {
            case SCMP_CMP_EQ -> {
                asm.ld(hi);
                asm.jump(JEQ, vhi, Asm.NEXT, fail);
                asm.ld(lo);
                asm.jump(JEQ, vlo, Asm.NEXT, fail);
            }
            case SCMP_CMP_NE -> {
                asm.ld(hi);
                asm.jump(JEQ, vhi, Asm.NEXT, ok);
                asm.ld(lo);
                asm.jump(JEQ, vlo, fail, Asm.NEXT);
            }
            case SCMP_CMP_MASKED_EQ -> {
                int dlo = (int) a.valueTwo(), dhi = (int) (a.valueTwo() >>> 32);
                asm.ld(hi);
                asm.op(AND, vhi);
                asm.jump(JEQ, dhi, Asm.NEXT, fail);
                asm.ld(lo);
                asm.op(AND, vlo);
                asm.jump(JEQ, dlo, Asm.NEXT, fail);
            }
            case SCMP_CMP_GT, SCMP_CMP_GE -> {
                asm.ld(hi);
                asm.jump(JGT, vhi, ok, Asm.NEXT);
                asm.jump(JEQ, vhi, Asm.NEXT, fail);
                asm.ld(lo);
                asm.jump(a.op() == Profile.Operator.SCMP_CMP_GT ? JGT : JGE, vlo, Asm.NEXT, fail);
            }
            case SCMP_CMP_LT, SCMP_CMP_LE -> {
                asm.ld(hi);
                asm.jump(JGT, vhi, fail, Asm.NEXT);
                asm.jump(JEQ, vhi, Asm.NEXT, ok);
                asm.ld(lo);
                asm.jump(a.op() == Profile.Operator.SCMP_CMP_LT ? JGE : JGT, vlo, fail, Asm.NEXT);
            }
        }
        asm.bind(ok);
    }

    /** A tiny assembler: jumps name labels, resolved to offsets at the end. */
    static final class Asm {
        static final int NEXT = -1;
        private final List<int[]> insns = new ArrayList<>(); // code, jt label, jf label (or ja label), k
        private final List<Integer> labels = new ArrayList<>();

        int label() {
            labels.add(-1);
            return labels.size() - 1;
        }

        void bind(int label) { labels.set(label, insns.size()); }

        /** A label bound just after the instruction following the next one (skip one). */
        int skipOne() {
            int l = label();
            labels.set(l, insns.size() + 2);
            return l;
        }

        void ld(int offset) { insns.add(new int[] {LD_ABS, NEXT, NEXT, offset}); }
        void op(int code, int k) { insns.add(new int[] {code, NEXT, NEXT, k}); }
        void ret(int k) { insns.add(new int[] {RET, NEXT, NEXT, k}); }
        void jump(int code, int k, int jt, int jf) { insns.add(new int[] {code, jt, jf, k}); }
        void ja(int label) { insns.add(new int[] {JA, label, NEXT, 0}); }

        long[] assemble() {
            long[] out = new long[insns.size()];
            for (int pc = 0; pc < out.length; pc++) {
                int[] i = insns.get(pc);
                if (i[0] == JA) {
                    out[pc] = Filter.pack(JA, 0, 0, target(i[1], pc));
                } else if ((i[0] & 0x07) == 0x05) {
                    int jt = target(i[1], pc), jf = target(i[2], pc);
                    if (jt > 255 || jf > 255) throw new IllegalStateException("BPF jump too long at " + pc);
                    out[pc] = Filter.pack(i[0], jt, jf, i[3]);
                } else {
                    out[pc] = Filter.pack(i[0], 0, 0, i[3]);
                }
            }
            return out;
        }

        private int target(int label, int pc) {
            if (label == NEXT) return 0;
            int at = labels.get(label);
            if (at <= pc) throw new IllegalStateException("BPF label " + label + " unbound or backwards at " + pc);
            return at - pc - 1;
        }
    }
}
