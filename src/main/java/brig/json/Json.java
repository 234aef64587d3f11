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
