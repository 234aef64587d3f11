package brig.seccomp;

/**
 * A compiled filter: classic BPF for seccomp(SECCOMP_SET_MODE_FILTER), one long per
 * instruction (code in bits 0-15, jt 16-23, jf 24-31, k 32-63; the helper unpacks them into
 * struct sock_filter), the seccomp(2) flags, and what it does in plain words.
 */
public record Filter(long[] program, int flags, String summary) {
    public int length() { return program.length; }

    public static long pack(int code, int jt, int jf, int k) {
        return (code & 0xffffL) | (long) (jt & 0xff) << 16 | (long) (jf & 0xff) << 24 | (k & 0xffffffffL) << 32;
    }

    public static int code(long insn) { return (int) (insn & 0xffff); }
    public static int jt(long insn) { return (int) (insn >>> 16 & 0xff); }
    public static int jf(long insn) { return (int) (insn >>> 24 & 0xff); }
    public static int k(long insn) { return (int) (insn >>> 32); }
}
