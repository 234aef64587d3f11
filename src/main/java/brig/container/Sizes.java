package brig.container;

import java.util.Locale;

/** Docker's byte sizes: a number with an optional b, k, m, g (binary units, case-insensitive, "kb" too). */
public final class Sizes {
    private Sizes() {}

    public static long parse(String flag, String text) throws ContainerException {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("-1")) return -1;
        if (t.endsWith("b") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) t = t.substring(0, t.length() - 1);
        long unit = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'b' -> t = t.substring(0, t.length() - 1);
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> { }
            }
            if (unit > 1) t = t.substring(0, t.length() - 1);
        }
        try {
            double v = Double.parseDouble(t);
            if (v < 0 || Double.isNaN(v) || Double.isInfinite(v)) throw new NumberFormatException();
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new ContainerException("invalid size \"" + text + "\" for " + flag + ": use a number with an optional unit b, k, m or g (100M)");
        }
    }
}
