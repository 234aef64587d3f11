package brig.json;

import com.google.gson.FormattingStyle;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading and writing JSON documents (Gson's tree model; no reflection). */
public final class Json {
    private Json() {}

    private static final Gson COMPACT = new GsonBuilder().disableHtmlEscaping().create();
    private static final Gson PRETTY = new GsonBuilder().disableHtmlEscaping()
            .setFormattingStyle(FormattingStyle.PRETTY.withIndent("\t")).create();

    /** Parses a whole document strictly; errors say where ("line 3 column 7"). */
    public static JsonElement parse(Reader in) throws JsonException {
        try {
            JsonReader reader = new JsonReader(in);
            reader.setStrictness(Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(reader);
            if (reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
                throw new JsonException("", "malformed JSON: text after the end of the document");
            }
            checkNumbers(e, "");
            return e;
        } catch (JsonParseException | IOException | IllegalStateException e) {
            throw new JsonException("", "malformed JSON: " + gsonMessage(e));
        }
    }

    public static JsonElement parse(String text) throws JsonException {
        return parse(new StringReader(text));
    }

    /** For text known to be valid (constants, tests). */
    public static JsonElement parseQuietly(String text) {
        try {
            return parse(text);
        } catch (JsonException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** Parses a file whose top level must be an object. */
    public static JsonObject parseObjectFile(Path file) throws IOException, JsonException {
        try (Reader r = Files.newBufferedReader(file)) {
            JsonElement e = parse(r);
            if (!e.isJsonObject()) throw new JsonException("", "expected a JSON object at the top level");
            return e.getAsJsonObject();
        }
    }

    /** Longest number text accepted, and largest exponent: see {@link #checkNumbers}. */
    static final int MAX_NUMBER_CHARS = 100, MAX_EXPONENT = 400;

    /**
     * Refuses absurd numbers before anything computes with them. Gson keeps a number's text and
     * turns it into a BigDecimal on demand, and "1e999999999" expands to a billion digits as soon
     * as it is made an integer: no field Brig reads needs more than 20 digits, and a double's
     * exponent stays below 400.
     */
    private static void checkNumbers(JsonElement e, String path) throws JsonException {
        if (e.isJsonObject()) {
            for (var m : e.getAsJsonObject().entrySet()) checkNumbers(m.getValue(), path.isEmpty() ? m.getKey() : path + "." + m.getKey());
        } else if (e.isJsonArray()) {
            var a = e.getAsJsonArray();
            for (int k = 0; k < a.size(); k++) checkNumbers(a.get(k), path + "[" + k + "]");
        } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            String t = e.getAsString();
            int x = Math.max(t.indexOf('e'), t.indexOf('E'));
            boolean absurd = t.length() > MAX_NUMBER_CHARS;
            if (!absurd && x >= 0) {
                String exp = t.substring(x + 1).replaceFirst("^[+-]", "");
                absurd = !exp.matches("[0-9]{1,4}") || Integer.parseInt(exp) > MAX_EXPONENT;
            }
            if (absurd) {
                String shown = t.length() > 40 ? t.substring(0, 20) + "..." + t.substring(t.length() - 10) + " (" + t.length() + " characters)" : t;
                throw new JsonException(path, "number " + shown + " is out of range (at most " + MAX_NUMBER_CHARS
                        + " characters and an exponent of " + MAX_EXPONENT + ")");
            }
        }
    }

    /** Gson's message without its troubleshooting link, and without the exception class names. */
    private static String gsonMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getMessage() != null && t.getMessage().startsWith(t.getCause().getClass().getName())) {
            t = t.getCause();
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int see = m.indexOf("\nSee ");
        if (see >= 0) m = m.substring(0, see);
        int colon = m.indexOf("Exception: ");
        if (colon >= 0) m = m.substring(colon + "Exception: ".length());
        // gson's advice to its programmer ("Use JsonReader.setStrictness(...) to accept
        // malformed JSON at line 1 column 3 path $") means nothing to brig's user: keep where.
        int at = m.startsWith("Use JsonReader.setStrictness") ? m.indexOf(" at line ") : -1;
        if (at >= 0) m = "bad syntax" + m.substring(at);
        return m.replace('\n', ' ');
    }

    public static String compact(JsonElement e) {
        return COMPACT.toJson(e);
    }

    /** Tab-indented, as runc writes config.json. */
    public static String pretty(JsonElement e) {
        return PRETTY.toJson(e);
    }
}
