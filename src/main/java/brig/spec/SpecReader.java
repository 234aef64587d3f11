package brig.spec;

import brig.json.Fields;
import brig.json.Json;
import brig.json.JsonException;
import brig.seccomp.Compiler;
import brig.seccomp.Profile;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads config.json into a {@link Spec}. Unknown fields are ignored, as the runtime spec
 * requires (engines send fields a runtime may not know). Known fields with invalid values, and
 * known fields whose feature Brig does not have yet, are errors naming the field: never
 * silently ignored.
 */
public final class SpecReader {
    private SpecReader() {}

    public static final long U32 = 0xffffffffL;

    public static Spec read(Path file) throws SpecException {
        return parse(file, readJson(file));
    }

    /** The file's JSON as it is, unchecked (what a container keeps of its config.json at create). */
    public static JsonObject readJson(Path file) throws SpecException {
        try {
            return Json.parseObjectFile(file);
        } catch (NoSuchFileException e) {
            throw new SpecException(file, "", "ENOENT: no such file or directory");
        } catch (IOException e) {
            throw new SpecException(file, "", e.getMessage());
        } catch (JsonException e) {
            throw new SpecException(file, e.field(), e.getMessage());
        }
    }

    /** {@link #parse(JsonObject)} with errors naming {@code file}, where the JSON was read from. */
    public static Spec parse(Path file, JsonObject root) throws SpecException {
        try {
            return parse(root);
        } catch (JsonException e) {
            throw new SpecException(file, e.field(), e.getMessage());
        }
    }

    /**
     * A process on its own, as config.json's "process" (`brig exec --process FILE`); errors
     * name the field within it ("args", "user.uid").
     */
    public static Spec.Process readProcess(Path file) throws SpecException {
        try {
            return process(new Fields(Json.parseObjectFile(file), ""));
        } catch (NoSuchFileException e) {
            throw new SpecException(file, "", "ENOENT: no such file or directory");
        } catch (IOException e) {
            throw new SpecException(file, "", e.getMessage());
        } catch (JsonException e) {
            throw new SpecException(file, e.field(), e.getMessage());
        }
    }

    /**
     * The names of config.json's hooks this reader accepts (what `brig features` lists).
     */
    public static List<String> knownHooks() {
        return List.of("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop");
    }

    public static Spec parse(JsonObject json) throws JsonException {
        Fields f = new Fields(json, "");
        String version = f.requireString("ociVersion");
        if (!version.startsWith("1.")) {
            throw new JsonException("ociVersion", "unsupported version " + version + " (Brig reads 1.x)");
        }
        refuse(f, "solaris", "this is a Linux runtime");
        refuse(f, "windows", "this is a Linux runtime");
        refuse(f, "vm", "this runtime does not start virtual machines");
        Spec.Process process = f.object("process").isPresent() ? process(f.object("process").get()) : null;
        Fields root = f.object("root").orElseThrow(() -> new JsonException("root", "required but missing"));
        String rootPath = root.requireString("path");
        if (rootPath.isEmpty()) throw new JsonException("root.path", "must not be empty");
        noNul(rootPath, "root.path");
        List<Spec.Mount> mounts = new ArrayList<>();
        for (Fields m : f.objects("mounts")) mounts.add(mount(m));
        Spec.Linux linux = f.object("linux").isPresent() ? linux(f.object("linux").get()) : Spec.Linux.EMPTY;
        return new Spec(version, process, new Spec.Root(rootPath, root.bool("readonly", false)),
                cString(f, "hostname"), cString(f, "domainname"), mounts, f.stringMap("annotations"), linux,
                f.object("hooks").isPresent() ? hooks(f.object("hooks").get()) : Spec.Hooks.NONE);
    }

    /** "hooks" (also as Brig keeps them in a container's state). */
    public static Spec.Hooks hooks(Fields h) throws JsonException {
        return new Spec.Hooks(hookList(h, "prestart"), hookList(h, "createRuntime"), hookList(h, "createContainer"),
                hookList(h, "startContainer"), hookList(h, "poststart"), hookList(h, "poststop"));
    }

    private static List<Spec.Hook> hookList(Fields h, String key) throws JsonException {
        List<Spec.Hook> out = new ArrayList<>();
        for (Fields e : h.objects(key)) {
            String path = e.requireString("path");
            noNul(path, e.path("path"));
            if (!path.startsWith("/")) throw new JsonException(e.path("path"), "must be an absolute path, got \"" + path + "\"");
            Integer timeout = null;
            if (e.has("timeout")) {
                long t = e.integer("timeout", Long.MIN_VALUE, Integer.MAX_VALUE).orElse(1L);
                if (t <= 0) throw new JsonException(e.path("timeout"), "must be greater than zero, got " + t);
                timeout = (int) t;
            }
            out.add(new Spec.Hook(path, cStrings(e, "args"), cStrings(e, "env"), timeout));
        }
        return out;
    }

    /** A field present with content (not null, {}, [] or ""), for a feature not there yet. */
    static void refuse(Fields f, String key, String why) throws JsonException {
        if (!f.has(key)) return;
        JsonElement e = f.json().get(key);
        boolean empty = (e.isJsonObject() && e.getAsJsonObject().isEmpty())
                || (e.isJsonArray() && e.getAsJsonArray().isEmpty())
                || (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() && e.getAsString().isEmpty());
        if (!empty) throw new JsonException(f.path(key), why);
    }

    private static Spec.Process process(Fields p) throws JsonException {
        List<String> args = p.strings("args");
        String cwd = p.requireString("cwd");
        noNul(cwd, p.path("cwd"));
        if (!cwd.startsWith("/")) throw new JsonException(p.path("cwd"), "must be an absolute path, got \"" + cwd + "\"");
        for (int k = 0; k < args.size(); k++) noNul(args.get(k), p.path("args") + "[" + k + "]");
        List<String> env = p.strings("env");
        for (int k = 0; k < env.size(); k++) {
            String v = env.get(k);
            noNul(v, p.path("env") + "[" + k + "]");
            if (v.indexOf('=') <= 0) {
                throw new JsonException(p.path("env") + "[" + k + "]", "expected NAME=VALUE, got \"" + v + "\"");
            }
        }
        Spec.ConsoleSize console = null;
        if (p.object("consoleSize").isPresent()) {
            Fields c = p.object("consoleSize").get();
            console = new Spec.ConsoleSize((int) c.requireInteger("height", 0, 65535),
                    (int) c.requireInteger("width", 0, 65535));
        }
        Fields u = p.object("user").orElseThrow(() -> new JsonException(p.path("user"), "required but missing"));
        Integer umask = u.integer("umask", 0, 0777).map(Long::intValue).orElse(null);
        Spec.User user = new Spec.User(u.integer("uid", 0, U32).orElse(0L), u.integer("gid", 0, U32).orElse(0L),
                umask, u.integers("additionalGids", 0, U32));
        Spec.Capabilities caps = null;
        if (p.object("capabilities").isPresent()) {
            Fields c = p.object("capabilities").get();
            caps = new Spec.Capabilities(capSet(c, "bounding"), capSet(c, "effective"), capSet(c, "inheritable"),
                    capSet(c, "permitted"), capSet(c, "ambient"));
        }
        List<Spec.Rlimit> rlimits = new ArrayList<>();
        Set<RlimitType> seen = EnumSet.noneOf(RlimitType.class);
        for (Fields r : p.objects("rlimits")) {
            String name = r.requireString("type");
            RlimitType type = RlimitType.ofName(name);
            if (type == null) throw new JsonException(r.path("type"), "unknown resource limit \"" + name + "\"");
            if (!seen.add(type)) throw new JsonException(r.path("type"), "duplicate resource limit " + name);
            long soft = r.unsigned64("soft").orElseThrow(() -> new JsonException(r.path("soft"), "required but missing"));
            long hard = r.unsigned64("hard").orElseThrow(() -> new JsonException(r.path("hard"), "required but missing"));
            if (Long.compareUnsigned(soft, hard) > 0) {
                throw new JsonException(r.path("soft"), "soft limit " + Long.toUnsignedString(soft)
                        + " is above the hard limit " + Long.toUnsignedString(hard));
            }
            rlimits.add(new Spec.Rlimit(type, soft, hard));
        }
        Integer oom = p.integer("oomScoreAdj", -1000, 1000).map(Long::intValue).orElse(null);
        if (p.has("apparmorProfile") && Lsm.appArmorEnabled()) refuse(p, "apparmorProfile", "AppArmor profiles are not supported yet");
        if (p.has("selinuxLabel") && Lsm.seLinuxEnabled()) refuse(p, "selinuxLabel", "SELinux labels are not supported yet");
        refuse(p, "ioPriority", "I/O priorities are not supported yet");
        refuse(p, "scheduler", "scheduler settings are not supported yet");
        refuse(p, "execCPUAffinity", "CPU affinity is not supported yet");
        return new Spec.Process(p.bool("terminal", false), console, user, args, env, cwd, caps, rlimits,
                p.bool("noNewPrivileges", false), oom);
    }

    /**
     * Strings that reach the helper become C strings, which end at the first NUL: "/\0x" is "/"
     * to the kernel. Every such field is checked here, so what Java validated is what C uses.
     */
    private static void noNul(String s, String where) throws JsonException {
        if (s != null && s.indexOf(0) >= 0) throw new JsonException(where.replace("\0", "\\0"), "must not contain a NUL character");
    }

    /** A string field passed on as a C string; "" when absent. */
    private static String cString(Fields f, String key) throws JsonException {
        String v = f.string(key, "");
        noNul(v, f.path(key));
        return v;
    }

    /** A list of strings passed on as C strings. */
    private static List<String> cStrings(Fields f, String key) throws JsonException {
        List<String> v = f.strings(key);
        for (int k = 0; k < v.size(); k++) noNul(v.get(k), f.path(key) + "[" + k + "]");
        return v;
    }

    private static List<Capability> capSet(Fields c, String key) throws JsonException {
        var names = c.optionalStrings(key);
        if (names.isEmpty()) return null;
        List<Capability> out = new ArrayList<>();
        for (int k = 0; k < names.get().size(); k++) {
            String n = names.get().get(k);
            Capability cap = Capability.ofName(n);
            if (cap == null) throw new JsonException(c.path(key) + "[" + k + "]", "unknown capability \"" + n + "\"");
            out.add(cap);
        }
        return List.copyOf(out);
    }

    private static Spec.Mount mount(Fields m) throws JsonException {
        String dest = m.requireString("destination");
        if (dest.isEmpty()) throw new JsonException(m.path("destination"), "must not be empty");
        noNul(dest, m.path("destination"));
        if (!dest.startsWith("/")) throw new JsonException(m.path("destination"), "must be an absolute path, got \"" + dest + "\"");
        refuse(m, "uidMappings", "id-mapped mounts are not supported yet");
        refuse(m, "gidMappings", "id-mapped mounts are not supported yet");
        return new Spec.Mount(dest, cString(m, "type"), cString(m, "source"), cStrings(m, "options"));
    }

    private static Spec.Linux linux(Fields l) throws JsonException {
        List<Spec.Namespace> namespaces = new ArrayList<>();
        Set<NamespaceType> seen = EnumSet.noneOf(NamespaceType.class);
        for (Fields n : l.objects("namespaces")) {
            String name = n.requireString("type");
            NamespaceType t = NamespaceType.ofSpecName(name);
            if (t == null) throw new JsonException(n.path("type"), "unknown namespace type \"" + name + "\"");
            if (!t.supported()) throw new JsonException(n.path("type"), name + " namespaces are not supported yet");
            if (!seen.add(t)) throw new JsonException(n.path("type"), "duplicate namespace " + name);
            String path = n.string("path").filter(s -> !s.isEmpty()).orElse(null);
            noNul(path, n.path("path"));
            if (path != null && !path.startsWith("/")) {
                throw new JsonException(n.path("path"), "must be an absolute path, got \"" + path + "\"");
            }
            namespaces.add(new Spec.Namespace(t, path));
        }
        List<Spec.Device> devices = new ArrayList<>();
        for (Fields d : l.objects("devices")) devices.add(device(d));
        refuse(l, "timeOffsets", "time namespace offsets are not supported yet");
        refuse(l, "intelRdt", "Intel RDT is not supported yet");
        refuse(l, "personality", "personality is not supported yet");
        refuse(l, "memoryPolicy", "memory policies are not supported yet");
        refuse(l, "netDevices", "moving network devices is not supported yet");
        if (l.has("mountLabel") && Lsm.seLinuxEnabled()) refuse(l, "mountLabel", "SELinux labels are not supported yet");
        String propagation = l.string("rootfsPropagation", "");
        if (!propagation.isEmpty() && !List.of("shared", "slave", "private", "unbindable", "rshared", "rslave",
                "rprivate", "runbindable").contains(propagation)) {
            throw new JsonException(l.path("rootfsPropagation"), "unknown propagation \"" + propagation + "\"");
        }
        Map<String, String> sysctl = new LinkedHashMap<>(l.stringMap("sysctl"));
        for (var e : sysctl.entrySet()) {
            noNul(e.getKey(), l.path("sysctl") + "." + e.getKey());
            noNul(e.getValue(), l.path("sysctl") + "." + e.getKey());
        }
        List<String> masked = cStrings(l, "maskedPaths"), readonly = cStrings(l, "readonlyPaths");
        absolute(l, "maskedPaths", masked);
        absolute(l, "readonlyPaths", readonly);
        String cgroupsPath = l.string("cgroupsPath").filter(s -> !s.isEmpty()).orElse(null);
        noNul(cgroupsPath, l.path("cgroupsPath"));
        Spec.Resources resources = l.object("resources").isPresent() ? resources(l.object("resources").get(), false)
                : Spec.Resources.NONE;
        Profile seccomp = l.object("seccomp").isPresent() ? seccomp(l.object("seccomp").get()) : null;
        return new Spec.Linux(namespaces, mappings(l, "uidMappings"), mappings(l, "gidMappings"), devices,
                cgroupsPath, resources, propagation, sysctl, masked, readonly, seccomp);
    }

    /**
     * linux.seccomp; null for an empty object. Call names are kept as written (the compiler
     * skips those its tables do not know, as runc skips those libseccomp does not know); an
     * unknown action, operator, flag or architecture is an error.
     */
    private static Profile seccomp(Fields s) throws JsonException {
        if (s.json().isEmpty()) return null;
        Profile.Action def = action(s, "defaultAction");
        // As runc: with every unnamed call notified, the helper's own sendmsg that hands the
        // listener over would wait for an agent that has no listener yet.
        if (def == Profile.Action.SCMP_ACT_NOTIFY) {
            throw new JsonException(s.path("defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action (only a rule's)");
        }
        int defErrno = errno(s, "defaultErrnoRet", def);
        List<String> archs = s.strings("architectures");
        for (int k = 0; k < archs.size(); k++) {
            if (!Profile.ARCHITECTURES.contains(archs.get(k))) {
                throw new JsonException(s.path("architectures") + "[" + k + "]", "unknown architecture \"" + archs.get(k) + "\"");
            }
        }
        int flags = 0;
        List<String> names = s.strings("flags");
        for (int k = 0; k < names.size(); k++) {
            int bit = Profile.flag(names.get(k));
            if (bit == 0) throw new JsonException(s.path("flags") + "[" + k + "]", "unknown seccomp flag \"" + names.get(k) + "\"");
            flags |= bit;
        }
        List<Profile.Rule> rules = new ArrayList<>();
        for (Fields r : s.objects("syscalls")) {
            List<String> calls = r.strings("names");
            if (calls.isEmpty()) throw new JsonException(r.path("names"), "required but missing");
            Profile.Action action = action(r, "action");
            List<Profile.Arg> args = new ArrayList<>();
            for (Fields a : r.objects("args")) {
                String op = a.requireString("op");
                Profile.Operator o = Profile.Operator.ofName(op);
                if (o == null) throw new JsonException(a.path("op"), "unknown operator \"" + op + "\"");
                args.add(new Profile.Arg((int) a.requireInteger("index", 0, 5),
                        a.unsigned64("value").orElseThrow(() -> new JsonException(a.path("value"), "required but missing")),
                        a.unsigned64("valueTwo").orElse(0L), o));
            }
            if (action == Profile.Action.SCMP_ACT_NOTIFY && calls.contains("sendmsg")) {
                // The helper hands the listener over with sendmsg once the filter is loaded: a
                // notified sendmsg would wait for an agent that cannot have the listener yet
                // (runc refuses write, its own hand-over call, for the same reason).
                throw new JsonException(r.path("action"), "SCMP_ACT_NOTIFY cannot be used for sendmsg: brig hands the listener"
                        + " to the agent with it");
            }
            rules.add(new Profile.Rule(calls, action, errno(r, "errnoRet", action), args));
        }
        String listenerPath = s.string("listenerPath").orElse(null), metadata = s.string("listenerMetadata").orElse(null);
        if (metadata != null && listenerPath == null) {
            throw new JsonException(s.path("listenerMetadata"), "given without linux.seccomp.listenerPath");
        }
        int k = 0; // the first rule that notifies (a loop: a stream costs a cold JVM its bootstrap)
        while (k < rules.size() && rules.get(k).action() != Profile.Action.SCMP_ACT_NOTIFY) k++;
        boolean notifies = k < rules.size();
        if (notifies && (listenerPath == null || listenerPath.isEmpty())) {
            throw new JsonException(s.path("listenerPath"), "required with SCMP_ACT_NOTIFY (" + s.path("syscalls") + "[" + k
                    + "].action): the agent's socket, where the notify listener goes");
        }
        // Without a listener the flag means nothing, and the kernel refuses it alone (EINVAL).
        if (!notifies) flags &= ~Profile.FLAG_WAIT_KILLABLE_RECV;
        // Without a NOTIFY rule listenerPath is ignored (runtime-spec).
        Profile profile = new Profile(def, defErrno, archs, flags, rules, notifies ? listenerPath : null, notifies ? metadata : null);
        try {
            Compiler.compile(profile);
        } catch (Compiler.CompileException e) {
            throw new JsonException(s.path(), e.getMessage());
        }
        return profile;
    }

    private static Profile.Action action(Fields f, String key) throws JsonException {
        String name = f.requireString(key);
        Profile.Action a = Profile.Action.ofName(name);
        if (a == null) throw new JsonException(f.path(key), "unknown seccomp action \"" + name + "\"");
        return a;
    }

    /** errnoRet (or defaultErrnoRet): EPERM unless given, and only for ERRNO and TRACE. */
    private static int errno(Fields f, String key, Profile.Action action) throws JsonException {
        if (!f.has(key)) return Profile.EPERM;
        long v = f.requireInteger(key, 0, 4095);
        if (!action.takesErrno()) {
            throw new JsonException(f.path(key), "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not " + action);
        }
        return (int) v;
    }

    private static void absolute(Fields l, String key, List<String> paths) throws JsonException {
        for (int k = 0; k < paths.size(); k++) {
            if (!paths.get(k).startsWith("/")) {
                throw new JsonException(l.path(key) + "[" + k + "]", "must be an absolute path, got \"" + paths.get(k) + "\"");
            }
        }
    }

    private static List<Spec.IdMapping> mappings(Fields l, String key) throws JsonException {
        List<Spec.IdMapping> out = new ArrayList<>();
        for (Fields m : l.objects(key)) {
            long size = m.requireInteger("size", 1, U32);
            out.add(new Spec.IdMapping(m.requireInteger("containerID", 0, U32), m.requireInteger("hostID", 0, U32), size));
        }
        return out;
    }

    private static Spec.Device device(Fields d) throws JsonException {
        String path = d.requireString("path");
        noNul(path, d.path("path"));
        if (!path.startsWith("/")) throw new JsonException(d.path("path"), "must be an absolute path, got \"" + path + "\"");
        String type = d.requireString("type");
        if (!List.of("c", "b", "u", "p").contains(type)) {
            throw new JsonException(d.path("type"), "expected c, b, u or p, got \"" + type + "\"");
        }
        long major = 0, minor = 0;
        if (!type.equals("p")) {
            major = d.requireInteger("major", 0, 4095);
            minor = d.requireInteger("minor", 0, 1048575);
        }
        return new Spec.Device(path, type.charAt(0), major, minor,
                d.integer("fileMode", 0, 07777).map(Long::intValue).orElse(null),
                d.integer("uid", 0, U32).orElse(null), d.integer("gid", 0, U32).orElse(null));
    }

    /**
     * A linux.resources object on its own, as `update --resources FILE` gives it (runc's
     * format): only the fields given change. Unlike in a config, a swap limit may come without
     * a memory limit (the cgroup's current one counts; the cgroup plan checks it).
     *
     * @param path how errors name its fields, e.g. "linux.resources"
     */
    public static Spec.Resources resources(JsonObject json, String path) throws JsonException {
        return resources(new Fields(json, path), true);
    }

    private static Spec.Resources resources(Fields r, boolean partial) throws JsonException {
        List<Spec.DeviceRule> rules = new ArrayList<>();
        for (Fields d : r.objects("devices")) {
            if (!d.has("allow")) throw new JsonException(d.path("allow"), "required but missing");
            String type = d.string("type", "a");
            if (!List.of("a", "c", "b").contains(type)) {
                throw new JsonException(d.path("type"), "expected a, c or b, got \"" + type + "\"");
            }
            String access = d.string("access", "rwm");
            if (!access.matches("[rwm]*")) {
                throw new JsonException(d.path("access"), "expected some of \"rwm\", got \"" + access + "\"");
            }
            rules.add(new Spec.DeviceRule(d.bool("allow", false), type.charAt(0), d.integer("major", -1, 4095).orElse(-1L),
                    d.integer("minor", -1, 1048575).orElse(-1L), access.isEmpty() ? "rwm" : access));
        }
        Spec.Memory memory = r.object("memory").isPresent() ? memory(r.object("memory").get(), partial) : null;
        Spec.Cpu cpu = r.object("cpu").isPresent() ? cpu(r.object("cpu").get()) : null;
        Long pids = null;
        if (r.object("pids").isPresent()) {
            // runc: 0 leaves the limit alone, a negative one means "max".
            long v = r.object("pids").get().requireInteger("limit", Long.MIN_VALUE, Long.MAX_VALUE);
            pids = v == 0 ? null : Math.max(v, -1);
        }
        Spec.BlockIO blockIO = r.object("blockIO").isPresent() ? blockIO(r.object("blockIO").get()) : null;
        List<Spec.HugepageLimit> huge = new ArrayList<>();
        for (Fields h : r.objects("hugepageLimits")) {
            String size = h.requireString("pageSize");
            if (!size.matches("[1-9][0-9]{0,5}[KMG]B")) {
                throw new JsonException(h.path("pageSize"), "expected a page size such as \"2MB\" or \"1GB\", got \"" + size + "\"");
            }
            if (huge.stream().anyMatch(x -> x.pageSize().equals(size))) {
                throw new JsonException(h.path("pageSize"), "duplicate page size " + size);
            }
            huge.add(new Spec.HugepageLimit(size, h.unsigned64("limit")
                    .orElseThrow(() -> new JsonException(h.path("limit"), "required but missing"))));
        }
        Spec.Network network = null;
        if (r.object("network").isPresent()) {
            Fields n = r.object("network").get();
            List<Spec.InterfacePriority> prios = new ArrayList<>();
            for (Fields p : n.objects("priorities")) {
                String name = p.requireString("name");
                if (!name.matches("[^\\s/\\x00]{1,15}")) {
                    throw new JsonException(p.path("name"), "not a network interface name: \"" + name.replace("\0", "\\0") + "\"");
                }
                prios.add(new Spec.InterfacePriority(name, p.requireInteger("priority", 0, U32)));
            }
            Long classID = n.integer("classID", 0, U32).orElse(null);
            if (classID != null || !prios.isEmpty()) network = new Spec.Network(classID, prios);
        }
        Map<String, Spec.Rdma> rdma = new LinkedHashMap<>();
        if (r.object("rdma").isPresent()) {
            Fields all = r.object("rdma").get();
            for (String dev : all.json().keySet()) {
                Fields d = all.object(dev).orElseThrow(() -> new JsonException(all.path(dev), "expected an object, got null"));
                if (!dev.matches("[^\\s/\\x00]+")) throw new JsonException(all.path(dev), "not an RDMA device name");
                Long handles = d.integer("hcaHandles", 0, U32).orElse(null), objects = d.integer("hcaObjects", 0, U32).orElse(null);
                if (handles == null && objects == null) continue;
                rdma.put(dev, new Spec.Rdma(handles, objects));
            }
        }
        Map<String, String> unified = new LinkedHashMap<>(r.stringMap("unified"));
        for (var e : unified.entrySet()) {
            String where = r.path("unified") + "." + e.getKey();
            noNul(e.getKey(), where);
            noNul(e.getValue(), where);
            // The key names a file in the container's cgroup directory, and only there.
            if (e.getKey().contains("/") || e.getKey().contains("..") || !e.getKey().contains(".")) {
                throw new JsonException(where, "not a cgroup file name (\"controller.file\")");
            }
        }
        // An object that sets nothing asks for nothing: the same container as without it.
        // Field by field, not a record's equals: its first call spins 8 method-handle classes
        // at run time (~4 ms of a cold JVM's run; the AOT cache does not keep them).
        if (memory != null && allNull(memory.limit(), memory.reservation(), memory.swap(), memory.kernel(), memory.kernelTCP(),
                memory.swappiness()) && !memory.disableOOMKiller()) memory = null;
        if (cpu != null && allNull(cpu.shares(), cpu.quota(), cpu.burst(), cpu.period(), cpu.realtimeRuntime(),
                cpu.realtimePeriod(), cpu.cpus(), cpu.mems(), cpu.idle())) cpu = null;
        if (blockIO != null && allNull(blockIO.weight(), blockIO.leafWeight()) && blockIO.weightDevice().isEmpty()
                && blockIO.throttleReadBpsDevice().isEmpty() && blockIO.throttleWriteBpsDevice().isEmpty()
                && blockIO.throttleReadIOPSDevice().isEmpty() && blockIO.throttleWriteIOPSDevice().isEmpty()) blockIO = null;
        return new Spec.Resources(rules, memory, cpu, pids, blockIO, huge, network, rdma, unified);
    }

    /** A signed size where -1 is unlimited and 0 is "not set", as runc reads them. */
    private static Long size(Fields f, String key) throws JsonException {
        Long v = f.integer(key, -1, Long.MAX_VALUE).orElse(null);
        return v == null || v == 0 ? null : v;
    }

    private static Spec.Memory memory(Fields m, boolean partial) throws JsonException {
        Long limit = size(m, "limit"), swap = size(m, "swap");
        if (swap != null && swap > 0 && limit != null && limit > 0 && swap < limit) {
            throw new JsonException(m.path("swap"), "memory plus swap (" + swap + ") must not be below memory.limit ("
                    + limit + ")");
        }
        if (swap != null && swap > 0 && (limit == null ? !partial : limit < 0)) {
            throw new JsonException(m.path("swap"), "a swap limit needs a memory.limit");
        }
        Long swappiness = null;
        if (m.has("swappiness")) {
            // uint64 in the spec; engines write "unset" as -1 or as its uint64 bit pattern.
            var e = m.json().get("swappiness");
            boolean minusOne = e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber() && e.getAsString().equals("-1");
            long v = minusOne ? -1 : m.unsigned64("swappiness").orElseThrow();
            if (v != -1 && (v < 0 || v > 100)) {
                throw new JsonException(m.path("swappiness"), "expected 0 to 100, got " + Long.toUnsignedString(v));
            }
            swappiness = v == -1 ? null : v;
        }
        if (m.bool("useHierarchy", false)) throw new JsonException(m.path("useHierarchy"), "not supported (the kernel's default hierarchy is used)");
        if (m.bool("checkBeforeUpdate", false)) throw new JsonException(m.path("checkBeforeUpdate"), "not supported yet");
        return new Spec.Memory(limit, size(m, "reservation"), swap, size(m, "kernel"), size(m, "kernelTCP"), swappiness,
                m.bool("disableOOMKiller", false));
    }

    private static Spec.Cpu cpu(Fields c) throws JsonException {
        Long shares = c.integer("shares", 0, 262144).filter(v -> v != 0).orElse(null);
        Long quota = c.integer("quota", -1, Long.MAX_VALUE).filter(v -> v != 0).orElse(null);
        Long period = c.integer("period", 0, 1_000_000).filter(v -> v != 0).orElse(null);
        Long rtRuntime = c.integer("realtimeRuntime", -1, Long.MAX_VALUE).filter(v -> v != 0).orElse(null);
        Long rtPeriod = c.integer("realtimePeriod", 0, 1_000_000).filter(v -> v != 0).orElse(null);
        Long burst = c.integer("burst", 0, Long.MAX_VALUE).orElse(null);
        String cpus = cpuList(c, "cpus"), mems = cpuList(c, "mems");
        return new Spec.Cpu(shares, quota, burst, period, rtRuntime, rtPeriod, cpus, mems,
                c.integer("idle", 0, 1).orElse(null));
    }

    /** "0-3,5": null when absent or empty. */
    private static String cpuList(Fields c, String key) throws JsonException {
        String v = c.string(key, "");
        if (v.isEmpty()) return null;
        if (!v.matches("[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*")) {
            throw new JsonException(c.path(key), "expected a list such as \"0-3,5\", got \"" + v.replace("\0", "\\0") + "\"");
        }
        return v;
    }

    private static Spec.BlockIO blockIO(Fields b) throws JsonException {
        Integer weight = b.integer("weight", 10, 1000).map(Long::intValue).orElse(null);
        Integer leaf = b.integer("leafWeight", 10, 1000).map(Long::intValue).orElse(null);
        List<Spec.WeightDevice> wd = new ArrayList<>();
        for (Fields d : b.objects("weightDevice")) {
            wd.add(new Spec.WeightDevice(d.requireInteger("major", 0, 4095), d.requireInteger("minor", 0, 1048575),
                    d.integer("weight", 10, 1000).map(Long::intValue).orElse(null),
                    d.integer("leafWeight", 10, 1000).map(Long::intValue).orElse(null)));
        }
        return new Spec.BlockIO(weight, leaf, wd, throttles(b, "throttleReadBpsDevice"),
                throttles(b, "throttleWriteBpsDevice"), throttles(b, "throttleReadIOPSDevice"),
                throttles(b, "throttleWriteIOPSDevice"));
    }

    private static List<Spec.ThrottleDevice> throttles(Fields b, String key) throws JsonException {
        List<Spec.ThrottleDevice> out = new ArrayList<>();
        for (Fields d : b.objects(key)) {
            out.add(new Spec.ThrottleDevice(d.requireInteger("major", 0, 4095), d.requireInteger("minor", 0, 1048575),
                    d.unsigned64("rate").orElseThrow(() -> new JsonException(d.path("rate"), "required but missing"))));
        }
        return out;
    }

    private static boolean allNull(Object... values) {
        for (Object v : values) if (v != null) return false;
        return true;
    }
}
