package brig.helper;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What the native helper will do, in order: an immutable list of steps. Printable
 * ({@link #explain}) and testable without root; {@link #encode} gives the helper's wire format:
 * u32 count, then per step u32 op, flags, nint, nstr, the i64 integers, and the strings as
 * u32 length, bytes, NUL (native byte order).
 */
public record Plan(List<Step> steps) {
    public Plan {
        steps = List.copyOf(steps);
    }

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        out.writeBytes(u32(steps.size()));
        for (Step s : steps) {
            long[] ints = s.ints();
            List<String> strs = s.strings();
            out.writeBytes(u32(s.op().code));
            out.writeBytes(u32(s.flags()));
            out.writeBytes(u32(ints.length));
            out.writeBytes(u32(strs.size()));
            ByteBuffer b = ByteBuffer.allocate(8 * ints.length).order(ByteOrder.nativeOrder());
            for (long v : ints) b.putLong(v);
            out.writeBytes(b.array());
            for (String str : strs) {
                byte[] bytes = str.getBytes(StandardCharsets.UTF_8);
                out.writeBytes(u32(bytes.length));
                out.writeBytes(bytes);
                out.write(0);
            }
        }
        return out.toByteArray();
    }

    private static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
    }

    /** One numbered line per step. */
    public String explain() {
        StringBuilder sb = new StringBuilder();
        int width = String.valueOf(steps.size()).length();
        for (int k = 0; k < steps.size(); k++) {
            sb.append(String.format("%" + width + "d. ", k + 1)).append(steps.get(k).explain()).append('\n');
        }
        return sb.toString();
    }

    /** The first step of the given type, or null. */
    public <T extends Step> T find(Class<T> type) {
        for (Step s : steps) if (type.isInstance(s)) return type.cast(s);
        return null;
    }

    public <T extends Step> List<T> all(Class<T> type) {
        return steps.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
