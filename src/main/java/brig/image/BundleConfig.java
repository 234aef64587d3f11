package brig.image;

import brig.spec.SpecDefaults;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The config.json of an unpacked image: the runtime's defaults (as `brig spec` writes them) with
 * what the image's config asks for: Entrypoint + Cmd, Env, WorkingDir, User resolved in the
 * image's own /etc/passwd and /etc/group, and labels as annotations.
 */
public final class BundleConfig {
    private BundleConfig() {}

    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static JsonObject build(ImageConfig c, Path rootfs, boolean rootless, long hostUid, long hostGid) throws ImageException {
        JsonObject spec = SpecDefaults.config(rootless, hostUid, hostGid);
        JsonObject process = spec.getAsJsonObject("process");
        List<String> args = new ArrayList<>(c.entrypoint());
        args.addAll(c.cmd());
        if (!args.isEmpty()) process.add("args", strings(args));

        Users.User u = Users.resolve(rootfs, c.user());
        JsonObject user = new JsonObject();
        user.addProperty("uid", u.uid());
        user.addProperty("gid", u.gid());
        if (!u.additionalGids().isEmpty()) {
            JsonArray g = new JsonArray();
            u.additionalGids().forEach(g::add);
            user.add("additionalGids", g);
        }
        process.add("user", user);

        List<String> env = new ArrayList<>(c.env());
        if (env.stream().noneMatch(e -> e.startsWith("PATH="))) env.add(0, DEFAULT_PATH);
        if (env.stream().noneMatch(e -> e.startsWith("TERM="))) env.add("TERM=xterm");
        if (env.stream().noneMatch(e -> e.startsWith("HOME="))) env.add("HOME=" + (u.home() != null ? u.home() : "/"));
        process.add("env", strings(env));
        process.addProperty("cwd", c.workingDir().isEmpty() ? "/" : c.workingDir());

        // Images expect to write to their root file system, as under docker and podman.
        spec.getAsJsonObject("root").addProperty("readonly", false);

        JsonObject annotations = new JsonObject();
        for (Map.Entry<String, String> l : c.labels().entrySet()) annotations.addProperty(l.getKey(), l.getValue());
        if (!c.stopSignal().isEmpty()) annotations.addProperty("org.opencontainers.image.stopSignal", c.stopSignal());
        if (annotations.size() > 0) spec.add("annotations", annotations);
        return spec;
    }

    private static JsonArray strings(List<String> values) {
        JsonArray a = new JsonArray();
        values.forEach(a::add);
        return a;
    }
}
