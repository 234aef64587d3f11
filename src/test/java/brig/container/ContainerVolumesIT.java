package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `brig container run -v`, `--tmpfs` and `--init` as a person checks them: a file written
 * through -v is on the host, :ro refuses writes, a missing source is made, a relative one is
 * refused; a tmpfs with docker's options and the user's; tini as PID 1 with the program its
 * child, signals passed on, the exit status passed through.
 */
@ExtendWith(NoLeaks.class)
class ContainerVolumesIT extends ContainerITBase {
    /** `container run --rm --name N --pull=never FLAGS...`: the flags end with the image and its command. */
    Brig.Result run(String what, String... flagsImageCmd) {
        List<String> a = new ArrayList<>(List.of("run", "--rm", "--pull=never", "--name", name(what)));
        a.addAll(List.of(flagsImageCmd));
        return container(a.toArray(String[]::new));
    }

    @Test
    void bindMountsShareHostDirectories() throws Exception {
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(shared.resolve("from-host"), "host\n");
        Brig.Result r = run("rw", "-v", shared + ":/data", "plain", "sh", "-c", "cat /data/from-host; echo container > /data/from-container");
        assertEquals(0, r.exit(), r.err());
        assertEquals("host\n", r.out(), "the host's file is seen inside");
        assertEquals("container\n", Files.readString(shared.resolve("from-container")), "the file written through -v is on the host");

        r = run("ro", "-v", shared + ":/data:ro", "plain", "sh", "-c", "cat /data/from-host; touch /data/new 2>&1 | sed 's/.*: //'");
        assertEquals("host\nRead-only file system\n", r.out(), r.err());
        assertFalse(Files.exists(shared.resolve("new")), ":ro refuses writes");

        // A file source is bound as a file; nested destinations are mounted parents first whatever the flags' order.
        Path sub = Files.createDirectories(tmp.resolve("sub"));
        r = run("nested", "-v", sub + ":/data/sub", "-v", shared + ":/data", "-v", shared.resolve("from-host") + ":/etc/motd:ro", "plain", "sh", "-c",
                "echo nested > /data/sub/f; cat /etc/motd");
        assertEquals("host\n", r.out(), r.err());
        assertEquals("nested\n", Files.readString(sub.resolve("f")), "/data/sub is on top of /data");

        Path missing = tmp.resolve("made/by/run");
        r = run("missing", "-v", missing + ":/out", "plain", "sh", "-c", "echo made > /out/f");
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isDirectory(missing), "a missing -v source is made as a directory, as docker's -v does");
        assertEquals("made\n", Files.readString(missing.resolve("f")));
    }

    @Test
    void badVolumesAreRefusedInOneLine() {
        Brig.Result r = run("named", "-v", "data:/data", "plain", "true");
        assertEquals(125, r.exit(), r.err());
        assertEquals("brig: -v data:/data: \"data\" is not an absolute path, and named volumes are not supported yet: give an absolute host path\n", r.err());
        assertFalse(Files.exists(tmp.resolve("data")), "nothing made for a relative source");
        r = run("reldst", "-v", tmp + ":data", "plain", "true");
        assertEquals(125, r.exit());
        assertEquals("brig: -v " + tmp + ":data: the destination \"data\" must be an absolute path\n", r.err());
        r = run("badtmpfs", "--tmpfs", "/x:bogus", "plain", "true");
        assertEquals(125, r.exit());
        assertTrue(r.err().startsWith("brig: --tmpfs /x:bogus: unknown option \"bogus\""), r.err());
        assertFalse(Files.exists(store.resolve("containers").resolve(NoLeaks.PREFIX + "named")), "no bundle left behind");
    }

    @Test
    void tmpfsHasDockersOptionsAndTheUsers() {
        Brig.Result r = run("tmpfs", "--tmpfs", "/scratch", "--tmpfs", "/big:size=8m,exec,mode=1777", "plain", "sh", "-c",
                "grep -E ' /(scratch|big) ' /proc/mounts; cp /bin/busybox /big/echo && /big/echo ran from /big;"
                        + " cp /bin/busybox /scratch/true && /scratch/true 2>&1 | sed 's/.*: //'; stat -c %a /big");
        assertEquals(0, r.exit(), r.err());
        List<String> l = r.out().lines().toList();
        assertTrue(l.get(0).matches("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,\\S+ 0 0"), "docker's noexec,nosuid,nodev: " + l.get(0));
        assertTrue(l.get(1).startsWith("tmpfs /big tmpfs rw,nosuid,nodev,") && l.get(1).contains("size=8192k") && !l.get(1).contains("noexec"),
                "exec undoes the default noexec, size= reaches tmpfs: " + l.get(1));
        assertEquals("ran from /big", l.get(2));
        assertEquals("Permission denied", l.get(3), "noexec on /scratch");
        assertEquals("1777", l.get(4));
    }

    @Test
    void initIsPid1AndPassesSignalsAndStatus() throws Exception {
        Brig.Result r = run("init", "--init", "plain", "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $PPID; test $$ != 1 && echo not-pid-1");
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of("/sbin/docker-init -- sh -c " + "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $PPID; test $$ != 1 && echo not-pid-1 ",
                "1", "not-pid-1"), r.out().lines().toList(), "tini is PID 1 and the program its child");
        assertEquals(5, run("status", "--init", "plain", "sh", "-c", "exit 5").exit(), "the program's status passes through");

        String n = name("signal");
        // Not Brig.run: its output drains would hold the common pool's one thread for as long as the container runs.
        Process runner = new ProcessBuilder(Brig.launcher().toString(), "--root", state.toString(), "container", "run", "--store", store.toString(),
                "--pull=never", "--name", n, "--init", "plain", "sh", "-c",
                "trap 'echo got TERM > /got; exit 7' TERM; echo up > /up; while true; do sleep 0.2; done")
                .redirectOutput(tmp.resolve("run.out").toFile()).redirectError(tmp.resolve("run.err").toFile()).start();
        Path upper = store.resolve("containers").resolve(n).resolve("upper");
        for (int k = 0; k < 300 && !Files.exists(upper.resolve("up")); k++) Thread.sleep(50);
        assertTrue(Files.exists(upper.resolve("up")), "the container started");
        container("kill", "-s", "TERM", n).expect(0);
        assertTrue(runner.waitFor(30, TimeUnit.SECONDS));
        assertEquals(7, runner.exitValue(), "tini passed TERM to the program, whose status is the container's: " + Files.readString(tmp.resolve("run.err")));
        assertEquals("got TERM\n", Files.readString(upper.resolve("got")));
    }
}
