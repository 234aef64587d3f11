package brig.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import brig.runtime.BrigException;
import brig.spec.Spec;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `brig update`'s flags and --resources file, read without root. */
class UpdateCommandTest {

    private static UpdateCommand.Request request(String stdin, String... argv) throws Exception {
        Args a = Args.parse(List.of(argv), 0, UpdateCommand.FLAGS, true);
        return UpdateCommand.request(a, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
    }

    private static String error(String stdin, String... argv) {
        return assertThrows(BrigException.class, () -> request(stdin, argv)).getMessage();
    }

    @Test
    void sizesAsRuncReadsThem() {
        assertEquals(100, UpdateCommand.bytes("100"));
        assertEquals(100, UpdateCommand.bytes("100b"));
        assertEquals(100L << 10, UpdateCommand.bytes("100k"));
        assertEquals(100L << 20, UpdateCommand.bytes("100M"));
        assertEquals(100L << 20, UpdateCommand.bytes("100mb"));
        assertEquals(100L << 20, UpdateCommand.bytes("100MiB"));
        assertEquals(100L << 20, UpdateCommand.bytes("100 m"));
        assertEquals(3L << 29, UpdateCommand.bytes("1.5g"));
        assertEquals(1L << 40, UpdateCommand.bytes("1T"));
        assertEquals(Long.MAX_VALUE, UpdateCommand.bytes("9223372036854775807"));
        assertEquals(100, UpdateCommand.bytes("100 "), "runc takes a trailing space as an empty unit");
        for (String bad : List.of("", "m", "100x", "100kbb", "100bk", "-5", "1e3", "99999999p")) {
            assertThrows(NumberFormatException.class, () -> UpdateCommand.bytes(bad), bad);
        }
    }

    @Test
    void runcsFlagsBecomeLinuxResources() throws Exception {
        Spec.Resources r = request("", "--memory", "100M", "--memory-swap=200m", "--memory-reservation", "50M", "--cpu-share", "512",
                "--cpu-quota", "25000", "--cpu-period", "50000", "--cpuset-cpus", "0", "--cpuset-mems", "0", "--pids-limit", "10",
                "--cpu-rt-runtime", "1000", "--cpu-rt-period", "100000", "id").resources();
        assertEquals(new Spec.Memory(100L << 20, 50L << 20, 200L << 20, null, null, null, false), r.memory());
        assertEquals(new Spec.Cpu(512L, 25000L, null, 50000L, 1000L, 100000L, "0", "0", null), r.cpu());
        assertEquals(10L, r.pidsLimit());
        assertEquals(-1L, request("", "--memory", "-1", "--pids-limit", "-1", "id").resources().memory().limit());
        assertEquals(512L, request("", "--cpu-shares", "512", "id").resources().cpu().shares(), "the plural is accepted too");
        // Swap alone is fine for an update: the cgroup's limit counts.
        assertEquals(300L << 20, request("", "--memory-swap", "300M", "id").resources().memory().swap());
        // As runc, empty values and a zero blkio weight set nothing.
        assertEquals(Spec.Resources.NONE, request("", "--memory", "", "--blkio-weight", "0", "id").resources());
    }

    @Test
    void flagsOverrideTheFilesFields(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("r.json");
        Files.writeString(f, "{\"memory\":{\"limit\":104857600,\"swap\":209715200},\"pids\":{\"limit\":5}}");
        Spec.Resources r = request("", "--resources", f.toString(), "--memory", "150M", "id").resources();
        assertEquals(new Spec.Memory(150L << 20, null, 200L << 20, null, null, null, false), r.memory());
        assertEquals(5L, r.pidsLimit());
        // From stdin, as CRI sends it.
        r = request("{\"cpu\":{\"quota\":30000,\"period\":60000}}", "-r", "-", "id").resources();
        assertEquals(30000L, r.cpu().quota());
        assertEquals(60000L, r.cpu().period());
    }

    @Test
    void errorsNameTheFlagOrTheFilesField(@TempDir Path dir) throws Exception {
        assertEquals("--memory: invalid value \"100x\": expected a size in bytes, with an optional suffix k, m, g, t or p "
                + "(powers of 1024), or -1", error("", "--memory", "100x", "id"));
        assertEquals("--cpu-period: invalid value \"-5\": expected a number, 0 or more", error("", "--cpu-period", "-5", "id"));
        assertEquals("--cpu-share: expected a number from 0 to 262144, got 300000", error("", "--cpu-share", "300000", "id"));
        assertEquals("--memory-swap: memory plus swap (104857600) must not be below memory.limit (209715200)",
                error("", "--memory", "200M", "--memory-swap", "100M", "id"));
        assertEquals("--cpuset-cpus: expected a list such as \"0-3,5\", got \"zero\"", error("", "--cpuset-cpus", "zero", "id"));
        assertEquals("--l3-cache-schema: Intel RDT is not supported (brig does not use resctrl)",
                error("", "--l3-cache-schema", "L3:0=f", "id"));
        assertEquals("--mem-bw-schema: Intel RDT is not supported (brig does not use resctrl)", error("", "--mem-bw-schema", "MB:0=50", "id"));
        Path f = dir.resolve("r.json");
        Files.writeString(f, "{\"cpu\":{\"shares\":\"many\"}}");
        assertEquals(f + ": linux.resources.cpu.shares: expected a number, got the string \"many\"", error("", "-r", f.toString(), "id"));
        assertEquals("stdin: expected a linux.resources object, got an array", error("[]", "--resources", "-", "id"));
        assertEquals(dir.resolve("none.json") + ": ENOENT: no such file or directory", error("", "-r", dir.resolve("none.json").toString(), "id"));
    }

    @Test
    void theKernelMemoryFlagsAreReadAndNamedWhenIgnored() throws Exception {
        UpdateCommand.Request r = request("", "--kernel-memory", "10M", "--kernel-memory-tcp", "1M", "id");
        assertEquals(10L << 20, r.resources().memory().kernel());
        assertEquals("--kernel-memory: kernel memory limits are deprecated by the kernel (as runc, Brig ignores them)",
                r.named("linux.resources.memory.kernel: kernel memory limits are deprecated by the kernel (as runc, Brig ignores them)"));
        assertEquals("--kernel-memory-tcp: x", r.named("linux.resources.memory.kernelTCP: x"));
    }
}
