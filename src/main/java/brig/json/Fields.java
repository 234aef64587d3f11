package brig.json;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Typed access to one JSON object's fields, with errors naming the field's full path. Unknown
 * fields are simply never asked for: specifications such as OCI's require them to be ignored.
 * A field that is present with the value null counts as absent.
 */
public final class Fields {
    private final JsonObject object;
    private final String path;

    public Fields(JsonObject object, String path) {
        this.object = object;
        this.path = path;
    }

    public String path() { return path; }

    public String path(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    public JsonObject json() { return object; }

    public boolean has(String key) {
        JsonElement e = object.get(key);
        return e != null && !e.isJsonNull();
    }

    private JsonElement get(String key) {
        JsonElement e = object.get(key);
        return e == null || e.isJsonNull() ? null : e;
    }

    public static String describe(JsonElement e) {
        if (e == null || e.isJsonNull()) return "null";
        if (e.isJsonObject()) return "an object";
        if (e.isJsonArray()) return "an array";
        JsonPrimitive p = e.getAsJsonPrimitive();
        if (p.isString()) return "the string " + Json.compact(p);
        if (p.isBoolean()) return p.getAsBoolean() ? "true" : "false";
        return p.getAsString();
    }

    public Optional<String> string(String key) throws JsonException {
        JsonElement e = get(key);
        if (e == null) return Optional.empty();
        return Optional.of(asString(e, path(key)));
    }

    public String string(String key, String fallback) throws JsonException {
        return string(key).orElse(fallback);
    }

    public String requireString(String key) throws JsonException {
        return string(key).orElseThrow(() -> new JsonException(path(key), "required but missing"));
    }

    static String asString(JsonElement e, String where) throws JsonException {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new JsonException(where, "expected a string, got " + describe(e));
        }
        return e.getAsString();
    }

    public boolean bool(String key, boolean fallback) throws JsonException {
        JsonElement e = get(key);
        if (e == null) return fallback;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw new JsonException(path(key), "expected true or false, got " + describe(e));
        }
        return e.getAsBoolean();
    }

    /** An integer within [min, max]. */
    public Optional<Long> integer(String key, long min, long max) throws JsonException {
        JsonElement e = get(key);
        if (e == null) return Optional.empty();
        return Optional.of(asInteger(e, path(key), min, max));
    }

    public long requireInteger(String key, long min, long max) throws JsonException {
        return integer(key, min, max).orElseThrow(() -> new JsonException(path(key), "required but missing"));
    }

    static long asInteger(JsonElement e, String where, long min, long max) throws JsonException {
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new JsonException(where, "expected a number, got " + describe(e));
        }
        // Plain integers without BigDecimal: its and BigInteger's class initialisation, run
        // interpreted, was ~10 ms of a cold run (config.json has a few dozen numbers).
        String text = e.getAsString();
        if (plainInteger(text)) {
            long v = Long.parseLong(text);
            if (v < min || v > max) {
                throw new JsonException(where, "expected a number from " + min + " to " + max + ", got " + text);
            }
            return v;
        }
        BigDecimal d;
        try {
            d = e.getAsBigDecimal();
        } catch (NumberFormatException x) {
            throw new JsonException(where, "expected a number, got " + e.getAsString());
        }
        if (d.signum() != 0 && d.stripTrailingZeros().scale() > 0) {
            throw new JsonException(where, "expected a whole number, got " + e.getAsString());
        }
        if (d.compareTo(BigDecimal.valueOf(min)) < 0 || d.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw new JsonException(where, "expected a number from " + min + " to " + max + ", got " + e.getAsString());
        }
        return d.longValueExact();
    }

    /** At most 18 digits, an optional minus sign: fits a long, whatever the digits. */
    private static boolean plainInteger(String s) {
        int start = s.startsWith("-") ? 1 : 0;
        if (s.length() == start || s.length() - start > 18) return false;
        for (int i = start; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return false;
        }
        return true;
    }

    /** Unsigned 64-bit values (rlimits, memory sizes) as their bit pattern in a long. */
    public Optional<Long> unsigned64(String key) throws JsonException {
        JsonElement e = get(key);
        if (e == null) return Optional.empty();
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new JsonException(path(key), "expected a number, got " + describe(e));
        }
        String text = e.getAsString();
        if (plainInteger(text) && !text.startsWith("-")) return Optional.of(Long.parseLong(text));
        try {
            BigDecimal d = e.getAsBigDecimal();
            if (d.precision() - d.scale() > 20) { // more than 20 integer digits: never make the BigInteger
                throw new JsonException(path(key), "expected a number from 0 to 18446744073709551615, got " + e.getAsString());
            }
            var v = d.toBigIntegerExact();
            if (v.signum() < 0 || v.bitLength() > 64) {
                throw new JsonException(path(key), "expected a number from 0 to 18446744073709551615, got " + e.getAsString());
            }
            return Optional.of(v.longValue());
        } catch (ArithmeticException | NumberFormatException x) {
            throw new JsonException(path(key), "expected a whole number, got " + e.getAsString());
        }
    }

    public Optional<Fields> object(String key) throws JsonException {
        JsonElement e = get(key);
        if (e == null) return Optional.empty();
        if (!e.isJsonObject()) throw new JsonException(path(key), "expected an object, got " + describe(e));
        return Optional.of(new Fields(e.getAsJsonObject(), path(key)));
    }

    private JsonArray array(String key) throws JsonException {
        JsonElement e = get(key);
        if (e == null) return null;
        if (!e.isJsonArray()) throw new JsonException(path(key), "expected an array, got " + describe(e));
        return e.getAsJsonArray();
    }

    public List<Fields> objects(String key) throws JsonException {
        JsonArray a = array(key);
        if (a == null) return List.of();
        List<Fields> out = new ArrayList<>(a.size());
        for (int k = 0; k < a.size(); k++) {
            String where = path(key) + "[" + k + "]";
            JsonElement e = a.get(k);
            if (!e.isJsonObject()) throw new JsonException(where, "expected an object, got " + describe(e));
            out.add(new Fields(e.getAsJsonObject(), where));
        }
        return out;
    }

    public Optional<List<String>> optionalStrings(String key) throws JsonException {
        JsonArray a = array(key);
        if (a == null) return Optional.empty();
        List<String> out = new ArrayList<>(a.size());
        for (int k = 0; k < a.size(); k++) out.add(asString(a.get(k), path(key) + "[" + k + "]"));
        return Optional.of(List.copyOf(out));
    }

    public List<String> strings(String key) throws JsonException {
        return optionalStrings(key).orElse(List.of());
    }

    public List<Long> integers(String key, long min, long max) throws JsonException {
        JsonArray a = array(key);
        if (a == null) return List.of();
        List<Long> out = new ArrayList<>(a.size());
        for (int k = 0; k < a.size(); k++) out.add(asInteger(a.get(k), path(key) + "[" + k + "]", min, max));
        return List.copyOf(out);
    }

    public Map<String, String> stringMap(String key) throws JsonException {
        JsonElement e = get(key);
        if (e == null) return Map.of();
        if (!e.isJsonObject()) throw new JsonException(path(key), "expected an object, got " + describe(e));
        Map<String, String> out = new LinkedHashMap<>();
        for (var entry : e.getAsJsonObject().entrySet()) {
            out.put(entry.getKey(), asString(entry.getValue(), path(key) + "." + entry.getKey()));
        }
        return java.util.Collections.unmodifiableMap(out);
    }
}
