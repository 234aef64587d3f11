package brig.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.json.Json;
import brig.rootfs.Overlay;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Containers of one image on copy-on-write rootfses (issue 12): bundles from
 * {@link ContainerBundles}, run with `brig run` as a user or engine would.
 */
@ExtendWith(NoLeaks.class)
class ContainerRootfsIT {
    @TempDir Path tmp;
    Layout store;
    Image image;
    final List<String> ids = new ArrayList<>();

    @BeforeEach
    void image() throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "overlay mounts need root");
        store = Layout.openOrCreate(tmp.resolve("store"));
        image = CowImages.image(store, "localhost/cow:latest", List.of(CowImages.busyboxLayer(tmp), CowImages.deletingLayer()), List.of("sh"));
    }

    /** Runs {@code script} in the bundle with `brig run` (a fresh container id each time). */
    Brig.Result run(Path bundle, String script, Map<String, String> env, String... extra) throws Exception {
        JsonObject spec = Json.parseObjectFile(bundle.resolve("config.json"));
        spec.getAsJsonObject("process").addProperty("terminal", false);
        JsonArray args = new JsonArray();
        for (String s : List.of("sh", "-c", script)) args.add(s);
        spec.getAsJsonObject("process").add("args", args);
        Files.writeString(bundle.resolve("config.json"), Json.pretty(spec));
        String id = NoLeaks.PREFIX + "cow" + ids.size();
        ids.add(id);
        Path state = tmp.resolve("state");
        List<String> cmd = new ArrayList<>(List.of("--root", state.toString(), "run"));
        cmd.addAll(List.of(extra));
        cmd.addAll(List.of("--bundle", bundle.toString(), id));
        try {
            return Brig.run(tmp, cmd, null, env, 60);
        } finally {
            NoLeaks.removeContainer(id, state.resolve(id));
        }
    }

    static boolean mountedOnHost(Path p) throws Exception {
        return Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + p + " ");
    }

    @Test
    void twoContainersOfOneImageEachKeepTheirOwnWrites() throws Exception {
        ContainerBundles.Prepared one = ContainerBundles.prepare(store, image, "one");
        ContainerBundles.Prepared two = ContainerBundles.prepare(store, image, "two");
        assertEquals(one.layers(), two.layers(), "both on the same layer directories");
        assertFalse(one.tmpfsUpper(), "the test's store is on a disk, not on overlayfs");

        String first = run(one.bundle(), "cat /etc/top; test -e /etc/base-file || echo base-file gone; ls /opt/keep;"
                + " echo one > /etc/written; rm /bin/vi; echo changed > /etc/top; grep -c . /proc/self/mountinfo >/dev/null; echo ok", Map.of())
                .expect(0).out();
        assertEquals("top\nbase-file gone\nc\nok\n", first, "the image's layers merged: whiteout and opaque directory applied");

        // The other container sees the image as it is, not the first one's writes.
        String second = run(two.bundle(), "cat /etc/written 2>&1 || true; cat /etc/top; test -e /bin/vi && echo vi there; echo two > /etc/written",
                Map.of()).expect(0).out();
        assertEquals("cat: can't open '/etc/written': No such file or directory\ntop\nvi there\n", second);

        // Each writable layer holds its own writes; the image's layers are untouched.
        assertEquals("one\n", Files.readString(one.upper().resolve("etc/written")));
        assertEquals("two\n", Files.readString(two.upper().resolve("etc/written")));
        Path base = one.layers().get(0), top = one.layers().get(1);
        assertTrue(Files.exists(base.resolve("bin/vi"), LinkOption.NOFOLLOW_LINKS), "deleting in a container leaves the layer alone");
        assertEquals("from the base layer\n", Files.readString(base.resolve("etc/base-file")), "still in the lower layer's directory");
        assertEquals("top\n", Files.readString(top.resolve("etc/top")));
        assertFalse(Files.exists(top.resolve("etc/written")));

        // The writes persist across runs of the same bundle; nothing was ever mounted on the host.
        assertEquals("one\nchanged\n", run(one.bundle(), "cat /etc/written /etc/top", Map.of()).expect(0).out());
        assertFalse(mountedOnHost(one.bundle().resolve("rootfs")), "the overlay lived in the container's mount namespace");
        assertEquals(List.of(), Files.list(one.bundle().resolve("rootfs")).toList(), "the mount point stays empty on the host");

        // Removing a container removes its writable layer completely; the layers stay for others.
        ContainerBundles.remove(store, "one");
        assertFalse(Files.exists(one.bundle(), LinkOption.NOFOLLOW_LINKS));
        assertEquals("two\n", run(two.bundle(), "cat /etc/written", Map.of()).expect(0).out());
        ContainerBundles.remove(store, "two");
        assertEquals(List.of(), Files.list(ContainerBundles.root(store)).toList(), "nothing left of either container");
        assertTrue(Files.isDirectory(base.resolve("bin")));
        ImageException gone = assertThrows(ImageException.class, () -> ContainerBundles.remove(store, "two"));
        assertTrue(gone.getMessage().contains("no such bundle"), gone.getMessage());
    }

    @Test
    void theMountApiIsUsedAndTheOptionStringIsTheFallback() throws Exception {
        ContainerBundles.Prepared c = ContainerBundles.prepare(store, image, "plan");
        String plan = Brig.run(tmp, "run", "--explain", "--bundle", c.bundle().toString(), NoLeaks.PREFIX + "explain").expect(0).out();
        assertTrue(plan.contains("mount overlay on " + c.bundle().resolve("rootfs") + ": 2 image layers"), plan);
        assertTrue(plan.contains("with fsopen/fsconfig lowerdir+/fsmount/move_mount"), plan);
        assertTrue(plan.indexOf("mount overlay on") < plan.indexOf("recursively bind-mount " + c.bundle().resolve("rootfs")), plan);

        // As on a kernel before 6.8: one lowerdir option through mount(2), and it still runs.
        // A JVM property: only a JVM of the call's own sees it (the resident server's is its own).
        Map<String, String> legacy = Map.of("JAVA_TOOL_OPTIONS", "-D" + Overlay.LOWERDIR_PLUS_PROPERTY + "=false", "BRIG_SERVER", "off");
        String old = Brig.run(tmp, List.of("run", "--explain", "--bundle", c.bundle().toString(), NoLeaks.PREFIX + "explain"), null, legacy, 60)
                .expect(0).out();
        assertTrue(old.contains("with mount(2) and one lowerdir option"), old);
        assertEquals("top\nb\n", run(c.bundle(), "cat /etc/top; echo b > /b; cat /b", legacy).expect(0).out());

        // Too many layers for the option string: a clear error, nothing runs.
        JsonObject spec = Json.parseObjectFile(c.bundle().resolve("config.json"));
        JsonObject ann = spec.getAsJsonObject("annotations");
        String top = c.layers().get(1).toString();
        List<String> many = new ArrayList<>();
        for (int k = 0; k < 60; k++) many.add(top);
        ann.addProperty(Overlay.LOWERDIRS, String.join(":", many));
        Files.writeString(c.bundle().resolve("config.json"), Json.pretty(spec));
        Brig.Result r = Brig.run(tmp, List.of("--root", tmp.resolve("state").toString(), "run", "--bundle", c.bundle().toString(),
                NoLeaks.PREFIX + "many"), null, legacy, 60);
        assertEquals(1, r.exit(), r.err());
        assertTrue(r.err().contains("annotations." + Overlay.LOWERDIRS + ": 60 layers do not fit in overlay's mount options"), r.err());
        assertTrue(r.err().contains("about 40 layers"), r.err());
        ContainerBundles.remove(store, "plan");
    }

    @Test
    void aNameIsTakenOnceAndBadNamesAreRefused() throws Exception {
        ContainerBundles.prepare(store, image, "same");
        ImageException taken = assertThrows(ImageException.class, () -> ContainerBundles.prepare(store, image, "same"));
        assertTrue(taken.getMessage().contains("already exists"), taken.getMessage());
        ImageException bad = assertThrows(ImageException.class, () -> ContainerBundles.prepare(store, image, "../x"));
        assertTrue(bad.getMessage().startsWith("container name \"../x\""), bad.getMessage());
        ContainerBundles.remove(store, "same");

        // remove deletes only a container bundle, never another tree it is pointed at.
        Path other = Files.createDirectories(tmp.resolve("not-a-bundle/data"));
        Files.writeString(other.resolve("keep"), "x");
        ImageException refused = assertThrows(ImageException.class, () -> ContainerBundles.remove(other.getParent()));
        assertTrue(refused.getMessage().endsWith("is not a container bundle (no config.json and rootfs/): not removed"), refused.getMessage());
        assertTrue(Files.exists(other.resolve("keep")));
    }
}
