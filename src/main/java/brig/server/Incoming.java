package brig.server;

import brig.syscalls.Libc;
import brig.syscalls.SyscallException;
import java.io.EOFException;

/**
 * The frames a supervised call's client sends, in order: IN (stdin asked for), SPAWNED (a
 * helper started), TEARDOWN. A helper started ahead ({@link CallerLink#prespawn}) answers
 * SPAWNED while the command may be reading the caller's stdin: that answer is kept here for
 * the launcher, and whoever waits for something else gets the next frame after it.
 * One thread (the call's) reads.
 */
final class Incoming {
    private final int conn;
    private Protocol.Frame spawned;

    Incoming(int conn) {
        this.conn = conn;
    }

    /** The next frame that is not a SPAWNED. */
    Protocol.Frame next() throws SyscallException, EOFException {
        for (;;) {
            Protocol.Frame f = Protocol.read(conn);
            if (f.type() != Protocol.SPAWNED || spawned != null) return f;
            spawned = f;
        }
    }

    /** The next SPAWNED: the one kept, or read now (any other frame before it is a protocol error: returned). */
    Protocol.Frame spawned() throws SyscallException, EOFException {
        Protocol.Frame f = spawned != null ? spawned : Protocol.read(conn);
        spawned = null;
        return f;
    }

    /** Drops a kept SPAWNED (its helper, with no plan coming, exits when the fd closes). */
    void drop() {
        if (spawned != null) Libc.close(spawned.fd());
        spawned = null;
    }
}
