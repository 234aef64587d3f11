package brig.container;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.image.Layout;
import brig.syscalls.Libc;
import brig.testing.Brig;
import brig.testing.NoLeaks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * `brig container exec` and `brig container stats` on a container `container run` keeps
 * running: exec's environment, directory, user, output and docker's exit codes; stats' row
 * with the memory limit given by -m.
 */
@ExtendWith(NoLeaks.class)
class ContainerExecIT {
    @TempDir Path tmp;
    Path store, state;
    String name;
    Process runner;

    @BeforeEach
    void runningContainer() throws Exception {
        Assumptions.assumeTrue(Libc.geteuid() == 0, "containers need root");
        store = tmp.resolve("store");
        state = tmp.resolve("state");
        ContainerImages.busybox(tmp, Layout.openOrCreate(store), "plain", ContainerImages.config("{\"Cmd\":[\"sh\"],\"Env\":[\"PATH=/bin\",\"FROMIMAGE=image\"]}"));
        name = NoLeaks.PREFIX + "exec";
        // Not Brig.run: its output drains would hold the common pool's one thread for as long as the container runs.
        runner = new ProcessBuilder(Brig.launcher().toString(), "--root", state.toString(), "container", "run", "--store", store.toString(),
                "--pull=never", "--name", name, "-m", "64m", "-e", "FROMRUN=run", "plain", "sh", "-c",
                "echo up > /up; while true; do sleep 1; done")
                .redirectOutput(tmp.resolve("run.out").toFile()).redirectError(tmp.resolve("run.err").toFile()).start();
        Path up = store.resolve("containers").resolve(name).resolve("upper/up");
        for (int k = 0; k < 300 && !Files.exists(up); k++) Thread.sleep(50);
        assertTrue(Files.exists(up), "the container started: " + Files.readString(tmp.resolve("run.err")));
    }

    @AfterEach
    void stop() throws Exception {
        if (runner == null) return;
        container("rm", "-f", name);
        runner.waitFor(30, TimeUnit.SECONDS);
        runner.destroyForcibly();
        NoLeaks.removeContainer(name, state.resolve(name));
    }

    Brig.Result container(String... args) {
        return container(Map.of(), args);
    }

    Brig.Result container(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("--root", state.toString(), "container", args[0]));
        if (!args[0].equals("exec")) cmd.addAll(List.of("--store", store.toString()));
        cmd.addAll(List.of(args).subList(1, args.length));
        return Brig.run(tmp, cmd, null, env, 60);
    }

    @Test
    void execRunsInTheContainerAsDockersDoes() {
        Brig.Result r = container(Map.of("FROMCALLER", "caller"), "exec", "-e", "X=flag", "-e", "FROMCALLER", "-w", "/tmp", name,
                "sh", "-c", "echo $FROMIMAGE $FROMRUN $X $FROMCALLER; pwd; cat /up; hostname");
        assertEquals(0, r.exit(), r.err());
        assertEquals("image run flag caller\n/tmp\nup\n" + name + "\n", r.out(), "the container's env and files, -e, -e K from the caller, -w");

        r = container("exec", "-u", "app", name, "id");
        assertEquals("uid=1000(app) gid=1000(app) groups=50(staff)\n", r.out(), "-u by name, from the container's /etc/passwd and /etc/group: " + r.err());
        r = container("exec", "-u", "nobody:50", name, "id");
        assertEquals("uid=65534(nobody) gid=50(staff)\n", r.out(), r.err());
        r = container("exec", "-u", "ghost", name, "id");
        assertEquals(125, r.exit());
        assertEquals("brig: -u ghost: no user \"ghost\" in the container's /etc/passwd\n", r.err());

        // The processes exec starts are the container's: its pid namespace.
        r = container("exec", name, "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline");
        assertEquals("sh -c echo up > /up; while true; do sleep 1; done ", r.out(), "PID 1 is the container's: " + r.err());
    }

    @Test
    void execExitCodesAreDockers() {
        assertEquals(3, container("exec", name, "sh", "-c", "exit 3").exit(), "the command's own status");
        Brig.Result missing = container("exec", name, "no-such-command");
        assertEquals(127, missing.exit(), missing.err());
        assertTrue(missing.err().contains("no-such-command"), missing.err());
        Brig.Result notExec = container("exec", name, "/etc/passwd");
        assertEquals(126, notExec.exit(), notExec.err());
        Brig.Result noContainer = container("exec", NoLeaks.PREFIX + "absent", "true");
        assertEquals(125, noContainer.exit(), noContainer.err());
        assertTrue(noContainer.err().contains(NoLeaks.PREFIX + "absent"), noContainer.err());
        assertEquals(125, container("exec", "-w", "tmp", name, "true").exit(), "a relative -w");
    }

    @Test
    void execTGivesATerminal() {
        // script(1) gives brig a terminal as a person's shell would; -t passes one on to the command.
        String brig = Brig.launcher() + " --root " + state + " container exec";
        Brig.Result r = Brig.exec(tmp, List.of("/usr/bin/script", "-qec", brig + " -i -t " + name + " sh -c 'tty; exit 6'", "/dev/null"), null, Map.of(), 60);
        assertEquals(6, r.exit(), r.out() + r.err());
        // script(1) meets the end of its stdin and its terminal echoes that as "^@", before or
        // after the program's output (seen both ways, warm and cold): not the program's.
        assertTrue(r.out().replace("^@", "").startsWith("/dev/pts/"), "a terminal of the container's devpts: " + r.out());
        r = Brig.exec(tmp, List.of("/usr/bin/script", "-qec", brig + " " + name + " tty", "/dev/null"), null, Map.of(), 60);
        assertTrue(r.out().contains("not a tty"), "without -t none: " + r.out());
    }

    @Test
    void statsShowsUsageAgainstTheLimit() {
        Brig.Result r = container("stats", "--no-stream", name);
        assertEquals(0, r.exit(), r.err());
        List<String> l = r.out().lines().toList();
        assertEquals(2, l.size(), r.out());
        assertTrue(l.get(0).matches("NAME +CPU % +MEM USAGE / LIMIT +MEM % +BLOCK I/O +PIDS"), l.get(0));
        String[] f = l.get(1).trim().split("\\s+");
        // NAME CPU% USAGE / LIMIT MEM% READ / WRITE PIDS
        assertEquals(name, f[0]);
        assertTrue(f[1].matches("\\d+\\.\\d\\d%"), f[1]);
        assertTrue(f[2].matches("[0-9.]+(B|KiB|MiB)"), "memory in use: " + f[2]);
        assertEquals("/", f[3]);
        assertEquals("64MiB", f[4], "the limit given with -m 64m");
        assertTrue(f[5].matches("\\d+\\.\\d\\d%") && Double.parseDouble(f[5].replace("%", "")) < 100, f[5]);
        int pids = Integer.parseInt(f[f.length - 1]);
        assertTrue(pids >= 1 && pids <= 3, "the shell and its sleep: " + l.get(1));

        Brig.Result all = container("stats", "--no-stream");
        assertTrue(all.out().lines().anyMatch(line -> line.startsWith(name + " ")), "without names: every running container of the store: " + all.out());
        assertEquals(125, container("stats", "--no-stream", NoLeaks.PREFIX + "absent").exit());
    }
}
