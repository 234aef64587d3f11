package brig.cli;

import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;

/**
 * Catches the signals a user or engine sends to `brig run` while the JVM is still starting the
 * container (the JVM would otherwise exit on SIGTERM and orphan it), so that the monitor can
 * deliver them once it has taken over.
 */
final class SignalRelay {
    private final List<Integer> pending = new ArrayList<>();

    private SignalRelay() {}

    static SignalRelay install() {
        SignalRelay r = new SignalRelay();
        for (String name : List.of("TERM", "INT", "HUP")) {
            Signal.handle(new Signal(name), s -> {
                synchronized (r.pending) {
                    r.pending.add(s.getNumber());
                }
            });
        }
        return r;
    }

    List<Integer> pending() {
        synchronized (pending) {
            return List.copyOf(pending);
        }
    }
}
