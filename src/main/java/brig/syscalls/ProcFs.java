package brig.syscalls;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Reading small /proc files. */
public final class ProcFs {
    private ProcFs() {}

    /**
     * The whole file in one read from offset 0. Sysctl files (/proc/sys/...) return nothing to
     * a read that starts later, so Files.readString, which first reads a single byte, would see
     * "4" of "40".
     */
    public static String read(String path) throws IOException {
        try (FileInputStream in = new FileInputStream(path)) {
            byte[] buf = new byte[65536];
            int n = in.read(buf);
            return new String(buf, 0, Math.max(0, n), StandardCharsets.UTF_8);
        }
    }
}
