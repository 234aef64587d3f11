package brig.container;

import brig.rootfs.RootfsPlanner;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Docker's `-v SRC:DST[:MODE]`, `--tmpfs DST[:OPTIONS]` and `--init` as OCI mounts of the
 * container's config.json: the runtime's mount code does the rest (each destination resolved
 * inside the rootfs with openat2). Only bind mounts of host paths exist yet; a relative source
 * is a named volume, which Brig does not have.
 */
public final class Volumes {
    private Volumes() {}

    /** Where docker puts its init in the container (moby's inContainerInitPath). */
    public static final String INIT_PATH = "/sbin/docker-init";

    /** Debian's tini package: a static tini, which runs in any image (no libc needed). */
    public static final Path STATIC_INIT = Path.of("/usr/bin/tini-static");

    /** Docker's propagation for a bind and a tmpfs of `-v`/`--tmpfs` (moby's DefaultPropagationMode). */
    static final String DEFAULT_PROPAGATION = "rprivate";

    private static final Set<String> PROPAGATIONS = Set.of("private", "rprivate", "shared", "rshared", "slave", "rslave");

    /**
     * Docker's defaults for a --tmpfs, before the user's options (which may undo them: exec,
     * suid, dev): moby adds noexec, nosuid and nodev and the default propagation.
     */
    static final List<String> TMPFS_DEFAULTS = List.of("noexec", "nosuid", "nodev", DEFAULT_PROPAGATION);

    /** Flag options a --tmpfs may give, each with the one it undoes (docker's MergeTmpfsOptions keeps the last of a pair). */
    private static final Map<String, String> TMPFS_FLAGS = Map.ofEntries(Map.entry("ro", "rw"), Map.entry("rw", "ro"),
            Map.entry("exec", "noexec"), Map.entry("noexec", "exec"), Map.entry("suid", "nosuid"), Map.entry("nosuid", "suid"),
            Map.entry("dev", "nodev"), Map.entry("nodev", "dev"), Map.entry("atime", "noatime"), Map.entry("noatime", "atime"),
            Map.entry("diratime", "nodiratime"), Map.entry("nodiratime", "diratime"), Map.entry("relatime", "norelatime"),
            Map.entry("norelatime", "relatime"), Map.entry("strictatime", "nostrictatime"), Map.entry("nostrictatime", "strictatime"),
            Map.entry("sync", "async"), Map.entry("async", "sync"), Map.entry("dirsync", "dirsync"));

    /** One -v: a host path bound at a container path. */
    public record Bind(Path source, String destination, boolean readOnly, String propagation) {}

    /** Parses one -v value; the source must be an absolute host path (it need not exist: see {@link #createMissingSources}). */
    public static Bind bind(String spec) throws ContainerException {
        String[] f = spec.split(":", -1);
        if (f.length == 1) {
            throw new ContainerException("-v " + spec + ": anonymous volumes are not supported yet: give a host directory, -v /HOST/DIR:" + spec);
        }
        if (f.length > 3) throw new ContainerException("-v " + spec + ": expected SRC:DST[:ro] (too many colons)");
        String src = f[0], dst = f[1];
        if (src.isEmpty()) throw new ContainerException("-v " + spec + ": the source is empty");
        if (!src.startsWith("/")) {
            throw new ContainerException("-v " + spec + ": \"" + src + "\" is not an absolute path, and named volumes are not supported yet: give an absolute host path");
        }
        String dest = destination("-v " + spec, dst);
        boolean ro = false;
        String propagation = DEFAULT_PROPAGATION;
        if (f.length == 3) {
            for (String m : f[2].split(",", -1)) {
                switch (m) {
                    case "ro" -> ro = true;
                    case "rw" -> ro = false;
                    case "z", "Z" -> throw new ContainerException("-v " + spec + ": \"" + m + "\" (an SELinux relabel) is not supported");
                    default -> {
                        if (!PROPAGATIONS.contains(m)) {
                            throw new ContainerException("-v " + spec + ": unknown mode \"" + m + "\": use ro, rw or a propagation (rprivate, rshared, rslave, ...)");
                        }
                        propagation = m;
                    }
                }
            }
        }
        return new Bind(Path.of(src).normalize(), dest, ro, propagation);
    }

    /** Docker's OCI mount of a -v: rbind, ro when asked, and its propagation (rprivate by default). */
    static JsonObject mount(Bind b) {
        List<String> opts = new ArrayList<>(List.of("rbind"));
        if (b.readOnly()) opts.add("ro");
        opts.add(b.propagation());
        return mount(b.destination(), "bind", b.source().toString(), opts);
    }

    /** Docker's OCI mount of a --tmpfs DST[:OPTIONS]: its defaults (noexec, nosuid, nodev, rprivate), then the options given. */
    static JsonObject tmpfs(String spec) throws ContainerException {
        int colon = spec.indexOf(':');
        String dest = destination("--tmpfs " + spec, colon < 0 ? spec : spec.substring(0, colon));
        // Later options replace earlier ones of the same kind: a flag its opposite, key=value its key.
        Map<String, String> opts = new LinkedHashMap<>();
        List<String> given = new ArrayList<>(TMPFS_DEFAULTS);
        if (colon >= 0) given.addAll(List.of(spec.substring(colon + 1).split(",", -1)));
        for (String o : given) {
            String key;
            if (TMPFS_FLAGS.containsKey(o)) {
                opts.remove(TMPFS_FLAGS.get(o));
                key = o;
            } else if (PROPAGATIONS.contains(o)) {
                key = "propagation";
            } else if (o.indexOf('=') > 0) {
                key = o.substring(0, o.indexOf('='));
            } else {
                throw new ContainerException("--tmpfs " + spec + ": unknown option \"" + o + "\": use tmpfs options (size=64m, mode=1777, uid=, gid=) or mount flags (ro, exec, suid, ...)");
            }
            opts.remove(key);
            opts.put(key, o);
        }
        return mount(dest, "tmpfs", "tmpfs", List.copyOf(opts.values()));
    }

    /** Docker's --init: the host's static init bound read-only at {@link #INIT_PATH}. */
    static JsonObject init(Path hostInit) throws ContainerException {
        if (!Files.isRegularFile(hostInit) || !Files.isExecutable(hostInit)) {
            throw new ContainerException("--init: " + hostInit + " is not installed: it comes with Debian's tini package (apt-get install tini)");
        }
        return mount(INIT_PATH, "bind", hostInit.toString(), List.of("bind", "ro"));
    }

    /**
     * The container's mounts with these added: a default mount (/dev/shm, ...) at the same
     * destination gives way, as docker's do, and the added ones are ordered parents first, so
     * that -v /a:/data -v /b:/data/sub mounts /data/sub on top of /data whatever the flags' order.
     */
    static JsonArray merge(JsonArray defaults, List<JsonObject> added) throws ContainerException {
        List<String> seen = new ArrayList<>();
        for (JsonObject m : added) {
            String d = m.get("destination").getAsString();
            if (seen.contains(d)) throw new ContainerException("duplicate mount point: " + d);
            seen.add(d);
        }
        JsonArray out = new JsonArray();
        defaults.forEach(e -> {
            if (!seen.contains(RootfsPlanner.clean(e.getAsJsonObject().get("destination").getAsString()))) out.add(e);
        });
        added.stream().sorted(Comparator.comparingLong(m -> m.get("destination").getAsString().chars().filter(c -> c == '/').count()))
                .forEach(out::add);
        return out;
    }

    /**
     * Docker's -v: a source that does not exist is made as a directory (0755, root's) before the
     * start, as `docker run -v` does (its --mount refuses instead). Brig follows -v's way because
     * the flag is docker's and commands copied from docker's documentation rely on it.
     */
    static void createMissingSources(List<Bind> binds) throws ContainerException {
        for (Bind b : binds) {
            if (Files.exists(b.source())) continue;
            try {
                Files.createDirectories(b.source());
            } catch (IOException e) {
                throw new ContainerException("-v " + b.source() + ":" + b.destination() + ": cannot create the missing source directory: "
                        + (e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getFile() + ": " + f.getReason() : e.toString()));
            }
        }
    }

    private static String destination(String flag, String dst) throws ContainerException {
        if (!dst.startsWith("/")) throw new ContainerException(flag + ": the destination \"" + dst + "\" must be an absolute path");
        String clean = RootfsPlanner.clean(dst);
        if (clean.equals("/")) throw new ContainerException(flag + ": the destination cannot be / (the container's root)");
        return clean;
    }

    private static JsonObject mount(String dest, String type, String source, List<String> options) {
        JsonObject m = new JsonObject();
        m.addProperty("destination", dest);
        m.addProperty("type", type);
        m.addProperty("source", source);
        JsonArray o = new JsonArray();
        options.forEach(o::add);
        m.add("options", o);
        return m;
    }
}
