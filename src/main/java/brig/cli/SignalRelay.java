package brig.cli;

import brig.syscalls.Libc;
import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;

/**
 * Signals and JVM shutdown while `brig run` starts a container. Left alone, the JVM exits on
 * SIGTERM, SIGINT or SIGHUP, possibly half-way through the start, orphaning the container and
 * leaving its state and cgroups behind. So from {@link #install} on, those signals are kept
 * for the container (the monitor delivers them once it has taken over); and a shutdown that
 * began before that (a signal that came during JVM start-up) either stops the start before
 * anything is made, or waits for it and has it undone.
 */
final class SignalRelay {
    private static final long WAIT_MS = 10_000;

    private final List<Integer> pending = new ArrayList<>();
    private final int mainThread;
    private boolean handedOver;
    // The start's state, shared with the shutdown hook; guarded by "this".
    private boolean exiting, handingOver, done;

    private SignalRelay(int mainThread) {
        this.mainThread = mainThread;
    }

    /** Call from the thread that will exec the monitor, before anything is made. */
    static SignalRelay install() {
        SignalRelay r = new SignalRelay(Libc.gettid());
        for (String name : List.of("TERM", "INT", "HUP")) {
            Signal.handle(new Signal(name), s -> r.caught(s.getNumber()));
        }
        return r;
    }

    private void caught(int signal) {
        synchronized (pending) {
            if (!handedOver) {
                pending.add(signal);
                return;
            }
        }
        // Too late for the list: raise it again on the exec'ing thread, which blocks it, so
        // that it is still pending when the monitor starts.
        Libc.tgkill(mainThread, signal);
    }

    /** The first signal caught so far, or 0. */
    int first() {
        synchronized (pending) {
            return pending.isEmpty() ? 0 : pending.get(0);
        }
    }

    /**
     * Before the first change to the system: false if the JVM is already shutting down or a
     * signal came, so nothing should be started.
     */
    boolean beginStart() {
        if (first() > 0) return false;
        try {
            java.lang.Runtime.getRuntime().addShutdownHook(new Thread(this::onShutdown, "brig-start-guard"));
            return true;
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
    }

    /** The start failed and cleaned up after itself. */
    synchronized void startFailed() {
        done = true;
        notifyAll();
    }

    /** After a successful start: false if a shutdown began meanwhile and the start must be undone. */
    synchronized boolean proceedToHandOver() {
        if (exiting) return false;
        handingOver = true;
        return true;
    }

    /** The start has been undone. */
    synchronized void undone() {
        done = true;
        notifyAll();
    }

    private void onShutdown() {
        synchronized (this) {
            exiting = true;
            if (!handingOver) {
                long until = System.currentTimeMillis() + WAIT_MS;
                while (!done && System.currentTimeMillis() < until) {
                    try {
                        wait(WAIT_MS);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                return;
            }
        }
        // The main thread is about to exec the monitor: let it, and let the monitor learn
        // why the JVM was asked to exit.
        Libc.tgkill(mainThread, Libc.SIGTERM);
        try {
            Thread.sleep(WAIT_MS);
        } catch (InterruptedException ignored) {
            // exit
        }
    }

    /**
     * The signals caught so far, for the monitor. The calling thread must block signals first
     * (see {@link Libc#blockAsyncSignals}): any caught later is re-raised on it.
     */
    List<Integer> handOver() {
        synchronized (pending) {
            handedOver = true;
            return List.copyOf(pending);
        }
    }
}
