package brig.image;

import com.google.gson.JsonObject;
import java.util.Locale;

/** An image's os/architecture[/variant], as in an OCI index entry or `--platform`. */
public record Platform(String os, String architecture, String variant) {

    /** Parses "os/arch[/variant]", such as linux/arm64/v8. */
    public static Platform parse(String text) throws ImageException {
        String[] p = text.split("/", -1);
        if (p.length < 2 || p.length > 3 || p[0].isEmpty() || p[1].isEmpty() || (p.length == 3 && p[2].isEmpty())) {
            throw new ImageException("invalid platform \"" + text + "\": expected os/arch[/variant], such as linux/amd64");
        }
        return new Platform(p[0], normalizeArch(p[1]), p.length == 3 ? p[2] : "");
    }

    /** The machine Brig runs on, in Go's names (which images use). */
    public static Platform host() {
        String arch = System.getProperty("os.arch", "amd64").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "aarch64", "arm64" -> new Platform("linux", "arm64", "v8");
            case "arm" -> new Platform("linux", "arm", "v7");
            case "x86_64", "amd64" -> new Platform("linux", "amd64", "");
            case "x86", "i386", "i686" -> new Platform("linux", "386", "");
            default -> new Platform("linux", arch, "");
        };
    }

    static String normalizeArch(String a) {
        return switch (a) {
            case "x86_64", "x86-64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> a;
        };
    }

    static Platform of(JsonObject p) {
        return new Platform(string(p, "os"), normalizeArch(string(p, "architecture")), string(p, "variant"));
    }

    private static String string(JsonObject o, String k) {
        return o.has(k) && o.get(k).isJsonPrimitive() ? o.get(k).getAsString() : "";
    }

    /** Whether an image for {@code p} runs here when this platform is wanted. */
    public boolean accepts(Platform p) {
        if (!os.equals(p.os) || !architecture.equals(p.architecture)) return false;
        if (variant.isEmpty()) return true;
        String v = p.variant.isEmpty() && architecture.equals("arm64") ? "v8" : p.variant;
        return variant.equals(v);
    }

    public JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("architecture", architecture);
        o.addProperty("os", os);
        if (!variant.isEmpty()) o.addProperty("variant", variant);
        return o;
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
