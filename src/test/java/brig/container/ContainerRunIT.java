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
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * `brig container run` as a person uses it (issue 12): an image of the store on a copy-on-write
 * rootfs, docker's flags, merges, defaults and exit codes, limits seen in the container's
 * cgroup files, the OOM report, a fork bomb held, and what --rm and rm leave (nothing).
 */
@ExtendWith(NoLeaks.class)
class ContainerRunIT extends ContainerITBase {
    @BeforeEach
    void appImage() throws Exception {
        image("app", """
                {"Entrypoint":["/bin/sh","-c"],"Cmd":["echo from the image Cmd"],"Env":["PATH=/bin:/usr/bin","GREETING=image","KEEP=image"],
                 "WorkingDir":"/srv/app","User":"app"}""");
    }

    Brig.Result run(String what, String... flagsImageCmd) {
        List<String> a = new ArrayList<>(List.of("run", "--rm", "--pull=never", "--name", name(what)));
        a.addAll(List.of(flagsImageCmd));
        return container(a.toArray(String[]::new));
    }

    @Test
    void exitCodesAreDockers() {
        assertEquals(0, run("ok", "plain", "true").exit());
        assertEquals(3, run("own", "plain", "sh", "-c", "exit 3").exit(), "the container's own status");
        assertEquals(137, run("killed", "plain", "sh", "-c", "sleep 100 & kill -9 $!; wait $!").exit(), "128 + the signal, as a shell gives it");
        Brig.Result missing = run("missing", "plain", "no-such-command");
        assertEquals(127, missing.exit(), missing.err());
        assertTrue(missing.err().contains("no-such-command"), missing.err());
        Brig.Result notExec = run("notexec", "plain", "/etc/passwd");
        assertEquals(126, notExec.exit(), notExec.err());
        Brig.Result badFlag = run("badflag", "--no-such-flag", "plain", "true");
        assertEquals(125, badFlag.exit(), badFlag.err());
        assertEquals("brig: flag provided but not defined: -no-such-flag\n", badFlag.err());
        Brig.Result noImage = run("noimage", "localhost/absent", "true");
        assertEquals(125, noImage.exit(), noImage.err());
        assertTrue(noImage.err().contains("localhost/absent"), noImage.err());
        Brig.Result badSize = run("badsize", "-m", "lots", "plain", "true");
        assertEquals(125, badSize.exit());
        assertEquals("brig: invalid size \"lots\" for --memory: use a number with an optional unit b, k, m or g (100M)\n", badSize.err());
    }

    @Test
    void imageConfigMergedAsDockerDoes() throws Exception {
        Brig.Result r = run("image", "app");
        assertEquals(0, r.exit(), r.err());
        assertEquals("from the image Cmd\n", r.out(), "Entrypoint + Cmd");

        String show = "echo $GREETING $KEEP $FROMCALLER $FROMFILE; pwd; id; hostname; echo $HOSTNAME $HOME";
        Files.writeString(tmp.resolve("env.list"), "# a comment\nFROMFILE=file\nGREETING=file\n");
        r = container(Map.of("FROMCALLER", "caller"), "run", "--rm", "--pull=never", "--name", name("merge"), "--env-file", "env.list",
                "-e", "GREETING=flag", "-e", "FROMCALLER", "app", show);
        assertEquals(0, r.exit(), r.err());
        assertEquals("flag image caller file\n/srv/app\nuid=1000(app) gid=1000(app) groups=50(staff)\n"
                + NoLeaks.PREFIX + "merge\n" + NoLeaks.PREFIX + "merge /home/app\n", r.out());

        r = run("flags", "-w", "/tmp", "-u", "nobody", "--hostname", "box", "app", "pwd; id -u; hostname; echo $HOME");
        assertEquals("/tmp\n65534\nbox\n/nonexistent\n", r.out(), r.err());

        r = run("entry", "--entrypoint", "/bin/echo", "app", "given", "args");
        assertEquals("given args\n", r.out(), "--entrypoint drops the image's Cmd; the given CMD follows it");
        r = run("entryonly", "--entrypoint", "/bin/echo", "app");
        assertEquals("\n", r.out(), "--entrypoint alone: the image's Cmd is dropped, as docker does");
        r = run("uidgid", "-u", "1234:50", "plain", "id");
        assertEquals("uid=1234 gid=50(staff)\n", r.out(), r.err());
    }

    @Test
    void dockersDefaults() {
        Brig.Result r = run("defaults", "plain", "sh", "-c",
                "grep -E '^(CapEff|Seccomp|NoNewPrivs):' /proc/self/status; ulimit -n; ls /sys/class/net; wc -c < /proc/keys;"
                        + " (echo x > /proc/sys/kernel/hostname) 2>&1 | sed 's/.*: //'; unshare -n true 2>&1 | sed 's/.*: //'");
        assertEquals(0, r.exit(), r.err());
        List<String> l = r.out().lines().toList();
        assertEquals("CapEff:\t00000000a80425fb", l.get(0), "docker's 14 capabilities");
        assertEquals("NoNewPrivs:\t0", l.get(1));
        assertEquals("Seccomp:\t2", l.get(2), "the default seccomp policy is on");
        assertTrue(Long.parseLong(l.get(3)) > 1024 && Long.parseLong(l.get(3)) <= 1048576, "nofile raised as far as the host allows: " + l.get(3));
        assertEquals("lo", l.get(4), "--network none: loopback only");
        assertEquals("0", l.get(5).trim(), "/proc/keys is masked");
        assertEquals("Read-only file system", l.get(6));
        assertEquals("Operation not permitted", l.get(7), "unshare of a namespace is refused (no CAP_SYS_ADMIN, clone/unshare filtered)");

        r = run("unconfined", "--security-opt", "seccomp=unconfined", "--cap-drop", "ALL", "--cap-add", "NET_ADMIN", "--network", "host",
                "plain", "sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status; test -e /sys/class/net/lo && ls /sys/class/net | wc -l");
        List<String> u = r.out().lines().toList();
        assertEquals("CapEff:\t0000000000001000", u.get(0), r.err());
        assertEquals("Seccomp:\t0", u.get(1));
        assertTrue(Integer.parseInt(u.get(2).trim()) > 1, "--network host sees the host's interfaces");

        r = run("readonly", "--read-only", "plain", "sh", "-c", "touch /x 2>&1 | sed 's/.*: //'");
        assertEquals("Read-only file system\n", r.out());
    }

    /**
     * The host's cgroup version: v2 when /sys/fs/cgroup is the unified hierarchy itself. The
     * limits are read in the files of that version (these hosts are v1 hybrids; ContainerV2GuestIT
     * runs the cgroup tests of this class in the v2 guest).
     */
    static final boolean V2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));

    /** Where the container sees its pids controller's files. */
    static final String PIDS = V2 ? "/sys/fs/cgroup/" : "/sys/fs/cgroup/pids/";

    @Test
    void limitsAreInTheContainersCgroup() {
        List<String> flags = new ArrayList<>(List.of("limits", "-m", "64m", "--memory-swap", "96m", "--cpus", "1.5", "--cpu-shares", "512",
                "--cpuset-cpus", "0", "--pids-limit", "20"));
        // v2 has no swappiness (Brig refuses it there, with one line).
        if (!V2) flags.addAll(List.of("--memory-swappiness", "0"));
        flags.addAll(List.of("plain", "sh", "-c", "cd /sys/fs/cgroup; cat " + (V2
                ? "memory.max memory.swap.max cpu.max cpu.weight cpuset.cpus pids.max"
                : "memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes memory/memory.swappiness"
                        + " cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpu/cpu.shares cpuset/cpuset.cpus pids/pids.max")));
        Brig.Result r = run(flags.get(0), flags.subList(1, flags.size()).toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        assertEquals(V2
                // memory.swap.max is the swap alone (96m - 64m); shares 512 -> weight 1 + (512 - 2) * 9999 / 262142
                ? List.of(String.valueOf(64 << 20), String.valueOf(32 << 20), "150000 100000", "20", "0", "20")
                : List.of(String.valueOf(64 << 20), String.valueOf(96 << 20), "0", "150000", "100000", "512", "0", "20"), r.out().lines().toList());
    }

    @Test
    void memoryEaterEndsWith137AndTheOomReport() {
        // No swap: v1's swappiness 0, v2's swap limit equal to the memory limit (no swappiness there).
        Brig.Result r = run("oom", "-m", "100M", V2 ? "--memory-swap" : "--memory-swappiness", V2 ? "100M" : "0", "plain", "sh", "-c",
                "x=a; while true; do x=$x$x; done");
        assertEquals(137, r.exit(), r.err());
        assertTrue(r.err().contains("out of memory: the OOM killer killed a process (memory limit 100 MiB)"), r.err());
        // A kill -9 is 137 too, without the report: it comes only from the cgroup's oom_kill count.
        Brig.Result k = run("notoom", "-m", "100M", "plain", "sh", "-c", "sleep 100 & kill -9 $!; wait $!");
        assertEquals(137, k.exit());
        assertFalse(k.err().contains("out of memory"), k.err());
    }

    @Test
    void forkBombIsHeld() {
        Brig.Result r = run("bomb", "--pids-limit", "10", "plain", "sh", "-c",
                // After the bomb this shell forks nothing (ash exits when a fork fails: in the slower
                // v2 guest the bomb still held every slot a second later, and the shell died
                // printing nothing): its sleep is started first, the bomb in one fork, the rest
                // builtins.
                "b() { b | b & }; sleep 1 & s=$!; (b) 2>/dev/null & wait $s; read m < " + PIDS + "pids.max; echo max $m;"
                        + " read n < " + PIDS + "pids.current; test $n -le 10 && echo held");
        assertEquals("max 10\nheld\n", r.out(), r.err());
    }

    @Test
    void rmLeavesNothingAndNamedContainersPersistUntilRm() throws Exception {
        String gone = NoLeaks.PREFIX + "gone";
        names.add(gone);
        assertEquals(0, container("run", "--rm", "--pull=never", "--name", gone, "plain", "sh", "-c", "echo x > /written").exit());
        assertFalse(Files.exists(store.resolve("containers").resolve(gone)), "--rm: no bundle, no writable layer");
        assertFalse(Files.exists(state.resolve(gone)), "--rm: no state");
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(gone), "nothing mounted");
        for (Path h : NoLeaks.cgroupHierarchies()) assertFalse(Files.exists(h.resolve("brig").resolve(gone)), "no cgroup in " + h);

        String kept = name("kept");
        Brig.Result r = container("run", "--pull=never", "--name", kept, "plain", "sh", "-c", "echo kept > /written; exit 4");
        assertEquals(4, r.exit(), r.err());
        assertEquals("kept\n", Files.readString(store.resolve("containers").resolve(kept).resolve("upper/written")), "the writable layer stays");
        assertFalse(Files.exists(state.resolve(kept)), "stopped: no runtime state");
        assertTrue(container("ps").out().lines().noneMatch(line -> line.startsWith(kept + " ")), "ps: running ones only");
        assertTrue(container("ps", "-a").out().lines().anyMatch(line -> line.startsWith(kept + " ") && line.endsWith("exited")), container("ps", "-a").out());
        Brig.Result again = container("run", "--pull=never", "--name", kept, "plain", "true");
        assertEquals(125, again.exit());
        assertTrue(again.err().contains("already in use"), again.err());

        r = container("start", kept);
        assertEquals(4, r.exit(), "start runs it again, attached, on its own writable layer");

        assertEquals(kept + "\n", container("rm", kept).expect(0).out());
        assertFalse(Files.exists(store.resolve("containers").resolve(kept)));
        assertEquals(125, container("rm", kept).exit(), "gone");
        try (Stream<Path> s = Files.list(store.resolve("containers"))) {
            assertEquals(List.of(), s.toList());
        }
    }

    @Test
    void stopTermThenKill() throws Exception {
        String n = name("stop");
        // Not Brig.run: its output drains would hold the common pool's one thread (2 cores) for as long as the container runs.
        Process runner = new ProcessBuilder(Brig.launcher().toString(), "--root", state.toString(), "container", "run", "--store", store.toString(),
                "--pull=never", "--name", n, "plain", "sh", "-c", "trap '' TERM; echo up > /up; while true; do sleep 1; done")
                .redirectOutput(tmp.resolve("run.out").toFile()).redirectError(tmp.resolve("run.err").toFile()).start();
        Path up = store.resolve("containers").resolve(n).resolve("upper/up");
        for (int k = 0; k < 300 && !Files.exists(up); k++) Thread.sleep(50);
        assertTrue(Files.exists(up), "the container started");
        assertTrue(container("ps").out().contains(n), "running");
        Brig.Result rmRunning = container("rm", n);
        assertEquals(125, rmRunning.exit());
        assertTrue(rmRunning.err().contains("running"), rmRunning.err());
        long t0 = System.nanoTime();
        assertEquals(n + "\n", container("stop", "-t", "1", n).expect(0).out());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 1000, "SIGTERM is ignored: SIGKILL after -t 1 (" + ms + " ms)");
        assertTrue(runner.waitFor(30, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(137, runner.exitValue(), "killed by the SIGKILL after the ignored SIGTERM");
        assertFalse(container("ps").out().contains(n));
        container("rm", n).expect(0);
    }

    /** `container top --tree` and `container inspect` on a container `container run` keeps running. */
    @Test
    void topAndInspectSeeTheRunningContainer() throws Exception {
        String n = name("seen");
        // Its own thread: Brig.run drains output on the common pool, which a blocked task of
        // it would starve (on 2 cores it has one worker; top then waited for the run's end).
        java.util.concurrent.CompletableFuture<Brig.Result> r = java.util.concurrent.CompletableFuture.supplyAsync(() ->
                container("run", "--rm", "--pull=never", "--name", n, "-m", "64M", "plain", "sh", "-c", "sleep 6 & sleep 7; wait"),
                task -> Thread.ofPlatform().daemon().start(task));
        Brig.Result top = null;
        for (int k = 0; k < 200 && (top == null || !top.out().contains("sleep 7")); k++) {
            Thread.sleep(50);
            top = container("top", "--tree", n);
        }
        assertTrue(top.out().contains("sleep 6") && top.out().contains("sleep 7"), top.out() + top.err());
        com.google.gson.JsonObject o = brig.json.Json.parseQuietly(container("inspect", n).expect(0).out()).getAsJsonObject();
        assertEquals(67108864L, o.getAsJsonObject("limits").get("memory").getAsLong(), o.toString());
        assertEquals("overlay", o.getAsJsonObject("rootfs").get("kind").getAsString(), o.toString());
        assertFalse(o.getAsJsonObject("rootfs").getAsJsonArray("layers").isEmpty(), o.toString());
        assertEquals(0, r.get(60, java.util.concurrent.TimeUnit.SECONDS).exit());
    }
}
