package brig.helper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import brig.syscalls.Libc;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The order of the helper's messages, played on a socket pair; no root needed. */
class HelperFramesTest {
    private static byte[] frame(int type, int... ints) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 * ints.length).order(ByteOrder.nativeOrder());
        b.putInt(type).putInt(4 * ints.length);
        for (int v : ints) b.putInt(v);
        return b.array();
    }

    @Test
    void aTerminalSentBeforeThePidIsKeptForNext() throws Exception {
        // The new process does its mounts before its wait and reaches its terminal; on a busy
        // machine it did so once before the helper had sent the pid.
        int[] pair = Libc.socketpair();
        int[] pipe = Libc.pipe();
        try {
            // pid 1 is not this process's child: the helper's reaping finds nothing to reap.
            Helper h = Helper.start((first, keep) -> new Helper.Launcher.Spawned(pair[0], 1),
                    new Plan(List.of(new Step.Await("test"))), 0, null);
            Libc.sendFd(pair[1], frame(5), pipe[0]); // FR_PTY, with an fd
            Libc.writeFully(pair[1], frame(2, 4242, 1)); // FR_PID: the pid, born in its cgroup
            assertEquals(4242, h.awaitPid());
            Helper.Event e = h.next();
            Helper.Event.Terminal t = assertInstanceOf(Helper.Event.Terminal.class, e);
            assertTrue(t.masterFd() >= 0);
            Libc.close(t.masterFd());
            h.close();
            Libc.close(pair[1]);
        } finally {
            Libc.close(pipe[0]);
            Libc.close(pipe[1]);
        }
    }
}
