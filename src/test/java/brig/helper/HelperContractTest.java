package brig.helper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The step codes and flags in Java and in the C helper are one contract: they must agree. */
class HelperContractTest {
    private static final String C = "src/main/c/brig-helper.c";

    @Test
    void stepCodesMatchTheHelper() throws IOException {
        String src = Files.readString(Path.of(C));
        Map<String, Integer> c = new HashMap<>();
        Matcher m = Pattern.compile("OP_([A-Z_]+) = (\\d+)").matcher(src);
        while (m.find()) c.put(m.group(1), Integer.parseInt(m.group(2)));
        Map<String, Integer> java = new HashMap<>();
        for (Op op : Op.values()) java.put(op.name(), op.code);
        assertEquals(java, c);
    }

    @Test
    void flagsMatchTheHelper() throws IOException {
        String src = Files.readString(Path.of(C));
        Map<String, Integer> c = new HashMap<>();
        Matcher m = Pattern.compile("#define F_([A-Z_]+)\\s+0x([0-9a-f]+)").matcher(src);
        while (m.find()) c.put(m.group(1), Integer.parseInt(m.group(2), 16));
        assertEquals(Map.of("SRC_HOST", Step.SRC_HOST, "SRC_ROOT", Step.SRC_ROOT, "TGT_HOST", Step.TGT_HOST,
                "OPTIONAL", Step.OPTIONAL, "KEEP_LOCKED", Step.KEEP_LOCKED, "DEFER", Step.DEFER,
                "IF_DEFERRED", Step.IF_DEFERRED, "ON_PROC", Step.ON_PROC, "NO_SYMLINKS", Step.NO_SYMLINKS,
                "CGROUP_AFTER_FORK", Step.CGROUP_AFTER_FORK), c);
    }

    @Test
    void planEncodingIsTheDocumentedLayout() {
        Plan p = new Plan(java.util.List.of(new Step.SetHostname("ab")));
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(p.encode()).order(java.nio.ByteOrder.nativeOrder());
        assertEquals(1, b.getInt());                 // steps
        assertEquals(Op.SETHOSTNAME.code, b.getInt());
        assertEquals(0, b.getInt());                 // flags
        assertEquals(0, b.getInt());                 // integers
        assertEquals(1, b.getInt());                 // strings
        assertEquals(2, b.getInt());                 // length
        assertEquals('a', b.get());
        assertEquals('b', b.get());
        assertEquals(0, b.get());                    // NUL
        assertEquals(0, b.remaining());
    }
}
