package brig.cli;

import brig.cgroups.CgroupException;
import brig.cgroups.CgroupWrite;
import brig.cgroups.ResourcePlan;
import brig.json.Json;
import brig.json.JsonException;
import brig.runtime.BrigException;
import brig.runtime.Runtime;
import brig.spec.Spec;
import brig.spec.SpecReader;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `brig update [flags] ID`: changes the limits of a live container's cgroup, as runc's update.
 * The limits come as a linux.resources object (`--resources FILE`, `-` for stdin, as CRI
 * sends them) and as runc's flags, which override the file's fields (runc ignores the flags
 * when a file is given; Brig lets them refine it). Prints nothing on success, as runc;
 * `--explain` prints the writes it would make, in order, and makes none.
 */
final class UpdateCommand {
    private UpdateCommand() {}


    static final List<Args.Flag> FLAGS = List.of(
            Args.Flag.value("path to a file holding linux.resources (runc's format: only the fields to change), '-' for stdin", "resources", "r"),
            Args.Flag.value("memory limit in bytes (suffixes k, m, g, t, p as runc; -1 for unlimited)", "memory"),
            Args.Flag.value("total memory usage (memory + swap); -1 for unlimited swap", "memory-swap"),
            Args.Flag.value("memory reservation or soft limit in bytes", "memory-reservation"),
            Args.Flag.value("(obsolete: the kernel ignores it, and so does brig)", "kernel-memory"),
            Args.Flag.value("(obsolete: the kernel ignores it, and so does brig)", "kernel-memory-tcp"),
            Args.Flag.value("CPU shares (relative weight against other containers)", "cpu-share", "cpu-shares"),
            Args.Flag.value("CPU CFS hard limit in µs: CPU time allowed per period", "cpu-quota"),
            Args.Flag.value("CPU CFS period in µs", "cpu-period"),
            Args.Flag.value("CPU CFS burst in µs: unused quota that may be spent later", "cpu-burst"),
            Args.Flag.value("CPU realtime runtime in µs per realtime period", "cpu-rt-runtime"),
            Args.Flag.value("CPU realtime period in µs", "cpu-rt-period"),
            Args.Flag.value("1: the cgroup's tasks run as SCHED_IDLE; 0: as usual", "cpu-idle"),
            Args.Flag.value("CPUs to run on (\"0-2,4\")", "cpuset-cpus"),
            Args.Flag.value("memory nodes to allocate from (\"0\")", "cpuset-mems"),
            Args.Flag.value("most tasks at once (-1 for no limit)", "pids-limit"),
            Args.Flag.value("block I/O weight, 10 to 1000", "blkio-weight"),
            Args.Flag.value("Intel RDT L3 cache schema (not supported: brig has no resctrl support)", "l3-cache-schema"),
            Args.Flag.value("Intel RDT memory bandwidth schema (not supported: brig has no resctrl support)", "mem-bw-schema"),
            Args.Flag.bool("print the cgroup writes in the order they would be made, and make none", "explain"));

    static int run(Invocation inv, Args a) throws Args.UsageException {
        String id = a.exactly("update", 1).get(0);
        Request req;
        try {
            req = request(a, inv.in(), inv::path);
        } catch (BrigException e) {
            return inv.fail(e.getMessage());
        }
        try {
            ResourcePlan plan = new Runtime(inv.globals().root(), (java.nio.file.Path) null).update(id, req.resources(), a.bool("explain"));
            if (a.bool("explain")) {
                for (String line : req.named(plan).explain()) inv.out().println(line);
            } else {
                // Kernel memory limits are warned about, as runc does. Device rules are not:
                // CRI sends every update with the container's whole linux.resources, device
                // rules included, and runc skips them silently.
                for (String i : req.named(plan).ignored()) {
                    if (i.startsWith("linux.resources.devices")) continue;
                    inv.err().println("brig: warning: " + i);
                    inv.log("warning", i, null);
                }
            }
            return 0;
        } catch (BrigException | CgroupException e) {
            return inv.fail(req.named(e.getMessage()));
        }
    }

    /**
     * What the command line asks for.
     *
     * @param flagOf the fields set by a flag, by their path ("linux.resources.memory.limit" to
     *     "--memory"): errors and `--explain` name the flag the user typed
     */
    record Request(Spec.Resources resources, Map<String, String> flagOf) {

        /** The text with each field a flag set named by that flag. */
        String named(String text) {
            List<String> fields = new ArrayList<>(flagOf.keySet());
            fields.sort(Comparator.comparingInt(String::length).reversed());
            for (String f : fields) {
                text = text.replaceAll(Pattern.quote(f) + "(?![\\w.\\[])", Matcher.quoteReplacement(flagOf.get(f)));
            }
            return text;
        }

        ResourcePlan named(ResourcePlan p) {
            List<CgroupWrite> writes = new ArrayList<>();
            for (CgroupWrite w : p.writes()) writes.add(new CgroupWrite(w.controller(), w.file(), w.value(), named(w.why())));
            return new ResourcePlan(writes, p.ignored().stream().map(this::named).toList());
        }
    }

    /** A flag and the linux.resources field it sets. */
    private record Field(String flag, String object, String key, Kind kind) {}

    private enum Kind { SIZE, UNSIGNED, SIGNED, STRING }

    private static final List<Field> FIELDS = List.of(
            new Field("memory", "memory", "limit", Kind.SIZE),
            new Field("memory-swap", "memory", "swap", Kind.SIZE),
            new Field("memory-reservation", "memory", "reservation", Kind.SIZE),
            new Field("kernel-memory", "memory", "kernel", Kind.SIZE),
            new Field("kernel-memory-tcp", "memory", "kernelTCP", Kind.SIZE),
            new Field("cpu-share", "cpu", "shares", Kind.UNSIGNED),
            new Field("cpu-quota", "cpu", "quota", Kind.SIGNED),
            new Field("cpu-period", "cpu", "period", Kind.UNSIGNED),
            new Field("cpu-burst", "cpu", "burst", Kind.UNSIGNED),
            new Field("cpu-rt-runtime", "cpu", "realtimeRuntime", Kind.SIGNED),
            new Field("cpu-rt-period", "cpu", "realtimePeriod", Kind.UNSIGNED),
            new Field("cpu-idle", "cpu", "idle", Kind.SIGNED),
            new Field("cpuset-cpus", "cpu", "cpus", Kind.STRING),
            new Field("cpuset-mems", "cpu", "mems", Kind.STRING),
            new Field("pids-limit", "pids", "limit", Kind.SIGNED),
            new Field("blkio-weight", "blockIO", "weight", Kind.SIGNED));

    private static final String PREFIX = "linux.resources";

    /**
     * The resources the file and the flags give, read by the spec reader as a config's
     * linux.resources is (a partial one: only what is given changes).
     */
    /** {@link #request(Args, InputStream, java.util.function.Function)} with paths as given (tests). */
    static Request request(Args a, InputStream stdin) throws BrigException {
        return request(a, stdin, Path::of);
    }

    /** @param path resolves a file name given on the command line (against the caller's directory) */
    static Request request(Args a, InputStream stdin, java.util.function.Function<String, Path> path) throws BrigException {
        for (String rdt : List.of("l3-cache-schema", "mem-bw-schema")) {
            if (a.has(rdt)) throw new BrigException("--" + rdt + ": Intel RDT is not supported (brig does not use resctrl)");
        }
        JsonObject json = new JsonObject();
        String file = a.value("resources", "");
        if (!file.isEmpty()) json = readFile(file, stdin, path);
        Map<String, String> flagOf = new LinkedHashMap<>();
        for (Field f : FIELDS) {
            String v = a.value(f.flag(), "");
            // As runc: an empty value, and a zero blkio weight, set nothing.
            if (v.isEmpty() || (f.flag().equals("blkio-weight") && v.equals("0"))) continue;
            JsonElement o = json.get(f.object());
            if (o == null || !o.isJsonObject()) {
                o = new JsonObject();
                json.add(f.object(), o);
            }
            o.getAsJsonObject().add(f.key(), value(f, v));
            flagOf.put(PREFIX + "." + f.object() + "." + f.key(), "--" + f.flag());
        }
        Request names = new Request(null, flagOf);
        try {
            return new Request(SpecReader.resources(json, PREFIX), flagOf);
        } catch (JsonException e) {
            String field = e.field() == null ? "" : e.field();
            // A field a flag set is named by the flag; one of the file, with the file.
            String where = flagOf.containsKey(field) || file.isEmpty() ? "" : (file.equals("-") ? "stdin" : file) + ": ";
            throw new BrigException(where + names.named(e.getMessage()));
        }
    }

    private static JsonObject readFile(String file, InputStream stdin, java.util.function.Function<String, Path> path) throws BrigException {
        String name = file.equals("-") ? "stdin" : file;
        try {
            JsonElement e = file.equals("-") ? Json.parse(new String(stdin.readAllBytes(), StandardCharsets.UTF_8))
                    : Json.parseObjectFile(path.apply(file));
            if (!e.isJsonObject()) throw new BrigException(name + ": expected a linux.resources object, got " + brig.json.Fields.describe(e));
            return e.getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new BrigException(name + ": ENOENT: no such file or directory");
        } catch (IOException | JsonException e) {
            throw new BrigException(name + ": " + e.getMessage());
        }
    }

    private static JsonPrimitive value(Field f, String v) throws BrigException {
        try {
            return switch (f.kind()) {
                case STRING -> new JsonPrimitive(v);
                case SIZE -> new JsonPrimitive(v.equals("-1") ? -1 : bytes(v));
                case SIGNED -> new JsonPrimitive(Long.parseLong(v));
                case UNSIGNED -> {
                    long n = Long.parseLong(v);
                    if (n < 0) throw new NumberFormatException();
                    yield new JsonPrimitive(n);
                }
            };
        } catch (NumberFormatException e) {
            String expected = switch (f.kind()) {
                case SIZE -> "a size in bytes, with an optional suffix k, m, g, t or p (powers of 1024), or -1";
                case UNSIGNED -> "a number, 0 or more";
                default -> "a number";
            };
            throw new BrigException("--" + f.flag() + ": invalid value \"" + v + "\": expected " + expected);
        }
    }

    /** A number, maybe with a fraction, then an optional space and a unit: b, k, kb, kib, ... p (any case), as runc reads sizes. */
    private static final Pattern SIZE = Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+) ?(?:([kmgtp])(?:i?b)?|b)?",
            Pattern.CASE_INSENSITIVE);

    /** A size as runc's update reads it: units are powers of 1024, fractions are cut. */
    static long bytes(String v) {
        Matcher m = SIZE.matcher(v);
        if (!m.matches()) throw new NumberFormatException(v);
        if (m.group(2) == null && m.group(1).matches("[0-9]+")) return Long.parseLong(m.group(1));
        int shift = m.group(2) == null ? 0 : 10 * ("kmgtp".indexOf(Character.toLowerCase(m.group(2).charAt(0))) + 1);
        double n = Double.parseDouble(m.group(1)) * Math.pow(2, shift);
        if (n >= 0x1p63) throw new NumberFormatException(v);
        return (long) n;
    }
}
