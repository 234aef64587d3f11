package brig.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import brig.testing.Lifecycle;
import brig.testing.NoLeaks;
import brig.testing.TestBundle;
import brig.testing.Brig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * `exec --detach` as conmon uses it: the caller is a child subreaper, runs `brig exec -d
 * --pid-file F`, and then collects the status of the pid in F itself. A process that is quicker
 * than brig's own exit must still reach the caller, never be reaped on the way.
 */
@ExtendWith(NoLeaks.class)
class ExecDetachIT {
    /** A subreaper like conmon: runs brig, then waits for the pid brig wrote. */
    private static final String CONMON = """
            import ctypes, os, subprocess, sys
            ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
            pidfile, argv = sys.argv[1], sys.argv[2:]
            rc = subprocess.run(argv).returncode
            if rc != 0:
                print("brig exit", rc); sys.exit(0)
            pid = int(open(pidfile).read())
            try:
                while True:
                    w, st = os.waitpid(-1, 0)
                    if w == pid:
                        print("status", os.waitstatus_to_exitcode(st)); break
            except ChildProcessError:
                print("lost: reaped by someone else")
            """;

    @TempDir Path dir;
    private Lifecycle brig;
    private final List<String> ids = new ArrayList<>();

    @BeforeEach
    void setUp() {
        brig = new Lifecycle(dir.resolve("state"), dir);
    }

    @AfterEach
    void removeContainers() {
        for (String id : ids) brig.brig(null, "delete", "--force", id);
    }

    @Test
    void aQuickProcessesStatusReachesTheCallersSubreaper() throws Exception {
        TestBundle b = TestBundle.busybox(dir.resolve("b")).args("sleep", "1000");
        b.write();
        ids.add(b.id());
        brig.brig(b.dir(), "create", "--bundle", b.dir().toString(), b.id()).expect(0);
        brig.brig(b.dir(), "start", b.id()).expect(0);
        for (int code : List.of(7, 0, 3)) {
            Path pidFile = dir.resolve("exec-" + code + ".pid");
            Files.deleteIfExists(pidFile);
            Brig.Result r = brig.exec(b.dir(), Map.of(), List.of("python3", "-c", CONMON, pidFile.toString(),
                    Brig.launcher().toString(), "--root", brig.root().toString(), "exec", "--detach", "--pid-file",
                    pidFile.toString(), b.id(), "sh", "-c", "exit " + code));
            assertEquals("status " + code + "\n", r.out(), r.err());
        }
    }
}
