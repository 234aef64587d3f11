package brig.seccomp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.json.JsonException;
import brig.spec.SpecDefaults;
import brig.spec.SpecReader;
import com.google.gson.JsonObject;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The compiler and the reader without root. What the filters do is checked by the kernel in
 * SeccompIT; here: the tables, the program's frame, the limits, and the errors.
 */
class CompilerTest {
    static Profile read(String seccomp) throws JsonException {
        JsonObject c = SpecDefaults.config(false, 0, 0);
        c.getAsJsonObject("linux").add("seccomp", Json.parseQuietly(seccomp));
        return SpecReader.parse(c).linux().seccomp();
    }

    static String error(String seccomp) {
        try {
            read(seccomp);
        } catch (JsonException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted: " + (seccomp.length() > 200 ? seccomp.substring(0, 200) + "..." : seccomp));
    }

    static String dockerLike() throws Exception {
        try (InputStream in = CompilerTest.class.getResourceAsStream("/brig/seccomp/docker-like.json")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void tablesGiveTheKernelsNumbers() {
        assertEquals(83, SyscallTable.X86_64.number("mkdir"));
        assertEquals(0x40000000 | 83, SyscallTable.X32.number("mkdir"));
        assertEquals(39, SyscallTable.X86.number("mkdir"));
        assertEquals(435, SyscallTable.X86_64.number("clone3"));
        assertEquals(452, SyscallTable.X86.number("fchmodat2"));
        assertEquals(-1, SyscallTable.X86_64.number("socketcall"));
        assertEquals(-1, SyscallTable.X86_64.number("no_such_call"));
    }

    @Test
    void dockerLikeProfileFitsAndIsFramedByTheArchCheck() throws Exception {
        Filter f = Compiler.compile(read(dockerLike()));
        long[] p = f.program();
        assertTrue(p.length < Compiler.MAX_INSNS, "length " + p.length);
        // First the arch is loaded; a call from any other arch ends in the last instruction.
        assertEquals(Compiler.LD_ABS, Filter.code(p[0]));
        assertEquals(Compiler.OFF_ARCH, Filter.k(p[0]));
        assertEquals(Compiler.RET, Filter.code(p[p.length - 1]));
        assertEquals(0x80000000, Filter.k(p[p.length - 1]));
        assertTrue(f.summary().startsWith("default action SCMP_ACT_ERRNO (errno 1), "), f.summary());
        assertTrue(f.summary().contains(" x86_64 calls, sections for x86_64, x32, x86, calls newer than the profile's return ENOSYS, "), f.summary());
    }

    @Test
    void namesTheTablesDoNotKnowAreSkipped() throws Exception {
        Filter known = Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"));
        Filter more = Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"no_such_call\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"));
        assertArrayEquals(known.program(), more.program());
    }

    @Test
    void withoutX32TheBitIsKilledAndWithItTheCallIsFiltered() throws Exception {
        String rule = ",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
        long[] native64 = Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_ALLOW\"" + rule)).program();
        long[] withX32 = Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X32\"]" + rule)).program();
        assertTrue(containsK(native64, 0x40000000));
        assertTrue(!containsK(native64, 0x40000000 | 83));
        assertTrue(containsK(withX32, 0x40000000 | 83));
    }

    @Test
    void noEnosysStubWhenTheDefaultAllowsOrIsEnosys() throws Exception {
        String rule = ",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
        int enosys = 0x00050000 | 38;
        assertTrue(!containsK(Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_ALLOW\"" + rule)).program(), enosys));
        assertTrue(containsK(Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_KILL\"" + rule)).program(), enosys));
        assertTrue(containsK(Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_ERRNO\"" + rule)).program(), enosys));
    }

    private static boolean containsK(long[] p, int k) {
        for (long i : p) if (Filter.k(i) == k) return true;
        return false;
    }

    @Test
    void badProfilesNameTheField() {
        assertEquals("linux.seccomp.defaultAction: required but missing", error("{\"syscalls\":[]}"));
        assertEquals("linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_MAYBE\"",
                error("{\"defaultAction\":\"SCMP_ACT_MAYBE\"}"));
        assertEquals("linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FAST\"",
                error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_FAST\"]}"));
        assertEquals("linux.seccomp.architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"",
                error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}"));
        assertEquals("linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW",
                error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"errnoRet\":1}]}"));
        assertEquals("linux.seccomp.syscalls[0].names: required but missing",
                error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\"}]}"));
        assertEquals("linux.seccomp.syscalls[0].args[0].value: required but missing",
                error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}"));
        assertEquals("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action (only a rule's)",
                error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}"));
    }

    @Test
    void tooLongAProgramIsRefusedWhenTheConfigIsRead() {
        StringBuilder rules = new StringBuilder();
        for (int k = 0; k < 1000; k++) {
            rules.append(k == 0 ? "" : ",").append("{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":")
                    .append(k).append(",\"op\":\"SCMP_CMP_EQ\"}]}");
        }
        String err = error("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" + rules + "]}");
        assertTrue(err.startsWith("linux.seccomp: the filter takes ") && err.endsWith("BPF instructions, more than the kernel's 4096"), err);
    }

    @Test
    void emptyProfileIsNone() throws Exception {
        assertEquals(null, read("{}"));
    }

    /**
     * Runs a program on one seccomp_data (arch, nr, args) as the kernel would: only the
     * instructions the compiler emits. An aid to check the search tree over every call number;
     * what the filters do to processes is SeccompIT's.
     */
    static int run(long[] p, int arch, int nr, long arg0) {
        int a = 0;
        for (int pc = 0; pc < p.length; pc++) {
            long i = p[pc];
            int code = Filter.code(i), k = Filter.k(i);
            switch (code) {
                case Compiler.LD_ABS -> a = switch (k) {
                    case 0 -> nr;
                    case 4 -> arch;
                    case 16 -> (int) arg0;
                    case 20 -> (int) (arg0 >>> 32);
                    default -> 0;
                };
                case Compiler.AND -> a &= k;
                case Compiler.RET -> { return k; }
                case Compiler.JA -> pc += k;
                case Compiler.JEQ -> pc += a == k ? Filter.jt(i) : Filter.jf(i);
                case Compiler.JGT -> pc += Integer.compareUnsigned(a, k) > 0 ? Filter.jt(i) : Filter.jf(i);
                case Compiler.JGE -> pc += Integer.compareUnsigned(a, k) >= 0 ? Filter.jt(i) : Filter.jf(i);
                default -> throw new AssertionError("unexpected instruction " + code + " at " + pc);
            }
        }
        throw new AssertionError("fell off the end");
    }

    @Test
    void theSearchTreeFindsEveryCallOfEveryArchitecture() throws Exception {
        Profile p = read(dockerLike());
        long[] prog = Compiler.compile(p).program();
        int allow = 0x7fff0000, eperm = 0x00050001, enosys = 0x00050026, kill = 0x80000000;
        for (SyscallTable t : SyscallTable.values()) {
            java.util.Map<Integer, String> named = new java.util.HashMap<>();
            int max = 0;
            for (Profile.Rule r : p.syscalls()) {
                for (String n : r.names()) {
                    int nr = t.number(n);
                    if (nr >= 0) {
                        named.putIfAbsent(nr, r.args().isEmpty() ? r.action().name() : "conditional");
                        max = Math.max(max, nr);
                    }
                }
            }
            int base = t == SyscallTable.X32 ? SyscallTable.X32_SYSCALL_BIT : 0;
            for (int nr = base; nr < base + 600; nr++) {
                String what = named.get(nr);
                int want = what == null ? (nr > max ? enosys : eperm) : what.equals("SCMP_ACT_ALLOW") ? allow : -1;
                if (want == -1) continue; // conditional (personality, clone, socket) or clone3: checked by SeccompIT
                assertEquals(want, run(prog, t.auditArch, nr, 0), t + " call " + (nr - base));
            }
        }
        // personality's conditions, here too.
        int personality = SyscallTable.X86_64.number("personality");
        assertEquals(allow, run(prog, SyscallTable.X86_64.auditArch, personality, 0xffffffffL));
        assertEquals(eperm, run(prog, SyscallTable.X86_64.auditArch, personality, 0x1ffffffffL));
        // Another architecture, or the x32 bit on a filter without x32, is killed.
        assertEquals(kill, run(prog, 0xC00000B7, 0, 0));
        long[] native64 = Compiler.compile(read("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}")).program();
        assertEquals(kill, run(native64, SyscallTable.X86_64.auditArch, SyscallTable.X32_SYSCALL_BIT | 1, 0));
        assertEquals(allow, run(native64, SyscallTable.X86_64.auditArch, 1, 0));
        assertEquals(kill, run(native64, SyscallTable.X86.auditArch, 1, 0));
    }
}
