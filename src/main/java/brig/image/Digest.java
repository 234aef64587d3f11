package brig.image;

import java.util.HexFormat;
import java.util.regex.Pattern;

/** A content digest such as {@code sha256:9f86d0...}; only sha256 is supported, as by most registries. */
public record Digest(String algorithm, String hex) implements Comparable<Digest> {
    private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");

    public Digest {
        if (!algorithm.equals("sha256")) throw new IllegalArgumentException("unsupported digest algorithm " + algorithm);
        if (!SHA256.matcher(hex).matches()) throw new IllegalArgumentException("invalid sha256 digest " + hex);
    }

    /** Parses "sha256:HEX"; the message names {@code where} (a file or field) when it is not one. */
    public static Digest parse(String text, String where) throws ImageException {
        int colon = text.indexOf(':');
        if (colon < 0) throw new ImageException(where + ": invalid digest \"" + text + "\": expected sha256:<64 hex digits>");
        String alg = text.substring(0, colon), hex = text.substring(colon + 1);
        if (!alg.equals("sha256")) throw new ImageException(where + ": unsupported digest algorithm \"" + alg + "\" (only sha256)");
        if (!SHA256.matcher(hex).matches()) {
            throw new ImageException(where + ": invalid digest \"" + text + "\": expected sha256:<64 hex digits>");
        }
        return new Digest(alg, hex);
    }

    public static boolean looksLike(String text) {
        return text.startsWith("sha256:") && SHA256.matcher(text.substring(7)).matches();
    }

    public static Digest of(byte[] data) {
        Sha256 h = Sha256.create();
        h.update(data, 0, data.length);
        return h.digest();
    }

    static Digest ofBytes(byte[] sha256) {
        return new Digest("sha256", HexFormat.of().formatHex(sha256));
    }

    /** The first 12 hex digits, as docker shows image ids. */
    public String shortId() {
        return hex.substring(0, 12);
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }

    @Override
    public int compareTo(Digest o) {
        return toString().compareTo(o.toString());
    }
}
